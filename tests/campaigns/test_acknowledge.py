"""Each online gift is thanked exactly once, also when its task is lost or re-run."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from campaigns import fake_stripe as fs
from campaigns.services.acknowledge import gift_acknowledge, gifts_unacknowledged
from campaigns.tasks import acknowledge_pending
from donors.models import Gift
from tests.factories.campaigns import donation_intent

pytestmark = pytest.mark.django_db


def _gift(post, campaign, **intent_kwargs):
    intent = donation_intent(campaign, email="ack@example.jp", **intent_kwargs)
    session = fs.checkout_session_obj(
        session_id=intent.checkout_session_id,
        intent_uuid=str(intent.uuid),
        money=intent.money,
        mode="payment",
        suffix=intent.uuid.hex[:16],
    )
    assert post(fs.build_event("checkout.session.completed", session)).status_code
    return Gift.objects.get()


def test_recorded_gift_is_marked_thanked(post, fake_stripe, campaign):
    gift = _gift(post, campaign)
    assert gift.acknowledged_at is not None
    assert len(mail.outbox) == 1


def test_running_the_task_again_sends_nothing_more(post, fake_stripe, campaign):
    gift = _gift(post, campaign)
    assert gift_acknowledge(gift_pk=gift.pk) == "already"
    assert len(mail.outbox) == 1


def test_a_missing_gift_is_reported_not_raised(db):
    assert gift_acknowledge(gift_pk=987654) == "missing"


def test_failed_sending_releases_the_claim(post, fake_stripe, campaign, monkeypatch):
    gift = _gift(post, campaign)
    Gift.objects.filter(pk=gift.pk).update(acknowledged_at=None)
    mail.outbox.clear()

    def smtp_down(*args, **kwargs):
        raise ConnectionRefusedError("SMTP down")

    monkeypatch.setattr("campaigns.services.acknowledge.send_mail", smtp_down)
    with pytest.raises(ConnectionRefusedError):
        gift_acknowledge(gift_pk=gift.pk)
    gift.refresh_from_db()
    assert gift.acknowledged_at is None  # the retry will send it
    monkeypatch.undo()
    assert gift_acknowledge(gift_pk=gift.pk) == "thank-you"
    assert len(mail.outbox) == 1


def test_the_sweep_queues_gifts_whose_task_was_lost(post, fake_stripe, campaign):
    gift = _gift(post, campaign)
    mail.outbox.clear()
    # As if the worker died between the gift's commit and its task.
    old = timezone.now() - dt.timedelta(minutes=30)
    Gift.objects.filter(pk=gift.pk).update(acknowledged_at=None, created_at=old)
    assert gifts_unacknowledged() == [gift.pk]
    # Too recent (its own task may still be queued) or too old: left alone.
    assert gifts_unacknowledged(now=old + dt.timedelta(minutes=5)) == []
    assert gifts_unacknowledged(now=old + dt.timedelta(days=8)) == []
    assert acknowledge_pending() == 1
    assert len(mail.outbox) == 1
    assert gifts_unacknowledged() == []
    assert acknowledge_pending() == 0
    assert len(mail.outbox) == 1
