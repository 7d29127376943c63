"""Staff screens: the donor register download (view_gift + export_gift) and the
deletion-request task list (view / process_deletionrequest). Deny by default."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from donors.portal.models import DeletionRequest
from donors.portal.services import deletion_request_create
from kyosei.roles import Role
from tests.donors.portal.conftest import ADDRESS
from tests.factories.donors import DonorFactory, make_gift
from tests.factories.users import staff_user

pytestmark = pytest.mark.django_db

REGISTER = "/admin/donors/portal/register/"


def _denied(response) -> bool:
    # Wagtail's permission_denied redirects to the dashboard with a message
    return response.status_code in (302, 403) and (
        response.status_code == 403 or response["Location"] == "/admin/"
    )


@pytest.mark.parametrize("role", [Role.FUNDRAISER, Role.BOARD, Role.EDITOR])
def test_register_needs_view_and_export_gift(client, role):
    client.force_login(staff_user(role))
    assert _denied(client.get(REGISTER))


def test_finance_downloads_register(client):
    giver = DonorFactory(**ADDRESS)
    make_gift(donor=giver, amount=3_000, received_on=dt.date(2025, 5, 1))
    client.force_login(staff_user(Role.FINANCE))
    page = client.get(REGISTER, {"fiscal_year": 2025, "format": "xlsx"})
    assert page.status_code == 200
    assert page.context["register"].counted_donors == 1
    response = client.get(
        REGISTER, {"fiscal_year": 2025, "format": "xlsx", "download": "1"}
    )
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "FY2025.xlsx" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content))["2025"]
    assert list(sheet.iter_rows(values_only=True))[2][3] == 3000
    csv = client.get(REGISTER, {"fiscal_year": 2025, "format": "csv", "download": "1"})
    assert csv.content.startswith(b"\xef\xbb\xbf")


def test_deletion_requests_need_permission(client):
    donor = DonorFactory()
    request = deletion_request_create(donor=donor, user=None)
    list_url = reverse("donor_portal_admin:deletion_requests")
    detail_url = reverse("donor_portal_admin:deletion_request", args=[request.pk])
    client.force_login(staff_user(Role.BOARD))
    assert _denied(client.get(list_url))
    assert _denied(client.post(detail_url, {"action": "process"}))
    request.refresh_from_db()
    assert request.status == DeletionRequest.Status.OPEN


def test_fundraiser_processes_a_request(client):
    donor = DonorFactory(family_name="田中")
    request = deletion_request_create(donor=donor, user=None)
    client.force_login(staff_user(Role.FUNDRAISER))
    page = client.get(reverse("donor_portal_admin:deletion_requests"))
    assert page.status_code == 200 and "田中" in page.content.decode()
    detail_url = reverse("donor_portal_admin:deletion_request", args=[request.pk])
    assert client.get(detail_url).status_code == 200
    response = client.post(detail_url, {"action": "process"})
    assert response.status_code == 302
    request.refresh_from_db()
    donor.refresh_from_db()
    assert request.status == DeletionRequest.Status.DONE
    assert donor.family_name == ""
