"""The reconciliation screen: who sees it, who may run it, what it shows."""

import datetime as dt

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from campaigns import fake_stripe as fs
from campaigns.models import ReconciliationRun
from campaigns.services.reconcile import stripe_reconcile
from kyosei.money import Money
from kyosei.roles import Role
from tests.campaigns.test_admin import denied
from tests.factories.users import staff_user

pytestmark = pytest.mark.django_db

MATRIX = {
    Role.ADMIN: {"index", "detail", "run"},
    Role.FINANCE: {"index", "detail", "run"},
    Role.FUNDRAISER: {"index", "detail"},
    Role.BOARD: set(),
    Role.CASEWORKER: set(),
    Role.EDITOR: set(),
}


@pytest.fixture
def run(fake_stripe, campaign):
    fake_stripe.charges = [fs.charge_obj(Money.yen(8000), charge_id="ch_missed_9")]
    return stripe_reconcile(since=timezone.now() - dt.timedelta(days=1))


@pytest.mark.parametrize("role", list(MATRIX))
def test_permission_matrix(client, run, role):
    client.force_login(staff_user(role))
    urls = {
        "index": reverse("reconciliation:index"),
        "detail": reverse("reconciliation:detail", args=[run.pk]),
        "run": reverse("reconciliation:run"),
    }
    for name, url in urls.items():
        response = client.get(url)
        if name in MATRIX[role]:
            assert response.status_code == 200, (role, name, response.status_code)
        else:
            assert denied(response), (role, name, response.status_code)
    before = ReconciliationRun.objects.count()
    response = client.post(reverse("reconciliation:run"), {"days": "2"})
    if "run" in MATRIX[role]:
        assert response.status_code == 302
        assert ReconciliationRun.objects.count() == before + 1  # eager Celery
        newest = ReconciliationRun.objects.first()
        assert newest.started_by_id is not None
    else:
        assert denied(response), (role, "run", response.status_code)
        assert ReconciliationRun.objects.count() == before


def test_detail_lists_the_missing_charge(client, run):
    client.force_login(staff_user(Role.FINANCE))
    index = client.get(reverse("reconciliation:index")).content.decode()
    assert "Needs attention" in index
    assert reverse("reconciliation:run") in index  # the "Run now" button
    html = client.get(reverse("reconciliation:detail", args=[run.pk])).content
    html = html.decode()
    assert "ch_missed_9" in html and "¥8,000" in html
    assert "Hourly (automatic)" in html


def test_run_now_checks_the_days_asked_for(client, fake_stripe, campaign):
    client.force_login(staff_user(Role.FINANCE))
    client.post(reverse("reconciliation:run"), {"days": "10"})
    run = ReconciliationRun.objects.get()
    assert (timezone.now() - run.since).days in (9, 10)
    client.post(reverse("reconciliation:run"), {"days": "999"})  # capped at 30
    assert (timezone.now() - ReconciliationRun.objects.first().since).days <= 30


def test_japanese_screen(client_ja, run):
    from wagtail.users.models import UserProfile

    user = staff_user(Role.FINANCE)
    UserProfile.objects.filter(user=user).update(preferred_language="ja")
    client_ja.force_login(user)
    html = client_ja.get(reverse("reconciliation:index")).content.decode()
    assert "要確認" in html


def test_no_add_edit_or_delete_screens():
    for name in ("add", "edit", "delete"):
        with pytest.raises(NoReverseMatch):
            reverse(f"reconciliation:{name}", args=[] if name == "add" else [1])
