import pytest
from django.apps import apps
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def _counts():
    return {
        m._meta.label: m.objects.count()
        for m in apps.get_models()
        if not m._meta.proxy and m._meta.label != "sessions.Session"
    }


def test_seed_demo_is_idempotent_and_prints_logins(capsys):
    """One test on purpose: the full demo (~2,000 gifts) takes a while to build."""
    from django.contrib.auth import get_user_model

    from kyosei.roles import Role

    call_command("seed_demo")
    first = _counts()
    call_command("seed_demo")
    assert _counts() == first
    call_command("seed_demo", "--if-empty")
    assert _counts() == first
    out = capsys.readouterr().out
    assert "admin@demo.kyosei.invalid" in out and "DEMO ONLY" in out
    assert "not seeding" in out
    User = get_user_model()
    for role in Role:
        assert User.objects.filter(groups__name=role.value).count() == 1
