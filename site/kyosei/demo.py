"""Demo data for the core: a fictional NPO, its home page in three languages and
one staff user per role. Every step is idempotent (get-or-create)."""

from __future__ import annotations

import datetime as dt

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from wagtail.models import Locale, Site

from kyosei.audit import audit_log
from kyosei.models import (
    CertificationStatus,
    DemoMFAWaiver,
    HomePage,
    OrdinanceDesignation,
    OrganisationProfile,
    TransferAccount,
)
from kyosei.roles import Role

DEMO_PASSWORD = "kyosei-demo-2026"
DEMO_EMAIL_DOMAIN = "demo.kyosei.invalid"

ORG_NAME_JA = "特定非営利活動法人 ひだまり共生ネット（デモ・架空団体）"
ORG_NAME_EN = "Hidamari Kyosei Network (demo, fictional NPO)"

HOME_CONTENT = {
    "ja": (
        "ひだまり共生ネットへようこそ",
        "<p>在留資格のない方への医療相談、ベトナム人技能実習生・特定技能の方への"
        "シェルターと就労支援、家賃・光熱費の緊急支援を行っています。"
        "（このサイトはデモです。団体もデータも架空です。）</p>",
    ),
    "en": (
        "Welcome to Hidamari Kyosei Network",
        "<p>We offer medical consultations for people without residence status, "
        "shelter and job support for Vietnamese workers, and emergency help with "
        "rent and utilities. (This is a demo site: the organisation and its data "
        "are fictional.)</p>",
    ),
    "vi": (
        "Chào mừng đến với Hidamari Kyosei Network",
        "<p>Chúng tôi tư vấn y tế cho người không có tư cách lưu trú, hỗ trợ chỗ ở "
        "và việc làm cho lao động Việt Nam, và hỗ trợ khẩn cấp tiền nhà, điện "
        "nước. (Đây là trang demo: tổ chức và dữ liệu đều là hư cấu.)</p>",
    ),
}


def demo_logins() -> list[tuple[str, str, str]]:
    """(role, login email, password) for every demo staff user."""
    return [(role.value, _email(role), DEMO_PASSWORD) for role in Role]


def _email(role: Role) -> str:
    return f"{role.value.lower()}@{DEMO_EMAIL_DOMAIN}"


@transaction.atomic
def seed() -> None:
    profile = _seed_profile()
    _seed_home_pages()
    _seed_users()
    if not _already_logged(profile):
        audit_log(profile, "kyosei.demo.seeded", user=None, data={"part": "core"})


def _already_logged(profile: OrganisationProfile) -> bool:
    from kyosei.audit import audit_entries

    return audit_entries(profile).filter(action="kyosei.demo.seeded").exists()


def _seed_profile() -> OrganisationProfile:
    site = Site.objects.get(is_default_site=True)
    profile = OrganisationProfile.for_site(site)
    if profile.legal_name_ja:
        return profile
    profile.legal_name_ja = ORG_NAME_JA
    profile.legal_name_en = ORG_NAME_EN
    profile.corporate_number = "3010405000005"
    profile.postal_code = "160-0022"
    profile.address_ja = "東京都新宿区新宿九丁目9番9号 デモビル3階"
    profile.address_en = "3F Demo Bldg, 9-9-9 Shinjuku, Shinjuku-ku, Tokyo 160-0022"
    profile.representative_title = "理事長"
    profile.representative_name = "日向 ひかり"
    profile.phone = "03-0000-0000"
    profile.email = f"info@{DEMO_EMAIL_DOMAIN}"
    profile.fiscal_year_start_month = 4
    profile.founded_on = dt.date(2015, 6, 1)
    profile.certification_status = CertificationStatus.CERTIFIED
    profile.certification_authority = "東京都"
    profile.certification_notice_number = "デモ生文第0001号"
    profile.certification_date = dt.date(2022, 10, 1)
    profile.certification_valid_from = dt.date(2022, 10, 1)
    profile.certification_valid_until = dt.date(2027, 9, 30)
    profile.save()
    OrdinanceDesignation.objects.create(
        profile=profile,
        municipality="東京都新宿区（デモ）",
        designated_on=dt.date(2023, 4, 1),
    )
    TransferAccount.objects.create(
        profile=profile,
        kind=TransferAccount.Kind.BANK,
        institution="デモ銀行",
        branch="新宿支店",
        account_type=TransferAccount.AccountType.ORDINARY,
        account_number="0000000",
        holder_name=ORG_NAME_JA,
        holder_kana="ﾄｸﾋ) ﾋﾀﾞﾏﾘｷﾖｳｾｲﾈﾂﾄ",
    )
    TransferAccount.objects.create(
        profile=profile,
        kind=TransferAccount.Kind.POSTAL,
        institution="ゆうちょ銀行",
        account_type=TransferAccount.AccountType.TRANSFER,
        account_number="00100-0-000000",
        holder_name=ORG_NAME_JA,
    )
    return profile


def _seed_home_pages() -> None:
    home = HomePage.objects.filter(locale__language_code="ja", depth=2).first()
    if home is None:
        return
    title, intro = HOME_CONTENT["ja"]
    if home.title != title:
        home.title, home.draft_title, home.intro = title, title, intro
        home.save_revision().publish()
    for code in ("en", "vi"):
        locale = Locale.objects.get(language_code=code)
        if home.get_translations().filter(locale=locale).exists():
            continue
        translated = home.copy_for_translation(locale)
        translated.title, translated.intro = HOME_CONTENT[code]
        translated.draft_title = translated.title
        translated.save_revision().publish()


def _seed_users() -> None:
    User = get_user_model()
    for role in Role:
        email = _email(role)
        user, created = User.objects.get_or_create(
            username=role.value.lower(),
            defaults={"email": email, "first_name": f"Demo {role.value}"},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
            user.groups.add(Group.objects.get(name=role.value))
        EmailAddress.objects.get_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        DemoMFAWaiver.objects.get_or_create(user=user)
