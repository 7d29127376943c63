"""Erasing a donor's personal data when a deletion request is processed.

``donor_erase`` is the one place that decides, for every table that can hold a
donor's personal data, whether it is erased, redacted or kept (and why). The
README's "Donor portal" section is the user-facing summary of these decisions.

Kept, because the law requires it:

- issued receipts: ``Receipt.donor_name`` / ``donor_address`` and the stored PDF
  (a tax document, kept under 電子帳簿保存法; the PDF is never regenerated);
- gifts, refunds and ledger entries (amounts, dates, funds, Stripe and bank
  references): the books. A gift now belongs to a nameless donor record;
- import rows' amount, date and bank reference (the bank statement is an
  accounting record); the payer name printed by the bank is redacted.

The donor register (寄附者名簿) is built from the donor and gift rows when it is
printed, so after erasure it lists the gifts without name or address. The copy
of the register that must be retained, and for how long, is defined by the
compliance work on the register; it is out of scope here and nothing below
builds or deletes it.

Everything else that identifies the donor is erased or redacted (see each
``_erase_*`` function). Apps above ``donors`` (``campaigns``: donation intents,
stored Stripe events) hold personal data too; they cannot be imported from
here, so they register an :class:`ErasureStep` (``register_erasure_step``) that
locks their rows before the donor (the project's lock order is donation intent
→ donor → gift → fund) and erases them in the same transaction.

Strings are redacted by value: :class:`Needles` are the donor's names (kanji,
kana in full and half width and hiragana, Latin letters with and without
accents), emails, phone numbers, address lines and the payer names banks
printed for them. The donor's own rows are cleaned with every needle; rows of
other records (another donor's notes, a spreadsheet preview, an audit entry on
an import) only with the distinctive ones (full names, emails, phones, address
lines), so that a common family name elsewhere is left alone.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import jaconv
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db import connection, models
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext as _
from taggit.models import Tag, TaggedItem
from wagtail.models import ModelLogEntry
from wagtail.users.models import UserProfile

from donors import normalise
from donors.errors import DonorError
from donors.imports.models import ImportBatch, ImportRow, PayerAlias, SpreadsheetImport
from donors.models import (
    Consent,
    Donor,
    DonorMerge,
    DuplicateDismissal,
    Gift,
    GiftRefund,
    Household,
    RecurringGift,
)
from donors.portal.models import DeletionRequest
from donors.receipts.models import Receipt, ReceiptEmail
from donors.services.donors import donor_refresh_keys
from donors.services.recurring import recurring_gift_cancel
from kyosei.roles import is_staff_user

REDACTED = "[redacted]"

# Personal fields of a donor, blanked by erasure. Kept: kind, donor type, country
# (the register tells a domestic gift from an overseas one), preferred language,
# officer terms (the PST's officer test), source and dates: none identifies.
PERSONAL_FIELDS = (
    "family_name", "given_name", "family_name_kana", "given_name_kana",
    "organisation_name", "organisation_name_kana", "latin_name", "email",
    "email_secondary", "phone", "postal_code", "prefecture", "region", "city",
    "address_line1", "address_line2", "notes",
)  # fmt: skip
# Donor fields whose values an audit entry or a merge snapshot must not keep.
_IDENTIFYING_FIELDS = frozenset(PERSONAL_FIELDS) | {"household", "user", "tags"}


# -- needles: the strings that identify the donor -------------------------------------


def _fold(value: str) -> str:
    return normalise.squash_spaces(unicodedata.normalize("NFKC", value or "")).strip()


def _without_accents(value: str) -> str:
    folded = unicodedata.normalize("NFKD", value.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in folded if not unicodedata.combining(ch))


def _kana_forms(kana: str) -> set[str]:
    """Katakana as stored, half-width (as banks print it) and hiragana."""
    kata = normalise.katakana(kana)
    if not kata:
        return set()
    return {
        kata,
        jaconv.z2h(kata, kana=True, ascii=False, digit=False),
        jaconv.kata2hira(kata),
    }


def _joined(first: str, second: str) -> set[str]:
    """A two-part name as written with a space, without, and with a full-width one."""
    if not (first and second):
        return set()
    return {f"{first} {second}", f"{first}{second}", f"{first}\u3000{second}"}


def _long_enough(value: str) -> bool:
    """Distinctive enough to look for across the whole database."""
    compact = value.replace(" ", "").replace("\u3000", "")
    if "@" in compact:
        return True
    if compact.isdigit() or compact.lstrip("+").replace("-", "").isdigit():
        return len(re.sub(r"\D", "", compact)) >= 8
    if compact.isascii():
        return len(compact) >= 6
    return len(compact) >= 4


@dataclass
class Identity:
    """What identifies the donor, collected before anything is erased.

    ``distinctive`` strings are searched for across the database; ``parts`` (a
    family name alone, one word of a Latin name) only in the donor's own rows.
    """

    distinctive: set[str] = field(default_factory=set)
    parts: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)

    def add_person(
        self,
        *,
        family_name: str = "",
        given_name: str = "",
        family_name_kana: str = "",
        given_name_kana: str = "",
        organisation_name: str = "",
        organisation_name_kana: str = "",
        latin_name: str = "",
        emails: Iterable[str] = (),
        phones: Iterable[str] = (),
        address_lines: Iterable[str] = (),
    ) -> None:
        family, given = _fold(family_name), _fold(given_name)
        self._add(_joined(family, given) | {f"{given} {family}".strip()})
        self.parts.update(p for p in (family, given) if len(p) >= 2)
        kana_family, kana_given = _fold(family_name_kana), _fold(given_name_kana)
        for kf in _kana_forms(kana_family) or {""}:
            for kg in _kana_forms(kana_given) or {""}:
                self._add(_joined(kf, kg) if kf and kg else set())
                self.parts.update(p for p in (kf, kg) if len(p) >= 2)
        for name in (organisation_name, organisation_name_kana):
            name = _fold(name)
            forms = _kana_forms(name) if name == normalise.katakana(name) else set()
            self._add({name, *forms} - {""})
        latin = _fold(latin_name)
        if latin:
            plain = _without_accents(latin)
            words = latin.split()
            self._add({latin, plain, " ".join(reversed(words))})
            self._add({" ".join(reversed(plain.split()))})
            self.parts.update(w for w in {*words, *plain.split()} if len(w) >= 3)
        for email in emails:
            email = normalise.email(email)
            if email:
                self.emails.add(email)
                self.distinctive.add(email)
        for phone in phones:
            phone = _fold(phone)
            digits = normalise.phone_key(phone)
            if digits:
                self._add({phone, digits, normalise.phone(phone)})
                if digits.startswith("0"):
                    self._add({"+81" + digits[1:], "+81 " + digits[1:]})
        for line in address_lines:
            self._add({_fold(line)} - {""})

    def add_text(self, *values: str) -> None:
        """Identifying strings found elsewhere (a payer name as the bank printed it)."""
        self._add({_fold(v) for v in values} - {""})

    def _add(self, values: Iterable[str]) -> None:
        for value in values:
            value = value.replace(REDACTED, "").strip()
            if not value:
                continue
            if _long_enough(value):
                self.distinctive.add(value)
            elif len(value.replace(" ", "")) >= 2:
                self.parts.add(value)


class Needles:
    """Strings to redact, longest first; matching ignores case."""

    def __init__(self, strings: Iterable[str]) -> None:
        self.strings = tuple(sorted({s for s in strings if s}, key=len, reverse=True))
        self._re = (
            re.compile("|".join(re.escape(s) for s in self.strings), re.IGNORECASE)
            if self.strings
            else None
        )

    def __bool__(self) -> bool:
        return bool(self.strings)

    def sub(self, text: str, *, mask: bool = False) -> str:
        """``text`` with every needle replaced (by ``*`` of the same length when
        ``mask``: a fixed-width bank record keeps its width)."""
        if not text or self._re is None:
            return text
        if mask:
            return self._re.sub(lambda m: "*" * len(m.group(0)), text)
        return self._re.sub(REDACTED, text)

    def q(self, name: str) -> Q:
        """SQL: text field ``name`` mentions a needle."""
        query = Q(pk__in=[])
        for needle in self.strings:
            query |= Q(**{f"{name}__icontains": needle})
        return query

    def q_json(self, name: str) -> Q:
        """SQL: the text of an annotated JSON column ``name`` mentions a needle.

        SQLite keeps JSON as written by Python (non-ASCII as ``\\uXXXX``);
        PostgreSQL's ``jsonb::text`` has the characters themselves."""
        query = Q(pk__in=[])
        for needle in self.strings:
            query |= Q(**{f"{name}__icontains": needle})
            escaped = json.dumps(needle)[1:-1]
            if escaped != needle and connection.vendor == "sqlite":
                query |= Q(**{f"{name}__icontains": escaped})
        return query


