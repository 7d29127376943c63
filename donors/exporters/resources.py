"""django-import-export resources for donors and gifts (CSV and XLSX).

Exports are plain: codes rather than labels (``bank_transfer``, ``member_dues``),
ISO dates, yen as integers, and a gift's original amount as an exact decimal
string in major units (``"12.34"`` USD, ``"10000"`` JPY) so that neither CSV nor
XLSX ever turns money into a float.

Imports never write models directly. :class:`GiftResource` records each new row
through :func:`donors.services.gifts.gift_record` (ledger entry and audit row
included) and never edits a recorded gift: a row whose gift already exists (by
``id`` or an external reference) is reported as skipped. :class:`DonorResource`
creates and updates donors through ``donor_create`` / ``donor_update``. A dry run
calls the same services inside the import's transaction and rolls it back, so a
dry run reports exactly what a real import would refuse.

Text a spreadsheet would run as a formula (``=HYPERLINK(…)`` typed as a name)
is exported with a leading apostrophe and imported without it
(:mod:`kyosei.spreadsheets`); numbers stay numbers.

These resources are used by management commands and the Wagtail admin; they are
deliberately not registered with the Django admin.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import InvalidOperation
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets
from import_export.results import RowResult
from wagtail.models import Page

from donors.errors import DonorError, GiftError
from donors.models import Consent, Donor, Gift, Household
from donors.services.donors import DONOR_FIELDS, donor_create, donor_update
from donors.services.gifts import EXTERNAL_REFS, gift_record
from grants.models import Fund
from kyosei.money import CurrencyError, Money
from kyosei.spreadsheets import csv_row, unescape_cell

DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d")


# -- widgets ------------------------------------------------------------------------


class DateWidget(widgets.DateWidget):
    """ISO dates out; ISO or ``2025/04/01`` in. Spreadsheet cells arrive as
    ``datetime`` (openpyxl) and are taken as their date."""

    def __init__(self) -> None:
        super().__init__(format=DATE_FORMATS[0])
        self.formats = DATE_FORMATS

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, str):
            value = value.strip()
        return super().clean(value, row=row, **kwargs)


class OptionalTextWidget(widgets.CharWidget):
    """Text where blank means ``None`` (unique external references)."""

    def clean(self, value, row=None, **kwargs):
        text = "" if value is None else unescape_cell(str(value).strip())
        return text or None


class TextWidget(widgets.CharWidget):
    """Text where blank means ``""``; numbers typed into a spreadsheet (phone,
    postal code) come back as text; the apostrophe an export put in front of
    formula-like text is taken off."""

    def clean(self, value, row=None, **kwargs):
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return unescape_cell(str(value).strip())


class IntWidget(widgets.IntegerWidget):
    """Whole numbers, exported as numbers (numeric cells in XLSX)."""

    def __init__(self) -> None:
        super().__init__(coerce_to_string=False)


class LookupWidget(widgets.ForeignKeyWidget):
    """A foreign key looked up by ``field``; a missing row is a clear row error."""

    def __init__(self, model, field: str = "pk", *, label: str) -> None:
        super().__init__(model, field)
        self.label = label

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, str):
            value = unescape_cell(value.strip())
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        try:
            return super().clean(value, row=row, **kwargs)
        except (ObjectDoesNotExist, ValueError, TypeError):
            raise ValueError(
                _("No %(what)s “%(value)s”.") % {"what": self.label, "value": value}
            ) from None


class FormulaSafeExport:
    """Resource mixin: every exported row goes through
    :func:`kyosei.spreadsheets.csv_row`, so a ``tablib.Dataset`` from
    ``export()`` is safe in any format it is written to.

    ``export_resource(obj, escape_formulas=False)`` gives the raw values, for a
    writer that escapes them its own way (the streaming XLSX writer in
    ``donors.exporters.files``).
    """

    def export_resource(self, instance, selected_fields=None, **kwargs):
        escape = kwargs.pop("escape_formulas", True)
        row = super().export_resource(instance, selected_fields, **kwargs)
        return csv_row(row) if escape else row


# -- gifts --------------------------------------------------------------------------

GIFT_COLUMNS = (
    "id",
    "donor_id",
    "donor_name",
    "kind",
    "amount",
    "currency",
    "amount_yen",
    "fee_yen",
    "refunded_yen",
    "received_on",
    "method",
    "fund",
    "status",
    "stripe_charge_id",
    "stripe_invoice_id",
    "import_fingerprint",
    "campaign_id",
)


def major_amount(gift: Gift) -> str:
    """The gift's original amount as an exact major-unit string: ``"12.34"``."""
    return str(Money(gift.amount, gift.currency).major)


