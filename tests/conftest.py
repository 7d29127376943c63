import os

import pytest
from django.conf import settings

ON_POSTGRES = "postgres" in settings.DATABASES["default"]["ENGINE"] or os.environ.get(
    "DATABASE_URL", ""
).startswith("postg")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "postgres" in item.keywords and not ON_POSTGRES:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL)"))
        if "worker" in item.keywords and not os.environ.get("CELERY_BROKER_URL"):
            item.add_marker(pytest.mark.skip(reason="needs Redis (CELERY_BROKER_URL)"))


@pytest.fixture
def demo_core(db):
    """The core demo data: organisation profile, home pages, one user per role."""
    from kyosei import demo

    demo.seed()
    return demo