def scrub_json(value: Any, needles: Needles, *, keys: Iterable[str] = ()) -> Any:
    """``value`` with every string cleaned of ``needles``; the values of ``keys``
    (at any depth) replaced whole (a string by ``[redacted]``, anything else by
    ``None``)."""
    drop = frozenset(keys)

    def walk(item: Any) -> Any:
        if isinstance(item, dict):
            return {k: (_blank(v) if k in drop else walk(v)) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v) for v in item]
        if isinstance(item, str):
            return needles.sub(item)
        return item

    return walk(value)


def _blank(value: Any) -> Any:
    if value in (None, "", [], {}):
        return value
    return REDACTED if isinstance(value, str) else None


# -- the extension point for apps above donors ----------------------------------------


@dataclass
class ErasureSubject:
    """The donor being erased, with everything known to identify them."""

    donor: Donor  # locked; the record every merged duplicate points at
    donor_ids: list[int]  # it and every donor merged into it
    user_ids: list[int]
    gift_ids: list[int]
    cancelled_recurring_ids: list[int]
    emails: set[str]
    needles: Needles  # every identifying string: for the donor's own rows
    distinctive: Needles  # safe to look for across every record


class ErasureStep(Protocol):
    """Personal data an app above ``donors`` keeps about donors."""

    def lock(self, *, donor_ids: list[int], emails: set[str], identity: Identity):
        """Lock this app's rows of the donor (called before the donor rows are
        locked) and add what identifies the donor in them to ``identity``."""

    def erase(self, subject: ErasureSubject) -> dict[str, int]:
        """Erase or redact them; return counts (numbers only: they are audited)."""


