"""Writes to donors: create, update, merge. Every write is audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.forms.models import model_to_dict
from django.utils.translation import gettext as _

from donors import normalise
from donors.errors import DonorError
from donors.models import Consent, Donor, DonorMerge
from kyosei.audit import audit_log, audit_log_many

# Fields a caller may set; keys are normalised by donor_refresh_keys.
DONOR_FIELDS = {
    "kind", "donor_type", "family_name", "given_name", "family_name_kana",
    "given_name_kana", "organisation_name", "organisation_name_kana", "latin_name",
    "email", "email_secondary", "phone", "country", "postal_code", "prefecture",
    "region", "city", "address_line1", "address_line2", "preferred_language",
    "is_officer", "officer_since", "officer_until", "household", "source", "notes",
    "needs_review", "user",
}  # fmt: skip

_TEXT_FIELDS = (
    "family_name", "given_name", "organisation_name", "latin_name", "city",
    "address_line1", "address_line2", "region", "notes",
)  # fmt: skip
_KANA_FIELDS = ("family_name_kana", "given_name_kana", "organisation_name_kana")


def _normalise_fields(donor: Donor) -> None:
    for name in _TEXT_FIELDS:
        value = getattr(donor, name)
        if name != "notes":
            value = normalise.text(value)
        setattr(donor, name, value)
    for name in _KANA_FIELDS:
        setattr(donor, name, normalise.katakana(getattr(donor, name)))
    donor.email = normalise.email(donor.email)
    donor.email_secondary = normalise.email(donor.email_secondary)
    donor.phone = normalise.dashes(normalise.text(donor.phone))
    donor.country = (normalise.text(donor.country) or "JP").upper()
    if donor.country == "JP":
        donor.postal_code = normalise.postal_code_jp(donor.postal_code)
        if donor.postal_code and not (donor.prefecture and donor.city):
            found = normalise.postal_lookup(donor.postal_code)
            if found:
                donor.prefecture = donor.prefecture or found[0]
                donor.city = donor.city or found[1]
    else:
        donor.postal_code = normalise.text(donor.postal_code)


def donor_refresh_keys(donor: Donor) -> None:
    """Recompute the blocking keys and search text from the donor's fields."""
    donor.email_key = donor.email
    donor.phone_key = normalise.phone_key(donor.phone)
    kana = normalise.kana_key(
        donor.organisation_name_kana
        if donor.kind == Donor.Kind.ORGANISATION
        else f"{donor.family_name_kana}{donor.given_name_kana}"
    )
    donor.kana_key = kana
    postal = donor.postal_code.replace("-", "")
    donor.kana_postal_key = f"{kana}|{postal}" if kana and postal else ""
    latin = normalise.latin_key(donor.latin_name)
    donor.latin_country_key = f"{latin}|{donor.country}" if latin else ""
    donor.search_text = " ".join(
        part
        for part in (
            donor.family_name,
            donor.given_name,
            donor.organisation_name,
            donor.family_name_kana,
            donor.given_name_kana,
            donor.organisation_name_kana,
            normalise.katakana(donor.family_name_kana + donor.given_name_kana),
            donor.latin_name,
            normalise.latin_key(donor.latin_name),
            donor.email,
            donor.email_secondary,
            donor.phone_key,
        )
        if part
    ).lower()


def _validate(donor: Donor) -> None:
    if donor.kind == Donor.Kind.ORGANISATION:
        if not (donor.organisation_name or donor.latin_name):
            raise DonorError(_("An organisation needs a name."))
    elif not (
        donor.family_name or donor.given_name or donor.latin_name or donor.kana_name
    ):
        raise DonorError(_("A donor needs a name (kanji, kana or Latin letters)."))
    if donor.country == "JP" and donor.postal_code and len(donor.postal_code) != 8:
        raise DonorError(
            _("Postal code “%(code)s” is not a 7-digit Japanese postal code.")
            % {"code": donor.postal_code}
        )
    if donor.is_officer and donor.officer_until and donor.officer_since:
        if donor.officer_until < donor.officer_since:
            raise DonorError(_("The officer term ends before it starts."))
    try:
        donor.full_clean(
            exclude=["household", "user", "merged_into"], validate_unique=False
        )
    except ValidationError as exc:
        messages = "; ".join(
            f"{field}: {' '.join(errs)}" for field, errs in exc.message_dict.items()
        )
        raise DonorError(messages) from None


def _donor_build(fields: dict[str, Any]) -> Donor:
    """An unsaved donor from ``fields``: normalised, validated, keys computed."""
    unknown = set(fields) - DONOR_FIELDS
    if unknown:
        raise DonorError(
            _("Unknown donor fields: %(f)s") % {"f": ", ".join(sorted(unknown))}
        )
    donor = Donor(**fields)
    _normalise_fields(donor)
    _validate(donor)
    donor_refresh_keys(donor)
    return donor


