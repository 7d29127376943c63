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


def test_seed_demo_is_idempotent(capsys):
    call_command("seed_demo")
    first = _counts()
    call_command("seed_demo")
    assert _counts() == first
    out = capsys.readouterr().out
    assert "admin@demo.kyosei.invalid" in out and "DEMO ONLY" in out


def test_seed_if_empty_skips_when_users_exist(capsys):
    call_command("seed_demo")
    before = _counts()
    call_command("seed_demo", "--if-empty")
    assert _counts() == before
    assert "not seeding" in capsys.readouterr().out


def test_demo_creates_one_user_per_role():
    from django.contrib.auth import get_user_model

    from kyosei.roles import Role

    call_command("seed_demo")
    User = get_user_model()
    for role in Role:
        assert User.objects.filter(groups__name=role.value).count() == 1