_STEPS: list[ErasureStep] = []


def register_erasure_step(step: ErasureStep) -> None:
    """Called from an app's ``AppConfig.ready`` (``campaigns``)."""
    if all(type(s) is not type(step) for s in _STEPS):
        _STEPS.append(step)


# -- the service ----------------------------------------------------------------------


def _merged_family(donor_pk: int) -> list[int]:
    """The donor and every donor merged into it, at any depth."""
    ids, frontier = [donor_pk], [donor_pk]
    while frontier:
        frontier = list(
            Donor.objects.filter(merged_into__in=frontier)
            .exclude(pk__in=ids)
            .values_list("pk", flat=True)
        )
        ids.extend(frontier)
    return sorted(ids)


def _portal_users(donors: list[Donor]) -> list[AbstractBaseUser]:
    """Portal accounts of these donors, and any account signed up with one of
    their emails. Staff accounts are never touched (a staff member who also
    gives keeps their login)."""
    emails = {normalise.email(e) for d in donors for e in (d.email, d.email_secondary)}
    emails.discard("")
    user_ids = {d.user_id for d in donors if d.user_id}
    user_ids.update(
        DeletionRequest.objects.filter(donor__in=donors)
        .exclude(requested_by=None)
        .values_list("requested_by", flat=True)
    )
    if emails:
        by_email = Q(pk__in=[])
        for email in emails:
            by_email |= Q(email__iexact=email)
        user_ids.update(
            EmailAddress.objects.filter(by_email).values_list("user_id", flat=True)
        )
        user_ids.update(
            get_user_model().objects.filter(by_email).values_list("pk", flat=True)
        )
    users = get_user_model().objects.filter(pk__in=user_ids).order_by("pk")
    return [u for u in users if not _back_office(u)]


def _back_office(user: AbstractBaseUser) -> bool:
    """Staff, also a deactivated one: any role, flag or permission."""
    return bool(
        is_staff_user(user)
        or user.is_superuser
        or user.is_staff
        or user.groups.exists()
        or user.user_permissions.exists()
    )


