"""Concurrent delivery on PostgreSQL: real transactions, two threads, one gift."""

import threading

import pytest
from django.db import connection
from django.test import Client

from campaigns import fake_stripe as fs
from campaigns.models import StripeEvent
from campaigns.services.stripe_events import stripe_event_process
from donors.models import Gift
from grants.models import LedgerEntry
from tests.factories.campaigns import donation_intent, post_event

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def campaign(transactional_db):
    """Rebuilt per test: a transactional test's flush removes the migrations' rows
    (root page, default site) that the shared fixtures rely on."""
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import Locale, Page, Site

    from kyosei.models import HomePage
    from tests.factories.campaigns import campaign_page

    ContentType.objects.clear_cache()
    locale, _ = Locale.objects.get_or_create(language_code="ja")
    root = Page.get_first_root_node() or Page.add_root(
        instance=Page(title="Root", slug="root", locale=locale)
    )
    home = HomePage.objects.filter(locale=locale).first()
    if home is None:
        home = root.add_child(instance=HomePage(title="ホーム", slug="home"))
    if not Site.objects.filter(is_default_site=True).exists():
        Site.objects.create(hostname="testserver", root_page=home, is_default_site=True)
    return campaign_page()


def _race(*targets):
    barrier = threading.Barrier(len(targets))
    results, errors = [], []

    def run(target):
        try:
            barrier.wait()
            results.append(target())
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


def _session(intent):
    return fs.checkout_session_obj(
        session_id=intent.checkout_session_id,
        intent_uuid=str(intent.uuid),
        money=intent.money,
        suffix=intent.uuid.hex[:16],
    )


def test_same_event_delivered_twice_at_once_gives_one_gift(fake_stripe, campaign):
    intent = donation_intent(campaign)
    payload = fs.build_event("checkout.session.completed", _session(intent))
    statuses = _race(
        lambda: post_event(Client(), payload).content,
        lambda: post_event(Client(), payload).content,
    )
    assert sorted(statuses) == [b"duplicate", b"ok"]
    assert StripeEvent.objects.get().status == StripeEvent.Status.DONE
    assert Gift.objects.count() == 1
    assert LedgerEntry.objects.filter(fund=campaign.fund).count() == 1


def test_two_events_for_one_charge_processed_at_once(fake_stripe, campaign):
    intent = donation_intent(campaign)
    session = _session(intent)
    first = fs.build_event("checkout.session.completed", session)
    second = fs.build_event("checkout.session.async_payment_succeeded", session)
    _race(
        lambda: post_event(Client(), first).status_code,
        lambda: post_event(Client(), second).status_code,
    )
    assert set(StripeEvent.objects.values_list("status", flat=True)) == {"done"}
    assert Gift.objects.count() == 1
    assert LedgerEntry.objects.filter(fund=campaign.fund).count() == 1


def test_two_workers_processing_the_same_event(fake_stripe, campaign, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # store only; we play both workers
    from campaigns.services.stripe_events import stripe_event_store
    from kyosei.celery import app

    app.conf.task_always_eager = True
    intent = donation_intent(campaign)
    payload = fs.build_event("checkout.session.completed", _session(intent))
    event, _ = stripe_event_store(payload=payload)
    _race(
        lambda: stripe_event_process(event_pk=event.pk).status,
        lambda: stripe_event_process(event_pk=event.pk).status,
    )
    assert Gift.objects.count() == 1
    event.refresh_from_db()
    assert event.status == StripeEvent.Status.DONE
    assert event.attempts == 1
