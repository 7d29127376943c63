"""django-allauth adapter: Kyosei's sign-in rules."""

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Staff accounts are created by an admin; donor self-service accounts
        # arrive with the donor portal.
        return False