def _identity(donors: list[Donor], users: list[AbstractBaseUser]) -> Identity:
    identity = Identity()
    for donor in donors:
        identity.add_person(
            family_name=donor.family_name,
            given_name=donor.given_name,
            family_name_kana=donor.family_name_kana,
            given_name_kana=donor.given_name_kana,
            organisation_name=donor.organisation_name,
            organisation_name_kana=donor.organisation_name_kana,
            latin_name=donor.latin_name,
            emails=(donor.email, donor.email_secondary),
            phones=(donor.phone,),
            address_lines=(donor.address_line1, donor.address_line2),
        )
    ids = [d.pk for d in donors]
    # Earlier values: what staff or the donor changed (an old address or email
    # may still sit in other records) and merged duplicates' snapshots.
    for entry in ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Donor),
        object_id__in=[str(pk) for pk in ids],
        action="donors.donor.updated",
    ).only("data"):
        changed = (
            (entry.data or {}).get("changed") if isinstance(entry.data, dict) else None
        )
        if isinstance(changed, dict):
            for side in (0, 1):  # before, after
                _add_fields(
                    identity,
                    {
                        k: v[side]
                        for k, v in changed.items()
                        if isinstance(v, list) and len(v) == 2
                    },
                )
    for merge in DonorMerge.objects.filter(Q(survivor__in=ids) | Q(merged__in=ids)):
        if isinstance(merge.snapshot, dict):
            _add_fields(identity, merge.snapshot)
    for user in users:
        identity.add_person(
            family_name=user.last_name,
            given_name=user.first_name,
            emails=[
                user.email,
                *EmailAddress.objects.filter(user=user).values_list("email", flat=True),
            ],
        )
        if not user.username.startswith("deleted-"):
            identity.add_text(user.username)
    identity.add_text(
        *PayerAlias.objects.filter(donor__in=ids).values_list("payer_name", flat=True),
        *ImportRow.objects.filter(donor_id__in=ids)
        .exclude(payer_name="")
        .order_by()
        .values_list("payer_name", flat=True)
        .distinct(),
    )
    for email in ReceiptEmail.objects.filter(receipt__donor__in=ids).values_list(
        "to_email", flat=True
    ):
        identity.add_person(emails=[email])
    return identity


def _add_fields(identity: Identity, values: dict[str, Any]) -> None:
    """Values of donor fields, from an audit entry or a merge snapshot."""

    def at(name: str) -> str:
        value = values.get(name)
        return value if isinstance(value, str) else ""

    identity.add_person(
        family_name=at("family_name"),
        given_name=at("given_name"),
        family_name_kana=at("family_name_kana"),
        given_name_kana=at("given_name_kana"),
        organisation_name=at("organisation_name"),
        organisation_name_kana=at("organisation_name_kana"),
        latin_name=at("latin_name"),
        emails=(at("email"), at("email_secondary")),
        phones=(at("phone"),),
        address_lines=(at("address_line1"), at("address_line2")),
    )


def _lock_donors(donor: Donor) -> list[Donor]:
    """Lock the donor and its merged duplicates in id order (as ``donor_merge``
    does), again if a merge committed in between."""
    ids = _merged_family(donor.pk)
    while True:
        locked = list(
            Donor.objects.select_for_update().filter(pk__in=ids).order_by("pk")
        )
        family = _merged_family(donor.pk)
        if family == ids:
            return locked
        ids = family


