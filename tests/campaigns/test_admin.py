"""Staff screens for online giving: permission matrix and the retry wiring."""

import pytest
from django.urls import NoReverseMatch, reverse

from campaigns import fake_stripe as fs
from campaigns.models import StripeEvent
from campaigns.services import stripe_events
from donors.models import Gift
from kyosei.money import Money
from kyosei.roles import Role
from tests.factories.campaigns import donation_intent
from tests.factories.users import staff_user

pytestmark = pytest.mark.django_db


def denied(response) -> bool:
    if response.status_code in (403, 404):
        return True
    return response.status_code == 302 and response["Location"] == reverse(
        "wagtailadmin_home"
    )


@pytest.fixture
def failed_event(on_commit, campaign, fake_stripe):
    intent = donation_intent(campaign)
    payload = fs.build_event(
        "checkout.session.completed",
        fs.checkout_session_obj(
            session_id=intent.checkout_session_id,
            intent_uuid=str(intent.uuid),
            money=Money.yen(3000),
        ),
    )
    fake_stripe.fail_with = 500
    with on_commit():
        event, _ = stripe_events.stripe_event_store(payload=payload)
    event.refresh_from_db()
    assert event.status == StripeEvent.Status.FAILED
    fake_stripe.fail_with = None
    return event


MATRIX = {
    Role.ADMIN: {"events", "event", "intents", "retry"},
    Role.FINANCE: {"events", "event", "intents", "retry"},
    Role.FUNDRAISER: {"events", "event", "intents"},
    Role.BOARD: set(),
    Role.CASEWORKER: set(),
    Role.EDITOR: set(),
}


@pytest.mark.parametrize("role", list(MATRIX))
def test_permission_matrix(client, failed_event, role):
    client.force_login(staff_user(role))
    urls = {
        "events": reverse("stripe_events:index"),
        "event": reverse("stripe_events:detail", args=[failed_event.pk]),
        "intents": reverse("donation_intents:index"),
    }
    for name, url in urls.items():
        response = client.get(url)
        if name in MATRIX[role]:
            assert response.status_code == 200, (role, name, response.status_code)
        else:
            assert denied(response), (role, name, response.status_code)
    response = client.post(reverse("stripe_events:retry", args=[failed_event.pk]))
    if "retry" in MATRIX[role]:
        assert response.status_code == 302
    else:
        assert denied(response), (role, "retry", response.status_code)
        failed_event.refresh_from_db()
        assert failed_event.status == StripeEvent.Status.FAILED


def test_event_detail_shows_payload_and_retry_button(client, failed_event):
    client.force_login(staff_user(Role.FINANCE))
    html = client.get(reverse("stripe_events:detail", args=[failed_event.pk])).content
    html = html.decode()
    assert failed_event.stripe_id in html
    assert "checkout.session.completed" in html
    assert reverse("stripe_events:retry", args=[failed_event.pk]) in html


def test_retry_from_admin_records_the_gift(client, on_commit, failed_event):
    client.force_login(staff_user(Role.FINANCE))
    with on_commit():
        client.post(reverse("stripe_events:retry", args=[failed_event.pk]))
    failed_event.refresh_from_db()
    assert failed_event.status == StripeEvent.Status.DONE
    assert Gift.objects.count() == 1


def test_no_add_edit_or_delete_screens():
    for name in ("add", "edit", "delete"):
        with pytest.raises(NoReverseMatch):
            reverse(f"stripe_events:{name}", args=[] if name == "add" else [1])
        with pytest.raises(NoReverseMatch):
            reverse(f"donation_intents:{name}", args=[] if name == "add" else [1])


def test_failed_payment_spike_alerts_once(client, mailoutbox, settings):
    settings.ADMINS = [("Ops", "ops@example.org")]
    now = 1_800_000_000.0
    raised = [
        stripe_events.payment_failure_note(now=now + i)
        for i in range(stripe_events.SPIKE_THRESHOLD + 3)
    ]
    assert raised.count(True) == 1
    assert raised.index(True) == stripe_events.SPIKE_THRESHOLD - 1
    assert [m.to for m in mailoutbox] == [["ops@example.org"]]
    client.force_login(staff_user(Role.FUNDRAISER))
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    assert "failed online payments" in html or "決済" in html
