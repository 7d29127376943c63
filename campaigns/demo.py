"""Demo campaigns: an index and two campaign pages under the Japanese home page,
with English and Vietnamese translations. Idempotent (keyed by slug)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from wagtail.models import Locale, Page

from campaigns.models import CampaignIndexPage, CampaignPage
from grants import demo as grants_demo
from grants.models import Fund
from kyosei.models import HomePage

INDEX_SLUG = "campaigns"

INDEX_TITLES = {
    "ja": ("寄付キャンペーン", "<p>いま支援を必要としている活動です。</p>"),
    "en": ("Campaigns", "<p>The work that needs your support now.</p>"),
    "vi": ("Chiến dịch quyên góp", "<p>Những hoạt động đang cần sự hỗ trợ.</p>"),
}

CAMPAIGNS = [
    {
        "slug": "shelter-2026",
        "fund": grants_demo.SHELTER,
        "goal_yen": 3_000_000,
        "days": 90,
        "text": {
            "ja": (
                "ベトナム人技能実習生のためのシェルター",
                "職場を離れざるを得なかった技能実習生に、安全な部屋と食事、"
                "就労相談を届けます。",
            ),
            "en": (
                "A shelter for Vietnamese technical interns",
                "A safe room, meals and job advice for interns who had to leave "
                "their workplace.",
            ),
            "vi": (
                "Nhà tạm lánh cho thực tập sinh kỹ năng Việt Nam",
                "Phòng ở an toàn, bữa ăn và tư vấn việc làm cho thực tập sinh "
                "phải rời nơi làm việc.",
            ),
        },
    },
    {
        "slug": "medical-2026",
        "fund": grants_demo.MEDICAL,
        "goal_yen": 2_000_000,
        "days": 60,
        "text": {
            "ja": (
                "在留資格のない方の医療相談",
                "保険証のない方の受診を支え、通訳と通院同行を行います。",
            ),
            "en": (
                "Medical help for people without residence status",
                "We help people without health insurance see a doctor, with an "
                "interpreter and someone to go with them.",
            ),
            "vi": (
                "Hỗ trợ y tế cho người không có tư cách lưu trú",
                "Giúp người không có bảo hiểm y tế đi khám, có phiên dịch và "
                "người đi cùng.",
            ),
        },
    },
]


@transaction.atomic
def seed() -> None:
    grants_demo.seed()
    home = HomePage.objects.filter(locale__language_code="ja").first()
    if home is None:
        return
    index = _index(home)
    today = timezone.localdate()
    for spec in CAMPAIGNS:
        _campaign(index, spec, today)
    _translate(index)


def _publish(page: Page) -> None:
    page.save_revision().publish()


def _index(home: HomePage) -> CampaignIndexPage:
    existing = CampaignIndexPage.objects.child_of(home).filter(slug=INDEX_SLUG).first()
    if existing:
        return existing
    title, intro = INDEX_TITLES["ja"]
    index = CampaignIndexPage(title=title, slug=INDEX_SLUG, intro=intro)
    home.add_child(instance=index)
    _publish(index)
    return index


def _campaign(index: CampaignIndexPage, spec: dict, today: dt.date) -> CampaignPage:
    existing = CampaignPage.objects.child_of(index).filter(slug=spec["slug"]).first()
    if existing:
        return existing
    title, summary = spec["text"]["ja"]
    page = CampaignPage(
        title=title,
        slug=spec["slug"],
        summary=summary,
        body=[("paragraph", f"<p>{summary}</p>")],
        goal_yen=spec["goal_yen"],
        start_date=today - dt.timedelta(days=14),
        end_date=today + dt.timedelta(days=spec["days"]),
        fund=Fund.objects.get(code=spec["fund"]),
    )
    index.add_child(instance=page)
    _publish(page)
    return page


def _translate(index: CampaignIndexPage) -> None:
    """en/vi copies of the index and campaigns, under each language's home page."""
    by_slug = {spec["slug"]: spec for spec in CAMPAIGNS}
    for code in ("en", "vi"):
        locale = Locale.objects.filter(language_code=code).first()
        if locale is None or not HomePage.objects.filter(locale=locale).exists():
            continue
        if not index.has_translation(locale):
            translated = index.copy_for_translation(locale, copy_parents=False)
            translated.title, translated.intro = INDEX_TITLES[code]
            _publish(translated)
        for page in CampaignPage.objects.child_of(index):
            if page.has_translation(locale) or page.slug not in by_slug:
                continue
            copy = page.copy_for_translation(locale)
            copy.title, copy.summary = by_slug[page.slug]["text"][code]
            copy.body = [("paragraph", f"<p>{copy.summary}</p>")]
            _publish(copy)