def donor_erase(*, donor: Donor, user: AbstractBaseUser | None) -> dict[str, Any]:
    """Erase the personal data of ``donor`` and its merged duplicates.

    Call inside a transaction (``donor_anonymise`` is the atomic entry point):
    everything below commits or rolls back together. Locks: the upper apps'
    rows first (donation intents), then the donor rows in id order, then
    recurring gifts — the project's fixed order, so a webhook for the same donor
    waits or is waited for, and never deadlocks. Idempotent: a second run finds
    nothing left to erase. Returns the audit data (ids and counts only).
    """
    pre_family = Donor.objects.filter(pk__in=_merged_family(donor.pk))
    pre_identity = _identity(list(pre_family), _portal_users(list(pre_family)))
    identity = Identity()
    for step in _STEPS:
        step.lock(
            donor_ids=_merged_family(donor.pk),
            emails=set(pre_identity.emails),
            identity=identity,
        )
    donors = _lock_donors(donor)
    donor = next(d for d in donors if d.pk == donor.pk)
    if donor.merged_into_id:
        raise DonorError(
            _("This donor was merged into #%(id)s; process that record.")
            % {"id": donor.merged_into_id}
        )
    users = _portal_users(donors)
    found = _identity(donors, users)
    identity.distinctive |= found.distinctive
    identity.parts |= found.parts
    identity.emails |= found.emails
    donor_ids = [d.pk for d in donors]
    counts: dict[str, int] = {}
    subject = ErasureSubject(
        donor=donor,
        donor_ids=donor_ids,
        user_ids=[u.pk for u in users],
        gift_ids=list(
            Gift.objects.filter(donor__in=donor_ids).values_list("pk", flat=True)
        ),
        cancelled_recurring_ids=[],
        emails=identity.emails,
        needles=Needles(identity.distinctive | identity.parts),
        distinctive=Needles(identity.distinctive),
    )
    counts["recurring_cancelled"] = _cancel_recurring(subject, user)
    counts["accounts"] = _erase_accounts(subject, users)
    households = _erase_donors(subject, donors)
    counts["households_deleted"] = _erase_households(subject, households)
    counts["merge_snapshots"] = _erase_merges(subject)
    counts["payer_aliases"] = _erase_payer_aliases(subject)
    counts["import_rows"] = _erase_import_rows(subject)
    counts["receipt_emails"] = _erase_receipt_emails(subject)
    counts["own_text"] = _scrub_own_text(subject)
    counts["other_text"] = _scrub_other_text(subject)
    for step in _STEPS:
        counts.update(step.erase(subject))
    counts["audit_entries"] = _erase_audit(subject, households)
    return {
        "donors": donor_ids,
        "users": subject.user_ids,
        "counts": {k: v for k, v in counts.items() if v},
    }


# -- the parts ------------------------------------------------------------------------


def _cancel_recurring(subject: ErasureSubject, user: AbstractBaseUser | None) -> int:
    """Active monthly gifts stop (an app above may also stop them at Stripe)."""
    for recurring in RecurringGift.objects.filter(donor__in=subject.donor_ids).exclude(
        status=RecurringGift.Status.CANCELLED
    ):
        recurring_gift_cancel(
            recurring_gift=recurring, user=user, reason="donor account deleted"
        )
        subject.cancelled_recurring_ids.append(recurring.pk)
    return len(subject.cancelled_recurring_ids)


def _erase_accounts(subject: ErasureSubject, users: list[AbstractBaseUser]) -> int:
    """Portal accounts: kept as inactive rows (audit entries name them by id),
    with no email, name, password, second factor, profile or session."""
    changed = 0
    for account in users:
        deleted = EmailAddress.objects.filter(user=account).delete()[0]
        deleted += Authenticator.objects.filter(user=account).delete()[0]
        for profile in UserProfile.objects.filter(user=account):
            if profile.avatar:
                profile.avatar.delete(save=False)
            deleted += profile.delete()[0]
        erased = (False, "", f"deleted-{account.pk}", "", "")
        if (
            deleted
            or account.has_usable_password()
            or erased
            != (
                account.is_active,
                account.email,
                account.username,
                account.first_name,
                account.last_name,
            )
        ):
            changed += 1
        (
            account.is_active,
            account.email,
            account.username,
            account.first_name,
            account.last_name,
        ) = erased
        account.set_unusable_password()
        account.save()
    return changed + _delete_sessions(subject, {str(u.pk) for u in users})


def _delete_sessions(subject: ErasureSubject, user_ids: set[str]) -> int:
    """Sessions of these accounts, and any session that holds one of the
    donor's emails (a login code or verification still pending)."""
    doomed = []
    for session in Session.objects.iterator(chunk_size=2000):
        try:
            data = session.get_decoded()
        except Exception:  # noqa: BLE001 - an unreadable session is not ours to judge
            continue
        if str(data.get("_auth_user_id", "")) in user_ids or (
            subject.emails and subject.distinctive.sub(str(data)) != str(data)
        ):
            doomed.append(session.pk)
    Session.objects.filter(pk__in=doomed).delete()
    return len(doomed)


