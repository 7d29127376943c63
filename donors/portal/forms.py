"""Portal forms: validation only; the views call the services."""

from __future__ import annotations

from allauth.account.forms import SignupForm
from django import forms
from django.contrib.auth.hashers import make_password
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from donors import normalise
from donors.models import Consent, Donor
from kyosei.money import currency_exponent

INDIVIDUAL_FIELDS = [
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "latin_name",
]
ORGANISATION_FIELDS = ["organisation_name", "organisation_name_kana", "latin_name"]
ADDRESS_FIELDS = [
    "country",
    "postal_code",
    "prefecture",
    "city",
    "address_line1",
    "address_line2",
    "region",
    "phone",
    "preferred_language",
]


class PortalSignupForm(SignupForm):
    """Sign-up: the same answer for every well-formed email; the email decides.

    Only the email an existing donor gave us, with no portal account yet, becomes
    an account (allauth's sign-up; the address is verified by allauth before the
    account can sign in, and the portal links the account to the donor only then,
    ``donor_portal_link``). Any other address — unknown, or already an account —
    takes allauth's enumeration-prevention path: no account is created, the same
    "check your email" page is shown, and the email itself says what happened
    (``PortalAccountAdapter.send_account_already_exists_mail``). Both paths hash
    the password and look up the same tables, so neither the page nor the time
    it takes tells whether the address belongs to a donor.
    """

    def clean_email(self):
        # allauth: normalises, and flags an address that already has an account
        # (ACCOUNT_PREVENT_ENUMERATION) instead of saying so.
        email = super().clean_email()
        is_donor = Donor.objects.filter(
            email_key=normalise.email(email),
            merged_into__isnull=True,
            user__isnull=True,
        ).exists()
        if not is_donor:
            self.account_already_exists = True
        return email

    def try_save(self, request):
        if self.account_already_exists:
            # The account path hashes the password (set_password); do the same
            # work here so the answer takes as long.
            make_password(self.cleaned_data.get("password1"))
        return super().try_save(request)


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Donor
        fields = [*INDIVIDUAL_FIELDS, *ORGANISATION_FIELDS, *ADDRESS_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        hidden = (
            INDIVIDUAL_FIELDS
            if self.instance.kind == Donor.Kind.ORGANISATION
            else ORGANISATION_FIELDS
        )
        for name in hidden:
            if name != "latin_name":
                del self.fields[name]
        self.fields["country"].help_text = _(
            "Two-letter country code, e.g. JP, VN, US."
        )

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields}


class PreferencesForm(forms.Form):
    def __init__(self, *args, current: dict[str, bool], **kwargs):
        super().__init__(*args, **kwargs)
        for channel, label in Consent.Channel.choices:
            self.fields[channel] = forms.BooleanField(
                label=label, required=False, initial=current.get(channel, False)
            )

    def changed_channels(self, current: dict[str, bool]) -> dict[str, bool]:
        return {
            channel: value
            for channel, value in self.cleaned_data.items()
            if value != current.get(channel, False)
        }


class RecurringAmountForm(forms.Form):
    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["amount"] = forms.DecimalField(
            label=_("New amount"),
            min_value=1,
            max_digits=12,
            decimal_places=currency_exponent(currency),
            help_text=_("In %(currency)s.") % {"currency": currency},
        )


class DeletionRequestForm(forms.Form):
    confirm = forms.BooleanField(
        label=_(
            "I understand: my personal data will be removed; records of my gifts "
            "and receipts are kept as the law requires."
        )
    )
    reason = forms.CharField(
        label=_("Anything you want to tell us (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


class ReissueForm(forms.Form):
    REASONS = {
        "details_changed": _("My name or address changed"),
        "lost": _("I lost the receipt"),
        "other": _("Other"),
    }
    reason = forms.ChoiceField(
        label=_("Why do you need a new receipt?"), choices=list(REASONS.items())
    )

    def reason_text(self) -> str:
        # Staff read this in English in the audit trail, whatever the donor's language.
        with override("en"):
            return (
                f"Requested by the donor: {self.REASONS[self.cleaned_data['reason']]}"
            )
