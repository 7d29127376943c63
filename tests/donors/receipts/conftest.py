import datetime as dt

import pytest

from kyosei.models import CertificationStatus, organisation_profile
from tests.factories.donors import DonorFactory

CERTIFIED_ON = dt.date(2026, 4, 1)


@pytest.fixture(autouse=True)
def english_messages():
    """Service error messages are matched in their English source text."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def receipt_media(settings, tmp_path):
    """Receipt PDFs go to a per-test media folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _ensure_site():
    # A transactional test flushes the Wagtail site the migrations created.
    from django.conf import settings
    from wagtail.models import Locale, Page, Site

    if Site.objects.exists():
        return
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
    Locale.objects.get_or_create(language_code=settings.LANGUAGE_CODE)
    root = Page.get_first_root_node() or Page.add_root(
        instance=Page(title="Root", slug="root")
    )
    Site.objects.create(hostname="localhost", root_page=root, is_default_site=True)


@pytest.fixture
def profile(db):
    """An uncertified NPO with a name and address."""
    _ensure_site()
    profile = organisation_profile()
    profile.legal_name_ja = "特定非営利活動法人 ひだまり共生ネット"
    profile.legal_name_en = "Hidamari Kyosei Network"
    profile.postal_code = "169-0073"
    profile.address_ja = "東京都新宿区百人町1-2-3"
    profile.address_en = "1-2-3 Hyakunincho, Shinjuku-ku, Tokyo 169-0073"
    profile.representative_name = "共生 太郎"
    profile.email = "office@example.org"
    profile.save()
    return profile


@pytest.fixture
def certified(profile):
    """The same NPO, certified (認定) from 2026-04-01."""
    profile.certification_status = CertificationStatus.CERTIFIED
    profile.certification_authority = "東京都"
    profile.certification_notice_number = "東京都生文第1234号"
    profile.certification_date = CERTIFIED_ON
    profile.save()
    return profile


def jp_donor(**kwargs):
    defaults = {
        "family_name": "山田",
        "given_name": "花子",
        "postal_code": "160-0023",
        "prefecture": "東京都",
        "city": "新宿区",
        "address_line1": "西新宿2-8-1",
    }
    return DonorFactory(**{**defaults, **kwargs})


def overseas_donor(**kwargs):
    defaults = {
        "family_name": "",
        "given_name": "",
        "family_name_kana": "",
        "given_name_kana": "",
        "latin_name": "Nguyễn Văn An",
        "country": "VN",
        "city": "Hà Nội",
        "address_line1": "12 Phố Huế",
        "preferred_language": "vi",
    }
    return DonorFactory(**{**defaults, **kwargs})


class PdfText(str):
    """Text from pdftotext; ``in`` ignores whitespace, since text may wrap."""

    def __contains__(self, item: object) -> bool:
        flat = "".join(str(self).split())
        return "".join(str(item).split()) in flat


def pdf_text(data: bytes, tmp_path) -> PdfText:
    """The text of a PDF as poppler's pdftotext extracts it."""
    import shutil
    import subprocess

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "check.pdf"
    path.write_bytes(data)
    return PdfText(
        subprocess.run(
            ["pdftotext", str(path), "-"], check=True, capture_output=True, text=True
        ).stdout
    )


class FlakyBackend:
    """An email backend that fails the first ``FAILURES`` sends (SMTP down)."""

    FAILURES = 0
    calls = 0

    def __init__(self, *args, **kwargs):
        from django.core.mail.backends.locmem import EmailBackend

        self._inner = EmailBackend(*args, **kwargs)

    def send_messages(self, messages):
        import smtplib

        type(self).calls += 1
        if type(self).calls <= type(self).FAILURES:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return self._inner.send_messages(messages)

    def open(self):
        return True

    def close(self):
        return None
