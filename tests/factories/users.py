import time

import factory
from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save()
            EmailAddress.objects.get_or_create(
                user=obj, email=obj.email, defaults={"verified": True, "primary": True}
            )


def staff_user(role: str, *, mfa: bool = True, **kwargs):
    """A user in ``role``'s group, with a TOTP authenticator unless ``mfa=False``."""
    user = UserFactory(
        username=kwargs.pop("username", f"{role.lower()}-staff"), **kwargs
    )
    user.groups.add(Group.objects.get(name=role))
    # The admin speaks the user's chosen language; assertions read English.
    from wagtail.users.models import UserProfile

    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    if mfa:
        give_totp(user)
    return user


def give_totp(user) -> str:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    assert Authenticator.objects.filter(
        user=user, type=Authenticator.Type.TOTP
    ).exists()
    return secret


def mfa_login(client, user) -> None:
    """Sign ``user`` in on the test ``client`` as allauth records a login that
    passed the second factor: password, then TOTP, in this session.

    ``force_login`` alone leaves no record of how the session authenticated; a
    staff-MFA check that asks whether *this session* passed MFA reads allauth's
    record, so staff tests sign in through here. The user needs an authenticator
    (``staff_user`` gives one) for the record to be true to life.
    """
    client.force_login(user)
    session = client.session
    now = time.time()
    authenticator = Authenticator.objects.filter(user=user).first()
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "at": now, "username": user.get_username()},
        {
            "method": "mfa",
            "at": now,
            "type": authenticator.type if authenticator else "totp",
            **({"id": authenticator.pk} if authenticator else {}),
        },
    ]
    # allauth keeps the records only for the user they were written for.
    session["account_authentication_methods_user"] = user._meta.pk.value_to_string(user)
    session.save()