def _erase_donors(subject: ErasureSubject, donors: list[Donor]) -> set[int]:
    """Blank the personal fields, keys and search text; unlink household and
    account; drop tags (a tag is shared vocabulary and stays, unless it names
    the donor and nobody else carries it). Returns the households they
    belonged to."""
    households = set()
    tags = list(Tag.objects.filter(donor__in=[d.pk for d in donors]).distinct())
    for donor in donors:
        if donor.household_id:
            households.add(donor.household_id)
        for name in PERSONAL_FIELDS:
            setattr(donor, name, "")
        donor.household = None
        donor.user = None
        donor.needs_review = False
        donor_refresh_keys(donor)
        donor.save()
        donor.tags.clear()
    for tag in tags:
        if subject.distinctive.sub(tag.name) != tag.name:
            if not TaggedItem.objects.filter(tag=tag).exists():
                tag.delete()
    return households


def _erase_households(subject: ErasureSubject, household_ids: set[int]) -> int:
    """A household left with no member goes; one shared with others stays (its
    name names them too), cleaned of the donor's distinctive strings."""
    empty = Household.objects.filter(pk__in=household_ids, members__isnull=True)
    deleted = empty.count()
    empty.delete()
    _scrub(
        Household.objects.filter(pk__in=household_ids),
        ["name", "notes"],
        subject.distinctive,
    )
    return deleted


def _erase_merges(subject: ErasureSubject) -> int:
    """Merge history keeps what moved, not who the duplicate was."""
    count = 0
    ids = subject.donor_ids
    for merge in DonorMerge.objects.filter(Q(survivor__in=ids) | Q(merged__in=ids)):
        snapshot = merge.snapshot if isinstance(merge.snapshot, dict) else {}
        redacted = {
            k: (_blank(v) if k in _IDENTIFYING_FIELDS else v)
            for k, v in snapshot.items()
        }
        redacted = scrub_json(redacted, subject.needles)
        if redacted != merge.snapshot:
            merge.snapshot = redacted
            merge.save(update_fields=["snapshot"])
            count += 1
    return count


def _erase_payer_aliases(subject: ErasureSubject) -> int:
    """Payer names staff taught the matcher: gone (a later transfer from this
    payer is matched afresh, or creates a donor for review)."""
    aliases = PayerAlias.objects.filter(donor__in=subject.donor_ids)
    count = aliases.count()
    aliases.delete()
    return count


def _erase_import_rows(subject: ErasureSubject) -> int:
    """Bank lines of this donor's transfers: the payer name (and its matching
    key) goes, also inside the raw line (masked with ``*`` so a fixed-width
    全銀 record keeps its width); amount, date, bank reference and fingerprint
    stay — they are the accounting record of money received."""
    rows = list(
        ImportRow.objects.filter(donor_id__in=subject.donor_ids).only(
            "raw", "payer_name", "payer_key", "note"
        )
    )
    changed = []
    for row in rows:
        printed = Needles([row.payer_name.strip()] if row.payer_name.strip() else [])
        raw = subject.needles.sub(printed.sub(row.raw, mask=True), mask=True)
        values = ("", "", raw, subject.needles.sub(row.note))
        if values != (row.payer_name, row.payer_key, row.raw, row.note):
            row.payer_name, row.payer_key, row.raw, row.note = values
            changed.append(row)
    ImportRow.objects.bulk_update(
        changed, ["payer_name", "payer_key", "raw", "note"], batch_size=500
    )
    return len(changed)