class GiftResource(FormulaSafeExport, resources.ModelResource):
    """Gifts for accounting exports, and imports that only ever add gifts.

    ``GiftResource(user=staff_user)``: ``user`` is recorded as ``received_by`` and
    in the audit rows of gifts created by an import.

    Import rules: a row whose ``id`` or external reference (Stripe charge or
    invoice id, import fingerprint) is already recorded is skipped unchanged;
    gifts are not editable by import. A new row must be a received gift with
    nothing refunded (record refunds in Kyosei, with their date); without an
    external reference it gets a fingerprint derived from its content, so importing
    the same file twice adds each gift once.
    """

    id = fields.Field(
        attribute="id", column_name="id", widget=IntWidget(), readonly=True
    )
    donor_id = fields.Field(
        attribute="donor",
        column_name="donor_id",
        widget=LookupWidget(Donor, label="donor"),
    )
    donor_name = fields.Field(column_name="donor_name", readonly=True)
    kind = fields.Field(attribute="kind", column_name="kind", widget=TextWidget())
    amount = fields.Field(column_name="amount", readonly=True)
    currency = fields.Field(
        attribute="currency", column_name="currency", widget=TextWidget()
    )
    amount_yen = fields.Field(
        attribute="amount_yen", column_name="amount_yen", widget=IntWidget()
    )
    fee_yen = fields.Field(
        attribute="fee_yen", column_name="fee_yen", widget=IntWidget()
    )
    refunded_yen = fields.Field(
        attribute="refunded_yen", column_name="refunded_yen", widget=IntWidget()
    )
    received_on = fields.Field(
        attribute="received_on", column_name="received_on", widget=DateWidget()
    )
    method = fields.Field(attribute="method", column_name="method", widget=TextWidget())
    fund = fields.Field(
        attribute="fund",
        column_name="fund",
        widget=LookupWidget(Fund, "code", label="fund"),
    )
    status = fields.Field(attribute="status", column_name="status", widget=TextWidget())
    stripe_charge_id = fields.Field(
        attribute="stripe_charge_id",
        column_name="stripe_charge_id",
        widget=OptionalTextWidget(),
    )
    stripe_invoice_id = fields.Field(
        attribute="stripe_invoice_id",
        column_name="stripe_invoice_id",
        widget=OptionalTextWidget(),
    )
    import_fingerprint = fields.Field(
        attribute="import_fingerprint",
        column_name="import_fingerprint",
        widget=OptionalTextWidget(),
    )
    campaign_id = fields.Field(
        attribute="campaign",
        column_name="campaign_id",
        widget=LookupWidget(Page, label="campaign page"),
    )

    class Meta:
        model = Gift
        fields = GIFT_COLUMNS
        export_order = GIFT_COLUMNS
        import_id_fields = ["id"]
        clean_model_instances = False  # gift_record validates
        use_transactions = True
        skip_diff = True  # rows are new or skipped; there is nothing to diff
        chunk_size = 2000

    def __init__(self, *, user=None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.user = user
        self._already_recorded: set[int | None] = set()

    def import_data(self, dataset, *args, rollback_on_validation_errors=True, **kw):
        """As ``ModelResource.import_data``, but all or nothing by default: one
        invalid row rolls the whole file back, so the books never hold half an
        import."""
        return super().import_data(
            dataset,
            *args,
            rollback_on_validation_errors=rollback_on_validation_errors,
            **kw,
        )

    # -- export -------------------------------------------------------------------

    def get_queryset(self):
        return Gift.objects.select_related("donor", "fund").order_by(
            "received_on", "id"
        )

    def dehydrate_donor_name(self, gift: Gift) -> str:
        return gift.donor.display_name("ja") if gift.donor_id else ""

    def dehydrate_amount(self, gift: Gift) -> str:
        return major_amount(gift)

    # -- import -------------------------------------------------------------------

    def before_import(self, dataset, **kwargs):
        self._already_recorded = set()

    def get_instance(self, instance_loader, row):
        found = super().get_instance(instance_loader, row)
        if found is not None:
            return found
        for name in EXTERNAL_REFS:
            value = OptionalTextWidget().clean(row.get(name))
            if value:
                found = Gift.objects.filter(**{name: value}).first()
                if found is not None:
                    return found
        return None

    def import_instance(self, instance, row, **kwargs):
        if not instance._state.adding:
            return  # a recorded gift: skipped, never edited
        errors: dict[str, Any] = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        instance.currency = (instance.currency or "JPY").upper()
        try:
            money = Money.of(str(row.get("amount", "")).strip(), instance.currency)
        except CurrencyError:
            errors.setdefault("currency", []).append(
                _("Unknown currency “%(c)s”.") % {"c": instance.currency}
            )
        except (ValueError, TypeError, InvalidOperation):
            errors.setdefault("amount", []).append(
                _("“%(a)s” is not an amount in %(c)s (use e.g. 1000 or 12.34).")
                % {"a": row.get("amount", ""), "c": instance.currency}
            )
        else:
            instance.amount = money.amount
        if instance.status not in ("", None, Gift.Status.RECEIVED):
            errors.setdefault("status", []).append(
                _("A new gift is imported as received, not “%(s)s”.")
                % {"s": instance.status}
            )
        if instance.refunded_yen:
            errors.setdefault("refunded_yen", []).append(
                _(
                    "This new gift shows ¥%(r)s refunded: import it without the "
                    "refund, then record the refund with its date in Kyosei."
                )
                % {"r": f"{instance.refunded_yen:,}"}
            )
        for name, choices in (("kind", Gift.Kind), ("method", Gift.Method)):
            value = getattr(instance, name)
            if value and value not in choices.values:
                errors.setdefault(name, []).append(
                    _("Unknown %(name)s “%(value)s”; use one of: %(allowed)s.")
                    % {"name": name, "value": value, "allowed": ", ".join(choices)}
                )
        for name in ("kind", "method", "received_on", "fund"):
            present = getattr(instance, f"{name}_id" if name == "fund" else name)
            if not present and name not in errors:
                errors[name] = [_("This column is required.")]
        if errors:
            raise ValidationError(errors)
        if not any(getattr(instance, name) for name in EXTERNAL_REFS):
            instance.import_fingerprint = self.content_fingerprint(instance)

    @staticmethod
    def content_fingerprint(gift: Gift) -> str:
        """A key for a row without an external reference: same content, same key."""
        parts = [
            gift.donor_id or "",
            gift.kind,
            gift.amount,
            gift.currency,
            gift.amount_yen if gift.currency != "JPY" else "",
            gift.received_on.isoformat(),
            gift.method,
            gift.fund_id,
        ]
        digest = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
        return f"gift-import:{digest[:48]}"

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if not instance._state.adding:
            return True
        if import_validation_errors:
            return False
        return bool(
            instance.import_fingerprint
            and Gift.objects.filter(
                import_fingerprint=instance.import_fingerprint
            ).exists()
        )

    def save_instance(self, instance, is_create, row, **kwargs):
        if not is_create:
            return
        if self._is_dry_run(kwargs) and not self._is_using_transactions(kwargs):
            return  # nothing to roll back into: the service would write for real
        try:
            result = gift_record(
                donor=instance.donor,
                kind=instance.kind,
                amount=Money(instance.amount, instance.currency),
                amount_yen=instance.amount_yen,
                fee_yen=instance.fee_yen or 0,
                received_on=instance.received_on,
                method=instance.method,
                fund=instance.fund,
                campaign=instance.campaign,
                received_by=kwargs.get("user") or self.user,
                stripe_charge_id=instance.stripe_charge_id,
                stripe_invoice_id=instance.stripe_invoice_id,
                import_fingerprint=instance.import_fingerprint,
            )
        except GiftError as exc:
            raise ValidationError(str(exc)) from None
        instance.pk = result.gift.pk
        instance._state.adding = False
        if not result.created:  # a concurrent import recorded it first
            self._already_recorded.add(kwargs.get("row_number"))

    def save_m2m(self, instance, row, **kwargs):
        return  # gifts have no many-to-many fields

    def after_import_row(self, row, row_result, **kwargs):
        if kwargs.get("row_number") in self._already_recorded:
            row_result.import_type = RowResult.IMPORT_TYPE_SKIP

    def after_import(self, dataset, result, **kwargs):
        return  # gift_record allocates ids; no sequence to reset


# -- donors -------------------------------------------------------------------------

DONOR_COLUMNS = (
    "id",
    "display_name",
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
    "region",
    "city",
    "address_line1",
    "address_line2",
    "preferred_language",
    "is_officer",
    "officer_since",
    "officer_until",
    "household",
    "source",
    "tags",
    "consents",
    "notes",
)
_DONOR_TEXT = [
    c
    for c in DONOR_COLUMNS
    if c
    not in {
        "id",
        "display_name",
        "is_officer",
        "officer_since",
        "officer_until",
        "household",
        "tags",
        "consents",
    }
]


def consent_summary(donor: Donor) -> str:
    """Latest consent per channel: ``email: yes (2025-04-01, web form); …``."""
    latest: dict[str, Consent] = {}
    for consent in donor.consents.all():  # newest first (Meta.ordering)
        latest.setdefault(consent.channel, consent)
    parts = []
    for channel in Consent.Channel.values:
        consent = latest.get(channel)
        if consent is None:
            continue
        answer = "yes" if consent.granted else "no"
        source = f", {consent.source}" if consent.source else ""
        parts.append(f"{channel}: {answer} ({consent.recorded_on.isoformat()}{source})")
    return "; ".join(parts)


def split_tags(value: Any) -> list[str]:
    text = "" if value is None else str(value)
    return sorted({t.strip() for t in text.replace("、", ",").split(",") if t.strip()})


class DonorResource(FormulaSafeExport, resources.ModelResource):
    """Donors with every contact field, tags, household name and a consents
    summary. Imports go through ``donor_create`` / ``donor_update`` (normalised
    and audited); merged donors are not exported. ``household``, ``consents`` and
    ``display_name`` are export-only (change them in Kyosei).
    """

    id = fields.Field(
        attribute="id", column_name="id", widget=IntWidget(), readonly=True
    )
    display_name = fields.Field(column_name="display_name", readonly=True)
    is_officer = fields.Field(
        attribute="is_officer",
        column_name="is_officer",
        widget=widgets.BooleanWidget(),
    )
    officer_since = fields.Field(
        attribute="officer_since", column_name="officer_since", widget=DateWidget()
    )
    officer_until = fields.Field(
        attribute="officer_until", column_name="officer_until", widget=DateWidget()
    )
    household = fields.Field(
        attribute="household",
        column_name="household",
        widget=widgets.ForeignKeyWidget(Household, "name"),
        readonly=True,
    )
    tags = fields.Field(column_name="tags", readonly=True)
    consents = fields.Field(column_name="consents", readonly=True)

    class Meta:
        model = Donor
        fields = DONOR_COLUMNS
        export_order = DONOR_COLUMNS
        import_id_fields = ["id"]
        clean_model_instances = False  # donor_create / donor_update validate
        use_transactions = True
        skip_unchanged = True
        report_skipped = True
        chunk_size = 1000

    def __init__(self, *, user=None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.user = user
        for name in _DONOR_TEXT:
            self.fields[name].widget = TextWidget()

    def get_queryset(self):
        return (
            Donor.objects.filter(merged_into__isnull=True)
            .select_related("household")
            .prefetch_related("tags", "consents")
            .order_by("id")
        )

    def dehydrate_display_name(self, donor: Donor) -> str:
        return donor.display_name("ja")

    def dehydrate_tags(self, donor: Donor) -> str:
        return ", ".join(sorted(tag.name for tag in donor.tags.all()))

    def dehydrate_consents(self, donor: Donor) -> str:
        return consent_summary(donor)

    # -- import -------------------------------------------------------------------

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors or instance._state.adding:
            return False
        if "tags" in row and split_tags(row["tags"]) != sorted(original.tags.names()):
            return False
        return super().skip_row(instance, original, row, import_validation_errors)

    def _changed_fields(self, instance, row) -> dict[str, Any]:
        names = {
            field.attribute
            for field in self.get_import_fields()
            if field.attribute in DONOR_FIELDS and field.column_name in row
        }
        return {name: getattr(instance, name) for name in sorted(names)}

    def save_instance(self, instance, is_create, row, **kwargs):
        if self._is_dry_run(kwargs) and not self._is_using_transactions(kwargs):
            return
        user = kwargs.get("user") or self.user
        tags = split_tags(row["tags"]) if "tags" in row else None
        values = self._changed_fields(instance, row)
        try:
            if is_create:
                donor = donor_create(user=user, tags=tags, **values)
            else:
                donor = donor_update(donor=instance, user=user, tags=tags, **values)
        except DonorError as exc:
            raise ValidationError(str(exc)) from None
        instance.pk = donor.pk
        instance._state.adding = False

    def save_m2m(self, instance, row, **kwargs):
        return  # tags are saved by the services

    def after_import(self, dataset, result, **kwargs):
        return  # donor_create allocates ids; no sequence to reset
