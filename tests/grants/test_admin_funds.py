"""Fund staff screens: permissions per role, balances equal the ledger, movements,
create/edit for Finance."""

import datetime as dt

import pytest
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from grants.models import Fund, LedgerEntry
from kyosei.roles import Role
from tests.factories.donors import DonorFactory, FundFactory, make_gift
from tests.factories.users import staff_user

pytestmark = pytest.mark.django_db


def denied(response) -> bool:
    if response.status_code == 403:
        return True
    # Wagtail turns PermissionDenied into a redirect to the dashboard + message.
    return response.status_code == 302 and response["Location"] == reverse(
        "wagtailadmin_home"
    )


@pytest.fixture
def fund():
    fund = FundFactory(name="シェルター基金", code="shelter")
    donor = DonorFactory(family_name="山田", given_name="花子")
    make_gift(donor=donor, amount=7000, fund=fund)
    return fund


def _urls(fund):
    return {
        "list": reverse("funds:index"),
        "detail": reverse("funds:detail", args=[fund.pk]),
        "add": reverse("funds:add"),
        "edit": reverse("funds:edit", args=[fund.pk]),
    }


READ = {"list", "detail"}
MATRIX = {
    Role.ADMIN: {"list", "detail", "add", "edit"},
    Role.FINANCE: {"list", "detail", "add", "edit"},
    Role.FUNDRAISER: READ,
    # The board reviews fund balances (grants.view_fund): no personal data there.
    Role.BOARD: READ,
    Role.CASEWORKER: set(),
    Role.EDITOR: set(),
}


@pytest.mark.parametrize("role", list(MATRIX))
def test_fund_permission_matrix(client, fund, role):
    client.force_login(staff_user(role))
    for name, url in _urls(fund).items():
        response = client.get(url)
        if name in MATRIX[role]:
            assert response.status_code == 200, (role, name, response.status_code)
        else:
            assert denied(response), (role, name, response.status_code)


def test_fund_list_balances_equal_ledger(client, fund):
    make_gift(amount=1234, fund=fund)
    client.force_login(staff_user(Role.FINANCE))
    response = client.get(reverse("funds:index"))
    rows = {f.pk: f.balance for f in response.context["object_list"]}
    ledger = LedgerEntry.objects.filter(fund=fund).aggregate(t=Sum("amount_yen"))["t"]
    assert rows[fund.pk] == ledger == 8234
    assert "¥8,234" in response.content.decode()


def test_fund_detail_movements_without_donor_names(client, fund):
    from donors.models import Gift
    from donors.services.gifts import gift_refund

    gift_refund(gift=Gift.objects.get(fund=fund), amount_yen=2000, reason="x")
    client.force_login(staff_user(Role.BOARD))
    today = timezone.localdate()
    response = client.get(
        reverse("funds:detail", args=[fund.pk]),
        {"start": (today - dt.timedelta(days=30)).isoformat(), "end": today},
    )
    html = response.content.decode()
    summary = response.context["summary"]
    assert (summary["increase"].amount, summary["decrease"].amount) == (7000, 2000)
    assert summary["closing"].amount == 5000
    assert len(response.context["movements"]) == 2
    assert "山田" not in html and "花子" not in html


def test_finance_creates_and_closes_fund(client):
    client.force_login(staff_user(Role.FINANCE))
    response = client.post(
        reverse("funds:add"),
        {
            "code": "rice-2026",
            "name": "お米基金",
            "kind": "restricted",
            "purpose": "Rice",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    fund = Fund.objects.get(code="rice-2026")
    response = client.post(
        reverse("funds:edit", args=[fund.pk]),
        {
            "code": "changed",  # disabled field: ignored
            "name": "お米基金",
            "kind": "restricted",
            "closed_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 302
    fund.refresh_from_db()
    assert fund.code == "rice-2026" and fund.closed_on == timezone.localdate()


def test_fund_cannot_close_in_future(client, fund):
    client.force_login(staff_user(Role.FINANCE))
    response = client.post(
        reverse("funds:edit", args=[fund.pk]),
        {
            "name": fund.name,
            "kind": fund.kind,
            "closed_on": (timezone.localdate() + dt.timedelta(days=3)).isoformat(),
        },
    )
    assert response.status_code == 200
    fund.refresh_from_db()
    assert fund.closed_on is None


@pytest.mark.parametrize(
    "query,message",
    [
        ({"start": "0001-01-01"}, "Enter a date between 1900-01-01 and 2999-12-31."),
        ({"end": "9999-12-31"}, "Enter a date between 1900-01-01 and 2999-12-31."),
        ({"start": "99999-01-01"}, "Enter a valid date."),
        ({"start": "0000-00-00"}, "Enter a valid date."),
        ({"from": "99999-01-01", "end": "0000-00-00"}, "Enter a valid date."),
        ({"start": "2026-04-01", "end": "2025-04-01"}, "ends before it starts"),
    ],
)
def test_fund_detail_bad_period_is_a_form_error_not_a_crash(
    client, fund, query, message
):
    client.force_login(staff_user(Role.FINANCE))
    response = client.get(reverse("funds:detail", args=[fund.pk]), query)
    assert response.status_code == 400
    assert message in response.content.decode()
    # the business year is shown meanwhile
    assert response.context["summary"]["closing"].amount == 7000
