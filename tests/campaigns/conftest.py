import pytest
import stripe

from campaigns import stripe_gateway
from campaigns.fake_stripe import FakeStripeHTTPClient
from tests.factories.campaigns import WEBHOOK_SECRET, campaign_page


@pytest.fixture(autouse=True)
def _stripe_settings(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_kyosei"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.KYOSEI_DEMO = False
    # No cache.clear(): each test has its own cache namespace (tests/conftest.py),
    # and clearing a shared Redis would wipe other workers' tests mid-run.
    yield


@pytest.fixture
def fake_stripe():
    """The local fake Stripe API behind a real StripeClient; records requests."""
    fake = FakeStripeHTTPClient()
    client = stripe.StripeClient("sk_test_kyosei", http_client=fake)
    with stripe_gateway.using_client(client):
        yield fake


@pytest.fixture
def campaign(demo_core):
    return campaign_page()


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """POST a signed event to the webhook and run what it queued after commit
    (the test transaction never commits; Celery runs eagerly)."""
    from tests.factories.campaigns import post_event

    def _post(payload, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return post_event(client, payload, **kwargs)

    return _post


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _ledger_triggers():
    from importlib import import_module

    return import_module("grants.migrations.0002_append_only_general_fund_roles")


@pytest.fixture
def flushable_ledger(transactional_db):
    """SQLite flushes with DELETE, which the ledger's append-only trigger refuses
    (PostgreSQL truncates). Lift the trigger for the flush after a transactional
    test; the flush's own post_migrate signal puts it back straight after."""
    yield
    from django.db import connection
    from django.db.models.signals import post_migrate

    if connection.vendor != "sqlite":
        return

    def restore(**kwargs):
        post_migrate.disconnect(restore, dispatch_uid="campaigns-ledger-trigger")
        with connection.cursor() as cursor:
            for statement in _ledger_triggers().SQLITE_FORWARD:
                cursor.execute(statement)

    with connection.cursor() as cursor:
        for statement in _ledger_triggers().SQLITE_BACKWARD:
            cursor.execute(statement)
    post_migrate.connect(restore, weak=False, dispatch_uid="campaigns-ledger-trigger")