@transaction.atomic
def donor_create(
    *,
    user: AbstractBaseUser | None,
    tags: list[str] | None = None,
    consents: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> Donor:
    """Create a donor from ``fields`` (see ``DONOR_FIELDS``); input is normalised."""
    donor = _donor_build(fields)
    donor.save()
    if tags:
        donor.tags.set(tags)
    for consent in consents or []:
        Consent.objects.create(donor=donor, **consent)
    audit_log(donor, "donors.donor.created", user=user, data={"source": donor.source})
    return donor


@transaction.atomic
def donor_create_many(
    *, user: AbstractBaseUser | None, donors: Sequence[dict[str, Any]]
) -> list[Donor]:
    """Create many donors (``fields`` dicts as :func:`donor_create` takes, without
    tags or consents) with one insert: each is normalised and validated exactly as
    ``donor_create`` does, all before anything is written (one bad donor raises
    :class:`DonorError` and creates none), and each gets its own
    ``donors.donor.created`` audit row. Returns the donors, saved, in order;
    ``DonorError.index`` says which donor broke a rule."""
    built = donor_build_many(donors=donors)
    Donor.objects.bulk_create(built, batch_size=1000)
    if built and built[0].pk is None:  # a database that does not return ids
        raise DonorError(_("This database cannot create donors in bulk."))
    audit_log_many(
        built,
        "donors.donor.created",
        user=user,
        data=lambda donor: {"source": donor.source},
    )
    return built


def donor_build_many(*, donors: Sequence[dict[str, Any]]) -> list[Donor]:
    """The donors :func:`donor_create_many` would create, unsaved: each
    normalised and validated as ``donor_create`` does (``DonorError.index`` says
    which broke a rule). Writes nothing, so a dry run checks exactly what the
    real import will."""
    built: list[Donor] = []
    for index, fields in enumerate(donors):
        try:
            built.append(_donor_build(fields))
        except DonorError as exc:
            exc.index = index
            raise
    return built


@transaction.atomic
def donor_update(
    *,
    donor: Donor,
    user: AbstractBaseUser | None,
    tags: list[str] | None = None,
    **fields: Any,
) -> Donor:
    unknown = set(fields) - DONOR_FIELDS
    if unknown:
        raise DonorError(
            _("Unknown donor fields: %(f)s") % {"f": ", ".join(sorted(unknown))}
        )
    donor = Donor.objects.select_for_update().get(pk=donor.pk)
    if donor.merged_into_id:
        raise DonorError(
            _("This donor was merged into #%(id)s; edit that record.")
            % {"id": donor.merged_into_id}
        )
    before = {name: getattr(donor, name) for name in fields}
    for name, value in fields.items():
        setattr(donor, name, value)
    _normalise_fields(donor)
    _validate(donor)
    donor_refresh_keys(donor)
    donor.save()
    if tags is not None:
        donor.tags.set(tags)
    changed = {
        name: [str(before[name]), str(getattr(donor, name))]
        for name in fields
        if before[name] != getattr(donor, name)
    }
    audit_log(donor, "donors.donor.updated", user=user, data={"changed": changed})
    return donor


@transaction.atomic
def consent_record(
    *,
    donor: Donor,
    channel: str,
    granted: bool,
    recorded_on: dt.date,
    source: str,
    user: AbstractBaseUser | None,
) -> Consent:
    consent = Consent.objects.create(
        donor=donor,
        channel=channel,
        granted=granted,
        recorded_on=recorded_on,
        source=source,
    )
    audit_log(
        donor,
        "donors.consent.recorded",
        user=user,
        data={"channel": channel, "granted": granted, "source": source},
    )
    return consent


def _snapshot(donor: Donor) -> dict[str, Any]:
    data = model_to_dict(donor, exclude=["tags"])
    data["tags"] = list(donor.tags.names())
    return {
        k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()
    }


@transaction.atomic
def donor_merge(
    *, survivor: Donor, merged: Donor, user: AbstractBaseUser | None
) -> DonorMerge:
    """Move everything of ``merged`` onto ``survivor`` and retire ``merged``.

    Every relation pointing at a donor is moved (gifts, recurring gifts, consents,
    receipts and whatever later apps add), blank fields of the survivor are filled
    from the merged donor, and a :class:`DonorMerge` row keeps the merged donor's
    snapshot and what moved. Rows are locked in id order to avoid deadlocks.
    """
    if survivor.pk == merged.pk:
        raise DonorError(_("A donor cannot be merged into itself."))
    first, second = sorted([survivor.pk, merged.pk])
    locked = {
        d.pk: d
        for d in Donor.objects.select_for_update()
        .filter(pk__in=[first, second])
        .order_by("pk")
    }
    survivor, merged = locked[survivor.pk], locked[merged.pk]
    if merged.merged_into_id or survivor.merged_into_id:
        raise DonorError(_("One of these donors has already been merged."))

    snapshot = _snapshot(merged)
    moved: dict[str, int] = {}
    for relation in Donor._meta.related_objects:
        if relation.related_model in (Donor, DonorMerge) or not relation.field.concrete:
            continue
        if relation.one_to_one:
            continue
        field_name = relation.field.name
        count = relation.related_model._default_manager.filter(
            **{field_name: merged}
        ).update(**{field_name: survivor})
        if count:
            moved[relation.related_model._meta.label] = count
    # Fill the survivor's blanks (never overwrite what staff already checked).
    filled = []
    for name in DONOR_FIELDS - {"user", "household", "kind", "donor_type", "source"}:
        value = getattr(merged, name)
        if value not in ("", None, False) and getattr(survivor, name) in (
            "",
            None,
            False,
        ):
            setattr(survivor, name, value)
            filled.append(name)
    if survivor.household_id is None and merged.household_id is not None:
        survivor.household_id = merged.household_id
        filled.append("household")
    if survivor.user_id is None and merged.user_id is not None:
        survivor.user_id, merged.user_id = merged.user_id, None
        filled.append("user")
    survivor.tags.add(*merged.tags.names())
    donor_refresh_keys(survivor)
    merged.merged_into = survivor
    merged.household = None
    merged.save()
    survivor.save()
    record = DonorMerge.objects.create(
        survivor=survivor,
        merged=merged,
        snapshot=snapshot,
        moved={**moved, "filled_fields": sorted(filled)},
        merged_by=user,
    )
    audit_log(
        survivor,
        "donors.donor.merged",
        user=user,
        data={"merged": merged.pk, "moved": moved, "filled": sorted(filled)},
    )
    return record


def active_donors() -> models.QuerySet[Donor]:
    return Donor.objects.filter(merged_into__isnull=True)
