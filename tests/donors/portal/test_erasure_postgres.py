"""Erasure against concurrent writes, on PostgreSQL with real transactions.

The project's lock order is donation intent → donor → gift → fund. A webhook
for the donor being erased either finishes first (the erasure then cleans what
it wrote) or waits for the erasure and records its gift on the nameless donor;
neither deadlocks, and no personal data comes back.
"""

from __future__ import annotations

import threading
import time

import pytest
import stripe
from django.db import connection, transaction

from campaigns import fake_stripe as fs
from campaigns import stripe_gateway
from campaigns.fake_stripe import FakeStripeHTTPClient
from campaigns.models import DonationIntent, StripeEvent
from campaigns.services.stripe_events import stripe_event_process
from donors.models import Donor, Gift
from donors.portal.services import deletion_request_create, deletion_request_process
from kyosei.roles import Role
from tests.donors.portal.test_erasure import (
    BILLING,
    EMAIL,
    FAMILY,
    GIVEN,
    KEPT,
    NEEDLES,
    OLD_LINE1,
    PHONE,
    personal_data_hits,
)
from tests.factories.campaigns import WEBHOOK_SECRET, donation_intent
from tests.factories.donors import DonorFactory
from tests.factories.users import staff_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _stripe(settings, tmp_path):
    settings.STRIPE_SECRET_KEY = "sk_test_kyosei"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.KYOSEI_DEMO = False
    settings.MEDIA_ROOT = tmp_path / "media"
    fake = FakeStripeHTTPClient()
    with stripe_gateway.using_client(stripe.StripeClient("sk_x", http_client=fake)):
        yield fake


@pytest.fixture
def campaign(transactional_db):
    """Rebuilt per test: a transactional test's flush removes the migrations'
    rows (root page, default site) the campaign page needs."""
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


def _pending_payment(campaign):
    """A donor who asked to be deleted, and a paid checkout whose event is
    stored but not processed yet (its payload names the donor)."""
    donor = DonorFactory(
        family_name=FAMILY,
        given_name=GIVEN,
        email=EMAIL,
        phone=PHONE,
        postal_code="165-0032",
        address_line1=OLD_LINE1,
    )
    intent = donation_intent(
        campaign, email=EMAIL, family_name=FAMILY, given_name=GIVEN
    )
    session = fs.checkout_session_obj(
        session_id=intent.checkout_session_id,
        intent_uuid=str(intent.uuid),
        money=intent.money,
        suffix=intent.uuid.hex[:16],
    )
    session["customer_details"] = BILLING
    payload = fs.build_event("checkout.session.completed", session)
    with transaction.atomic():  # store only: the test plays the worker
        event = StripeEvent.objects.create(
            stripe_id=payload["id"],
            type=payload["type"],
            payload=payload,
            object_ref=session["id"],
        )
    request = deletion_request_create(donor=donor, user=None)
    return donor, intent, event, request


def _in_thread(target, errors: list) -> threading.Thread:
    def run():
        try:
            target()
        except Exception as exc:  # noqa: BLE001 - asserted by the test
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _assert_erased(donor, intent, event):
    donor.refresh_from_db()
    intent.refresh_from_db()
    event.refresh_from_db()
    assert (donor.family_name, donor.email, donor.search_text) == ("", "", "")
    assert (intent.family_name, intent.email, intent.donor_id) == ("", "", donor.pk)
    assert event.status == StripeEvent.Status.DONE, event.error
    assert Gift.objects.get().donor_id == donor.pk  # one gift, on the erased donor
    assert Donor.objects.count() == 1  # none created from the form's data
    unexpected = {h for h in personal_data_hits(NEEDLES) if h[:2] not in KEPT}
    assert not unexpected, sorted(unexpected)


def test_erasure_locks_the_intent_before_the_donor(campaign):
    """A webhook holding the donation intent (as ``_record`` does) makes the
    erasure wait before it locks the donor row: the fixed lock order."""
    donor, intent, event, request = _pending_payment(campaign)
    staff = staff_user(Role.FUNDRAISER)
    holding, release = threading.Event(), threading.Event()
    errors: list[Exception] = []

    def webhook_holds_intent():
        with transaction.atomic():
            DonationIntent.objects.select_for_update().get(pk=intent.pk)
            holding.set()
            release.wait(10)

    holder = _in_thread(webhook_holds_intent, errors)
    assert holding.wait(10)
    eraser = _in_thread(
        lambda: deletion_request_process(deletion_request=request, user=staff),
        errors,
    )
    time.sleep(0.5)
    assert eraser.is_alive()  # waiting for the intent
    with transaction.atomic():  # the donor row is free: no lock taken out of order
        Donor.objects.select_for_update(nowait=True).get(pk=donor.pk)
    release.set()
    holder.join(10)
    eraser.join(30)
    assert not errors, errors
    stripe_event_process(event_pk=event.pk)
    _assert_erased(donor, intent, event)


@pytest.mark.parametrize("first", ["webhook", "erasure"])
def test_webhook_and_erasure_at_once(campaign, first):
    """Both orders end the same: one gift on the nameless donor, nothing of the
    donor's data left but the receipt the law keeps."""
    donor, intent, event, request = _pending_payment(campaign)
    staff = staff_user(Role.FUNDRAISER)
    errors: list[Exception] = []
    barrier = threading.Barrier(2)

    def webhook():
        barrier.wait()
        if first == "erasure":
            time.sleep(0.05)
        stripe_event_process(event_pk=event.pk)

    def erasure():
        barrier.wait()
        if first == "webhook":
            time.sleep(0.05)
        deletion_request_process(deletion_request=request, user=staff)

    threads = [_in_thread(webhook, errors), _in_thread(erasure, errors)]
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    _assert_erased(donor, intent, event)
