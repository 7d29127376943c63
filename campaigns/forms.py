"""The donate form: HTTP validation only; limits come from the checkout service."""

from __future__ import annotations

import re
import unicodedata

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from campaigns.errors import CheckoutError
from campaigns.models import DONATION_CURRENCIES, DonationIntent
from campaigns.services.checkout import donation_amount_check
from donors import normalise
from donors.normalise import PREFECTURES
from kyosei.money import CurrencyError, Money, format_money

COUNTRIES = [
    ("JP", _("Japan")),
    ("VN", _("Viet Nam")),
    ("PH", _("Philippines")),
    ("US", _("United States")),
    ("AU", _("Australia")),
    ("GB", _("United Kingdom")),
    ("DE", _("Germany")),
    ("FR", _("France")),
    ("KR", _("Korea")),
    ("TW", _("Taiwan")),
    ("OTHER", _("Other country")),
]


def preset_choices(page, currency: str, frequency: str) -> list[tuple[str, str]]:
    """(value in major units, label) of the campaign's suggested amounts."""
    if page is None:
        return []
    language = get_language()
    return [
        (str(m.major), format_money(m, language))
        for m in page.presets(currency, frequency)
    ]


def preset_table(page) -> dict[str, dict[str, list[dict[str, str]]]]:
    """Every currency's and frequency's choices, for the form's script."""
    return {
        currency: {
            frequency: [
                {"value": value, "label": label}
                for value, label in preset_choices(page, currency, frequency)
            ]
            for frequency in DonationIntent.Frequency.values
        }
        for currency in DONATION_CURRENCIES
    }


#: An amount as people type it, once NFKC has folded full-width digits: digits,
#: optionally grouped by thousands with commas, optionally with decimals. A
#: comma is never a decimal mark ("12,50" is refused, not read as 1250).
_AMOUNT_RE = re.compile(r"(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d+)?", re.ASCII)
_CURRENCY_SIGNS = str.maketrans("", "", "¥$€£₫₱ \u3000")


def no_control_characters(value: str) -> None:
    """One-line fields hold no control characters (NUL, tabs, line breaks …):
    they end up on receipts, in emails and in bank-style exports."""
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise forms.ValidationError(
            _("Please remove the control characters (such as line breaks)."),
            code="control_characters",
        )


