import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from kyosei.models import (
    CertificationStatus,
    OrganisationProfile,
    validate_corporate_number,
)


def test_corporate_number_check_digit():
    validate_corporate_number("3010405000005")  # the demo number
    validate_corporate_number("7000012050002")  # 国税庁 itself
    with pytest.raises(ValidationError):
        validate_corporate_number("1000012050002")
    with pytest.raises(ValidationError):
        validate_corporate_number("12345")


def _profile(**kwargs):
    defaults = dict(legal_name_ja="テスト", fiscal_year_start_month=4)
    defaults.update(kwargs)
    return OrganisationProfile(**defaults)


def test_fiscal_year_april_start():
    p = _profile()
    assert p.fiscal_year_of(dt.date(2026, 3, 31)) == 2025
    assert p.fiscal_year_of(dt.date(2026, 4, 1)) == 2026
    assert p.fiscal_year_bounds(2025) == (dt.date(2025, 4, 1), dt.date(2026, 3, 31))


def test_fiscal_year_january_start():
    p = _profile(fiscal_year_start_month=1)
    assert p.fiscal_year_of(dt.date(2026, 1, 1)) == 2026
    assert p.fiscal_year_bounds(2026) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))


def test_certified_only_from_certification_date():
    p = _profile(
        certification_status=CertificationStatus.CERTIFIED,
        certification_date=dt.date(2024, 10, 1),
        certification_valid_until=dt.date(2029, 9, 30),
    )
    assert not p.is_certified_on(dt.date(2024, 9, 30))
    assert p.is_certified_on(dt.date(2024, 10, 1))
    assert not p.is_certified_on(dt.date(2029, 10, 1))
    assert not _profile().is_certified_on(dt.date(2025, 1, 1))


def test_certified_profile_needs_notice_details():
    p = _profile(certification_status=CertificationStatus.CERTIFIED)
    with pytest.raises(ValidationError):
        p.clean()