def _erase_receipt_emails(subject: ErasureSubject) -> int:
    """Receipt emails keep when and whether they were sent, not the address. One
    still queued is not sent any more."""
    changed = []
    for email in ReceiptEmail.objects.filter(receipt__donor__in=subject.donor_ids):
        before = (email.to_email, email.error, email.status)
        email.to_email = ""
        email.error = subject.needles.sub(email.error)
        if email.status == ReceiptEmail.Status.QUEUED:
            email.status = ReceiptEmail.Status.FAILED
            email.error = "Not sent: the donor's personal data was erased."
        if (email.to_email, email.error, email.status) != before:
            changed.append(email)
    ReceiptEmail.objects.bulk_update(changed, ["to_email", "error", "status"])
    return len(changed)


def _scrub_own_text(subject: ErasureSubject) -> int:
    """Free text on the donor's own records, cleaned with every needle. Gift
    notes keep their accounting context ("import #3 row 5: [redacted]");
    deletion requests lose the donor's own words."""
    ids, needles = subject.donor_ids, subject.needles
    requests = DeletionRequest.objects.filter(donor__in=ids)
    count = requests.exclude(reason="").update(reason="")
    own: list[tuple[models.QuerySet, list[str]]] = [
        (Gift.objects.filter(donor__in=ids), ["notes", "in_kind_description"]),
        (GiftRefund.objects.filter(gift__donor__in=ids), ["reason"]),
        (Consent.objects.filter(donor__in=ids), ["source"]),
        (requests, ["staff_note"]),
        (
            DuplicateDismissal.objects.filter(
                Q(donor_low__in=ids) | Q(donor_high__in=ids)
            ),
            ["reason"],
        ),
        (Receipt.objects.filter(donor__in=ids), ["flagged_reason", "void_reason"]),
    ]
    return count + sum(_scrub(rows, fields, needles) for rows, fields in own)


def _scrub_other_text(subject: ErasureSubject) -> int:
    """Other records that may mention the donor by a distinctive string: another
    donor's notes, gift notes, import errors and spreadsheet previews."""
    needles = subject.distinctive
    if not needles:
        return 0
    return sum(
        (
            _scrub(Donor.objects.exclude(pk__in=subject.donor_ids), ["notes"], needles),
            _scrub(Gift.objects.all(), ["notes", "in_kind_description"], needles),
            _scrub(DeletionRequest.objects.all(), ["staff_note"], needles),
            _scrub(ImportRow.objects.all(), ["note"], needles),
            _scrub(ReceiptEmail.objects.all(), ["error"], needles),
            _scrub(ImportBatch.objects.all(), ["file_name"], needles),
            _scrub(SpreadsheetImport.objects.all(), ["file_name"], needles),
            _scrub(ImportBatch.objects.all(), ["errors"], needles, json=True),
            _scrub(
                SpreadsheetImport.objects.all(),
                ["rows", "errors", "defaults"],
                needles,
                json=True,
            ),
            _scrub_samples(needles),
        )
    )


def _scrub_samples(needles: Needles) -> int:
    """A spreadsheet's first rows (kept for its mapping page) are rows of cells:
    a row that mentions the donor is about them, so all of its cells go — a
    family name in one column and a given name in the next would each pass
    a search for the full name."""
    changed = []
    sample_text = Cast("sample", TextField())
    rows = SpreadsheetImport.objects.annotate(_sample_text=sample_text).filter(
        needles.q_json("_sample_text")
    )
    for record in rows.only("pk", "sample"):
        sample = [
            [REDACTED if isinstance(cell, str) and cell else cell for cell in row]
            if isinstance(row, list) and any(needles.sub(str(c)) != str(c) for c in row)
            else row
            for row in record.sample
        ]
        if sample != record.sample:
            record.sample = sample
            changed.append(record)
    SpreadsheetImport.objects.bulk_update(changed, ["sample"])
    return len(changed)


def _scrub(
    queryset: models.QuerySet,
    fields: list[str],
    needles: Needles,
    *,
    json: bool = False,
) -> int:
    """Clean ``fields`` of the rows of ``queryset`` that mention a needle (found
    in SQL, rewritten here). Returns how many rows changed."""
    if not needles:
        return 0
    if json:
        annotations = {f"_{name}_text": Cast(name, TextField()) for name in fields}
        match = Q(pk__in=[])
        for name in fields:
            match |= needles.q_json(f"_{name}_text")
        rows = queryset.annotate(**annotations).filter(match)
    else:
        match = Q(pk__in=[])
        for name in fields:
            match |= needles.q(name)
        rows = queryset.filter(match)
    changed = []
    for row in rows.only("pk", *fields):
        dirty = False
        for name in fields:
            value = getattr(row, name)
            new = scrub_json(value, needles) if json else needles.sub(value)
            if new != value:
                setattr(row, name, new)
                dirty = True
        if dirty:
            changed.append(row)
    if changed:
        queryset.model.objects.bulk_update(changed, fields, batch_size=500)
    return len(changed)