class DonateForm(forms.Form):
    # Checked in clean(), not as a ChoiceField: a typed amount wins over a
    # choice left selected, whatever currency that choice was in.
    preset = forms.CharField(
        label=_("Amount"),
        required=False,
        max_length=20,
        widget=forms.RadioSelect,
    )
    amount = forms.CharField(
        label=_("Other amount"),
        max_length=20,
        required=False,
        help_text=_("Type your own amount, or leave empty to use the choice above."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    currency = forms.ChoiceField(
        label=_("Currency"),
        choices=[(c, c) for c in DONATION_CURRENCIES],
        initial="JPY",
    )
    frequency = forms.ChoiceField(
        label=_("How often"),
        choices=DonationIntent.Frequency.choices,
        initial=DonationIntent.Frequency.ONCE,
        widget=forms.RadioSelect,
    )
    cover_fees = forms.BooleanField(
        label=_("Add 3.6% to cover the card fee, so all of my gift goes to the work"),
        required=False,
    )
    family_name = forms.CharField(
        label=_("Family name"), max_length=100, validators=[no_control_characters]
    )
    given_name = forms.CharField(
        label=_("Given name"),
        max_length=100,
        required=False,
        validators=[no_control_characters],
    )
    # 254: what the donation intent and the donor record store (RFC 5321).
    email = forms.EmailField(label=_("Email"), max_length=254)
    country = forms.ChoiceField(label=_("Country"), choices=COUNTRIES, initial="JP")
    postal_code = forms.CharField(
        label=_("Postal code"),
        max_length=16,
        required=False,
        validators=[no_control_characters],
    )
    prefecture = forms.ChoiceField(
        label=_("Prefecture"),
        choices=[("", "—")] + [(p, p) for p in PREFECTURES],
        required=False,
    )
    region = forms.CharField(
        label=_("State / region (outside Japan)"),
        max_length=100,
        required=False,
        validators=[no_control_characters],
    )
    city = forms.CharField(
        label=_("City / ward"),
        max_length=100,
        required=False,
        validators=[no_control_characters],
    )
    address_line1 = forms.CharField(
        label=_("Address"),
        max_length=200,
        required=False,
        validators=[no_control_characters],
    )
    address_line2 = forms.CharField(
        label=_("Building, room"),
        max_length=200,
        required=False,
        validators=[no_control_characters],
    )
    anonymous_public = forms.BooleanField(
        label=_("Do not show my name on public pages or reports"), required=False
    )
    consent_updates = forms.BooleanField(
        label=_("Send me news about this work by email (you can stop at any time)"),
        required=False,
    )
    # Honeypot: hidden from people by CSS; bots fill every field.
    website = forms.CharField(required=False, label=_("Leave this field empty"))

    def __init__(self, *args, page=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The choices follow the currency and frequency the donor picked (the
        # script swaps them in the browser; without it, they follow on reload).
        data = self.data if self.is_bound else {}
        currency = data.get("currency")
        if currency not in DONATION_CURRENCIES:
            currency = "JPY"
        frequency = data.get("frequency")
        if frequency not in DonationIntent.Frequency.values:
            frequency = DonationIntent.Frequency.ONCE
        choices = preset_choices(page, currency, frequency)
        self.fields["preset"].widget.choices = choices
        self.preset_amounts = {Money.of(value, currency) for value, _label in choices}
        self.preset_currency = currency
        if not self.is_bound and choices:
            self.initial.setdefault("preset", choices[min(1, len(choices) - 1)][0])

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))

    def _is_preset(self, raw: str, currency: str | None) -> bool:
        """One of the choices shown (``50`` or ``50.00`` for US$50)."""
        if currency != self.preset_currency or not _AMOUNT_RE.fullmatch(raw):
            return False
        try:
            return Money.of(raw.replace(",", ""), currency) in self.preset_amounts
        except (ValueError, TypeError, ArithmeticError, CurrencyError):
            return False

    def clean_amount(self) -> str:
        """``5000``, ``5,000``, ``５，０００``, ``¥5,000`` or ``12.50`` → the digits;
        anything else (a sign, an exponent, NaN, other scripts' digits) is an
        error here, before any limit is checked."""
        typed = unicodedata.normalize("NFKC", self.cleaned_data["amount"])
        raw = typed.translate(_CURRENCY_SIGNS).strip()
        if not raw:
            return ""
        if not _AMOUNT_RE.fullmatch(raw):
            raise forms.ValidationError(
                _("Please enter an amount like 5000 or 12.50."), code="amount"
            )
        return raw.replace(",", "")

    def clean_country(self) -> str:
        country = self.cleaned_data["country"]
        return "ZZ" if country == "OTHER" else country  # ZZ: unknown region

    def clean(self):
        data = super().clean()
        currency = data.get("currency")
        raw = data.get("amount") or data.get("preset")
        if self.has_error("amount"):
            pass  # a mistyped amount never falls back to the choice above it
        elif not raw:
            self.add_error("amount", _("Please choose or enter an amount."))
        elif not data.get("amount") and not self._is_preset(raw, currency):
            self.add_error(
                "preset", _("Please choose one of the amounts shown, or type your own.")
            )
        elif currency:
            try:
                money = Money.of(raw, currency)
            except (ValueError, TypeError, ArithmeticError, CurrencyError):
                # e.g. cents typed for a currency without them (¥12.50)
                self.add_error(
                    "amount", _("Please enter an amount like 5000 or 12.50.")
                )
            else:
                try:
                    donation_amount_check(money)
                except CheckoutError as exc:
                    self.add_error("amount", str(exc))
                else:
                    data["money"] = money
        if data.get("country") == "JP":
            postal = data.get("postal_code", "")
            if postal:
                normalised = normalise.postal_code_jp(postal)
                if len(normalised) != 8:
                    self.add_error(
                        "postal_code", _("A Japanese postal code has 7 digits.")
                    )
                else:
                    data["postal_code"] = normalised
        return data
