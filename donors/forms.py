"""Staff forms for donors, households, gifts and refunds.

Forms validate what was typed; the views hand the cleaned data to the services
(``donor_create`` / ``donor_update`` / ``consent_record`` / ``gift_record`` /
``gift_refund``), which hold the rules. Help texts are written for staff who are
not database people.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.widgets import AdminDateInput

from donors.models import Consent, Donor, Gift, Household
from donors.selectors import donor_current_consents
from donors.services.donors import DONOR_FIELDS
from grants.models import Fund
from kyosei.money import CURRENCY_EXPONENTS, Money

CONSENT_FIELDS = {
    f"consent_{channel}": (channel, label) for channel, label in Consent.Channel.choices
}

DONOR_FORM_FIELDS = [
    "kind",
    "donor_type",
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "organisation_name",
    "organisation_name_kana",
    "latin_name",
    "email",
    "email_secondary",
    "phone",
    "country",
    "postal_code",
    "prefecture",
    "city",
    "address_line1",
    "address_line2",
    "region",
    "preferred_language",
    "is_officer",
    "officer_since",
    "officer_until",
    "household",
    "source",
    "tags",
    "notes",
    "needs_review",
]


DONOR_SECTIONS = [
    (_("Who"), ["kind", "donor_type"]),
    (
        _("Name"),
        [
            "family_name",
            "given_name",
            "family_name_kana",
            "given_name_kana",
            "organisation_name",
            "organisation_name_kana",
            "latin_name",
        ],
    ),
    (_("Contact"), ["email", "email_secondary", "phone", "preferred_language"]),
    (
        _("Address"),
        [
            "country",
            "postal_code",
            "prefecture",
            "city",
            "address_line1",
            "address_line2",
            "region",
        ],
    ),
    (
        _("Consents"),
        [
            "consent_email",
            "consent_post",
            "consent_phone",
            "consent_public_name",
            "consent_source",
        ],
    ),
    (_("Officer (役員)"), ["is_officer", "officer_since", "officer_until"]),
    (_("Household, tags and notes"), ["household", "tags", "source", "notes"]),
    (_("Review"), ["needs_review"]),
]


class DonorForm(WagtailAdminModelForm):
    """Create / edit a donor. Consents are extra fields: on save, each answer that
    changed is recorded (with today's date and the source typed here)."""

    consent_email = forms.BooleanField(
        label=_("Agrees to newsletters and appeals by email"), required=False
    )
    consent_post = forms.BooleanField(
        label=_("Agrees to letters by post"), required=False
    )
    consent_phone = forms.BooleanField(label=_("Agrees to phone calls"), required=False)
    consent_public_name = forms.BooleanField(
        label=_("Agrees to have their name published in reports"), required=False
    )
    consent_source = forms.CharField(
        label=_("Where these answers came from"),
        required=False,
        max_length=100,
        help_text=_(
            "For example “paper form at the 2025 charity bazaar” or “phone call "
            "with the donor”. Needed when you change a consent."
        ),
    )

    class Meta:
        model = Donor
        fields = DONOR_FORM_FIELDS
        help_texts = {
            "kind": _("A person, or an organisation such as a company or a temple."),
            "donor_type": _(
                "Used for tax receipts and the certified-NPO test. Most people are "
                "“Individual”."
            ),
            "family_name": _("In kanji if the donor has a Japanese name, e.g. 山田."),
            "given_name": _("e.g. 花子."),
            "family_name_kana": _(
                "Reading in katakana, e.g. ヤマダ. Hiragana or half-width kana are "
                "converted for you. Bank transfers are matched on this."
            ),
            "given_name_kana": _("Reading in katakana, e.g. ハナコ."),
            "organisation_name": _("Only for organisations: the official name."),
            "latin_name": _(
                "The name as the donor writes it in Latin letters, with accents "
                "(e.g. Nguyễn Văn An). Used for donors abroad and in English."
            ),
            "phone": _("Any format: 090-1234-5678, ０９０１２３４５６７８ or +81 90…"),
            "country": _("Two-letter country code: JP for Japan, VN, US, PH…"),
            "postal_code": _(
                "Japanese postal code, e.g. 160-0022. The prefecture and city are "
                "filled in for you."
            ),
            "region": _("Only for addresses outside Japan: state or province."),
            "is_officer": _(
                "Tick if the donor is or was a director or auditor (役員) of our "
                "NPO. This matters for the certified-NPO application."
            ),
            "household": _(
                "People who share a livelihood (生計を一にする) count as one donor "
                "in the certified-NPO test. Create the household first."
            ),
            "tags": _("Short labels to find groups of donors, e.g. “monthly”."),
            "notes": _("Internal notes. Never shown to the donor."),
            "needs_review": _(
                "Ticked for donors created automatically (e.g. from a bank "
                "transfer). Untick once you have checked the details."
            ),
        }
        widgets = {
            "officer_since": AdminDateInput,
            "officer_until": AdminDateInput,
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    class Media:
        js = ["donors/js/postal_autofill.js"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "household" in self.fields:
            self.fields["household"].queryset = Household.objects.order_by("name")
        if "postal_code" in self.fields:
            self.fields["postal_code"].widget.attrs.update(
                {
                    "data-postal-autofill": reverse("donors:postal_lookup"),
                    "autocomplete": "postal-code",
                }
            )
        self.current_consents = (
            donor_current_consents(self.instance) if self.instance.pk else {}
        )
        for name, (channel, _label) in CONSENT_FIELDS.items():
            if name in self.fields and channel in self.current_consents:
                self.fields[name].initial = self.current_consents[channel].granted

    def sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        """Fields grouped under headings for the template; unknown names skipped."""
        return [
            (heading, [self[name] for name in names if name in self.fields])
            for heading, names in DONOR_SECTIONS
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.changed_consents() and not cleaned.get("consent_source"):
            self.add_error(
                "consent_source",
                _("Say where the consent answers came from."),
            )
        return cleaned

    def changed_consents(self) -> dict[str, bool]:
        """{channel: granted} for answers that differ from what is on record.

        For a new donor, only the ticked boxes count (no answer is not a "no").
        """
        changed = {}
        for name, (channel, _label) in CONSENT_FIELDS.items():
            if name not in self.cleaned_data:
                continue
            value = bool(self.cleaned_data[name])
            current = self.current_consents.get(channel)
            if current is None:
                if value:
                    changed[channel] = value
            elif current.granted != value:
                changed[channel] = value
        return changed

    def service_fields(self) -> dict[str, Any]:
        """The donor fields to pass to ``donor_create`` / ``donor_update``."""
        return {
            name: self.cleaned_data[name]
            for name in self._meta.fields
            if name in DONOR_FIELDS and name in self.cleaned_data
        }

    def tag_names(self) -> list[str]:
        return list(self.cleaned_data.get("tags") or [])


class HouseholdForm(WagtailAdminModelForm):
    class Meta:
        model = Household
        fields = ["name", "notes"]
        help_texts = {
            "name": _("A name staff will recognise, e.g. “山田家 (Setagaya)”."),
            "notes": _("Internal notes. Add members from each donor's edit form."),
        }


CURRENCY_CHOICES = [(code, code) for code in CURRENCY_EXPONENTS]
ENTRY_METHODS = [
    (Gift.Method.CASH, Gift.Method.CASH.label),
    (Gift.Method.BANK_TRANSFER, Gift.Method.BANK_TRANSFER.label),
    (Gift.Method.POSTAL_TRANSFER, Gift.Method.POSTAL_TRANSFER.label),
    (Gift.Method.IN_KIND, Gift.Method.IN_KIND.label),
    (Gift.Method.OTHER, Gift.Method.OTHER.label),
]


class GiftEntryForm(forms.Form):
    """A gift received by hand, transfer or in kind. Card gifts arrive online."""

    donor = forms.ModelChoiceField(
        queryset=Donor.objects.filter(merged_into__isnull=True),
        required=False,
        label=_("Donor"),
        help_text=_(
            "Leave empty only when nobody knows who gave (e.g. a collection box)."
        ),
    )
    kind = forms.ChoiceField(
        choices=Gift.Kind.choices,
        initial=Gift.Kind.DONATION,
        label=_("What kind of money"),
        help_text=_(
            "Membership fees are not donations on the tax receipt; choose the "
            "right one."
        ),
    )
    method = forms.ChoiceField(
        choices=ENTRY_METHODS,
        initial=Gift.Method.BANK_TRANSFER,
        label=_("How it was received"),
    )
    received_on = forms.DateField(
        label=_("Date received"),
        widget=AdminDateInput,
        help_text=_("The day the money arrived (bank statement date for transfers)."),
    )
    currency = forms.ChoiceField(
        choices=CURRENCY_CHOICES, initial="JPY", label=_("Currency")
    )
    amount = forms.DecimalField(
        label=_("Amount"),
        min_value=Decimal("0"),
        help_text=_(
            "In the currency above, as written on the cheque or statement: 10000 "
            "for ¥10,000, 25.50 for US$25.50. For in-kind gifts: the market value "
            "in yen."
        ),
    )
    amount_yen = forms.IntegerField(
        label=_("Yen actually received"),
        required=False,
        min_value=1,
        help_text=_(
            "Only for foreign currency: the yen that reached our account after "
            "conversion."
        ),
    )
    fee_yen = forms.IntegerField(
        label=_("Bank fee (yen)"),
        required=False,
        min_value=0,
        initial=0,
        help_text=_("Transfer fee deducted by the bank, if any."),
    )
    fund = forms.ModelChoiceField(
        queryset=Fund.objects.filter(closed_on__isnull=True),
        label=_("Fund"),
        help_text=_(
            "Where the money goes. Use a restricted fund only when the donor asked "
            "for the gift to be used for that purpose."
        ),
    )
    in_kind_description = forms.CharField(
        label=_("What was given (in-kind)"),
        required=False,
        max_length=300,
        help_text=_("e.g. “20 kg rice, 10 blankets”."),
    )
    anonymous_public = forms.BooleanField(
        label=_("Do not name the donor on public pages"), required=False
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, donor_widget: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if donor_widget is not None:
            self.fields["donor"].widget = donor_widget()
        self.fields["received_on"].initial = timezone.localdate()
        general = Fund.objects.filter(code="general").first()
        if general is not None:
            self.fields["fund"].initial = general.pk

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        currency, amount = cleaned.get("currency"), cleaned.get("amount")
        if currency and amount is not None:
            try:
                cleaned["money"] = Money.of(amount, currency)
            except ValueError:
                self.add_error(
                    "amount",
                    _("%(c)s amounts have at most %(n)s decimal places.")
                    % {"c": currency, "n": CURRENCY_EXPONENTS[currency]},
                )
            if currency != "JPY" and not cleaned.get("amount_yen"):
                self.add_error(
                    "amount_yen",
                    _("Enter the yen that reached our account for a %(c)s gift.")
                    % {"c": currency},
                )
            if currency == "JPY":
                cleaned["amount_yen"] = None
        if cleaned.get("kind") == Gift.Kind.IN_KIND or (
            cleaned.get("method") == Gift.Method.IN_KIND
        ):
            if not cleaned.get("in_kind_description"):
                self.add_error(
                    "in_kind_description", _("Describe what was given in kind.")
                )
        received_on = cleaned.get("received_on")
        if received_on and received_on > timezone.localdate():
            self.add_error("received_on", _("This date is in the future."))
        return cleaned

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "donor": data.get("donor"),
            "kind": data["kind"],
            "amount": data["money"],
            "amount_yen": data.get("amount_yen"),
            "fee_yen": data.get("fee_yen") or 0,
            "received_on": data["received_on"],
            "method": data["method"],
            "fund": data["fund"],
            "in_kind_description": data.get("in_kind_description", ""),
            "anonymous_public": data.get("anonymous_public", False),
            "notes": data.get("notes", ""),
        }


class RefundForm(forms.Form):
    amount_yen = forms.IntegerField(
        label=_("Yen to refund"),
        required=False,
        min_value=1,
        help_text=_("Leave empty to refund everything not refunded yet."),
    )
    refunded_on = forms.DateField(
        label=_("Date of the refund"), widget=AdminDateInput, required=False
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        help_text=_(
            "Required. e.g. “Donor gave twice by mistake” — finance and auditors "
            "read this."
        ),
    )

    def __init__(self, *args: Any, gift: Gift, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gift = gift
        self.fields["refunded_on"].initial = timezone.localdate()

    def clean_refunded_on(self) -> dt.date | None:
        day = self.cleaned_data.get("refunded_on")
        if day and day > timezone.localdate():
            raise forms.ValidationError(_("This date is in the future."))
        return day


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=AdminDateInput)
    end = forms.DateField(label=_("To"), required=False, widget=AdminDateInput)