def _erase_audit(subject: ErasureSubject, household_ids: set[int]) -> int:
    """Audit entries keep who did what to which id and when, not the values.

    Entries on the donor's records (the donors, their gifts, monthly gifts,
    receipts, requests, households, payer aliases and accounts): labels (the
    record's name when logged) and data cleaned with every needle; a donor's
    "updated" entries lose the old and new values of personal fields. Any other
    entry is cleaned of the donor's distinctive strings."""
    ids = subject.donor_ids

    def pks(model: type[models.Model], query: Q) -> tuple[int, list[str]]:
        pk_list = model._default_manager.filter(query).values_list("pk", flat=True)
        return (
            ContentType.objects.get_for_model(model).pk,
            [str(pk) for pk in pk_list],
        )

    own = [
        (ContentType.objects.get_for_model(Donor).pk, [str(pk) for pk in ids]),
        pks(Gift, Q(donor__in=ids)),
        pks(RecurringGift, Q(donor__in=ids)),
        pks(Receipt, Q(donor__in=ids)),
        pks(DeletionRequest, Q(donor__in=ids)),
        pks(DuplicateDismissal, Q(donor_low__in=ids) | Q(donor_high__in=ids)),
        (
            ContentType.objects.get_for_model(Household).pk,
            [str(pk) for pk in household_ids],
        ),
        (
            ContentType.objects.get_for_model(get_user_model()).pk,
            [str(pk) for pk in subject.user_ids],
        ),
    ]
    donor_type = own[0][0]
    mine = Q(pk__in=[])
    for type_id, object_ids in own:
        if object_ids:
            mine |= Q(content_type_id=type_id, object_id__in=object_ids)
    changed: dict[int, ModelLogEntry] = {}
    for entry in ModelLogEntry.objects.filter(mine).only(
        "label", "data", "action", "content_type_id", "object_id"
    ):
        data = entry.data
        if entry.action == "donors.donor.updated" and isinstance(data, dict):
            values = data.get("changed")
            if isinstance(values, dict):
                data = {
                    **data,
                    "changed": {
                        k: ([REDACTED, REDACTED] if k in _IDENTIFYING_FIELDS else v)
                        for k, v in values.items()
                    },
                }
        data = scrub_json(data, subject.needles)
        label = (
            f"#{entry.object_id}"
            if entry.content_type_id == donor_type
            else subject.needles.sub(entry.label)
        )
        if (label, data) != (entry.label, entry.data):
            entry.label, entry.data = label, data
            changed[entry.pk] = entry
    # Payer aliases are gone; their entries named the payer.
    alias_entries = ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(PayerAlias),
        action="donor_imports.alias.created",
        data__donor__in=ids,
    )
    for entry in alias_entries.exclude(pk__in=list(changed)):
        label = f"#{entry.object_id}"
        data = scrub_json(entry.data, subject.needles, keys=["payer_name"])
        if (label, data) != (entry.label, entry.data):
            entry.label, entry.data = label, data
            changed[entry.pk] = entry
    if subject.distinctive:
        others = (
            ModelLogEntry.objects.exclude(pk__in=list(changed))
            .annotate(_data_text=Cast("data", TextField()))
            .filter(
                subject.distinctive.q("label")
                | subject.distinctive.q_json("_data_text")
            )
        )
        for entry in others.only("label", "data"):
            label = subject.distinctive.sub(entry.label)
            data = scrub_json(entry.data, subject.distinctive)
            if (label, data) != (entry.label, entry.data):
                entry.label, entry.data = label, data
                changed[entry.pk] = entry
    ModelLogEntry.objects.bulk_update(
        list(changed.values()), ["label", "data"], batch_size=500
    )
    return len(changed)
