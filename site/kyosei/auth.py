"""django-allauth adapter: Kyosei's sign-in rules."""

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Staff accounts are created by an admin. Donor self-service sign-up is
        # opened by donors.portal.adapter.PortalAccountAdapter (ACCOUNT_ADAPTER).
        return False
