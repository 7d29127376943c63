import os
import time

import django.test
import pytest
from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.account.internal.flows.login import (
    _AUTHENTICATION_METHODS_USER_SESSION_KEY,
)
from allauth.account.internal.userkit import user_id_to_str
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings

from kyosei.auth import SECOND_FACTOR_TYPES

ON_POSTGRES = "postgres" in settings.DATABASES["default"]["ENGINE"] or os.environ.get(
    "DATABASE_URL", ""
).startswith("postg")


# PostgreSQL flushes a transactional test's tables with TRUNCATE, which the
# ledger's trigger refuses (grants 0007): the trigger is lifted just before the
# flush (_ledger_truncatable_for_flush) and put back just after (the hook below).
LEDGER_TRUNCATE_TRIGGER = (
    "ALTER TABLE grants_ledgerentry {} TRIGGER grants_ledger_no_truncate"
)


def _flushes_tables(item) -> bool:
    marker = item.get_closest_marker("django_db")
    return bool(marker and marker.kwargs.get("transaction")) or (
        "transactional_db" in item.fixturenames
    )


@pytest.fixture(autouse=True)
def _ledger_truncatable_for_flush(request):
    if not (ON_POSTGRES and _flushes_tables(request.node)):
        yield
        return
    request.getfixturevalue("transactional_db")  # so this teardown runs first
    yield
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(LEDGER_TRUNCATE_TRIGGER.format("DISABLE"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    result = yield
    # After the last test the test database is already gone.
    if nextitem is None or not _flushes_tables(item):
        return result
    from django.db import connection
    from pytest_django.plugin import blocking_manager_key

    with item.config.stash[blocking_manager_key].unblock():
        if ON_POSTGRES:
            with connection.cursor() as cursor:
                cursor.execute(LEDGER_TRUNCATE_TRIGGER.format("ENABLE"))
        marker = item.get_closest_marker("django_db")
        if marker is not None and marker.kwargs.get("transaction"):
            # The tables were flushed: restore the migrations' data, committed.
            from tests.restore import restore_migration_data

            restore_migration_data()
    return result


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "postgres" in item.keywords and not ON_POSTGRES:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL)"))
        if "worker" in item.keywords and not os.environ.get("CELERY_BROKER_URL"):
            item.add_marker(pytest.mark.skip(reason="needs Redis (CELERY_BROKER_URL)"))


@pytest.fixture(autouse=True)
def _own_cache_namespace():
    import uuid

    from kyosei import settings_test

    settings_test.CACHE_NAMESPACE[0] = uuid.uuid4().hex
    yield


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    """Each test gets its own private storage folder (receipt PDFs, uploads) and
    its own public media folder, so that no test sees another's files."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.KYOSEI_PRIVATE_ROOT = tmp_path / "private"
    return settings.KYOSEI_PRIVATE_ROOT


@pytest.fixture(autouse=True)
def _english_by_default():
    """Assertions read the English source text; Japanese is the site's default, so
    tests that check Japanese pages ask for it (see ``client_ja``)."""
    from django.utils import translation

    with translation.override("en"):
        yield


class Client(django.test.Client):
    """``force_login`` stands for a completed allauth sign-in.

    Staff reach the back office only from a session whose sign-in used the second
    factor (kyosei.middleware.StaffMFAMiddleware reads allauth's authentication
    records). A forced login of a user with a factor enrolled therefore records
    the password and the factor as allauth's flow would; ``mfa=False`` leaves
    them out (a session that skipped the factor). tests/kyosei/test_auth.py and
    test_login_paths.py sign in through the real forms.
    """

    def force_login(self, user, backend=None, *, mfa: bool = True):
        super().force_login(user, backend)
        if not mfa or not is_mfa_enabled(user, types=list(SECOND_FACTOR_TYPES)):
            return
        session = self.session
        now = time.time()
        session[AUTHENTICATION_METHODS_SESSION_KEY] = [
            {"method": "password", "at": now, "username": user.get_username()},
            {"method": "mfa", "at": now, "type": "totp"},
        ]
        session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = user_id_to_str(user)
        session.save()


@pytest.fixture
def client():
    """A test client whose browser prefers English (a Japanese one: ``client_ja``)."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def client_ja():
    return Client(HTTP_ACCEPT_LANGUAGE="ja")


@pytest.fixture
def demo_core(db):
    """The core demo data: organisation profile, home pages, one user per role."""
    from kyosei import demo

    demo.seed()
    return demo
