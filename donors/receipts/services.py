"""Issuing, reissuing and voiding receipts (寄附金受領証明書); japan-npo.md §3.

Rules, decided here and documented in the README:

- **What is receipted**: received (or partly refunded) donations, supporting-member
  fees and in-kind gifts of a named donor with an address. Regular members' dues
  (正会員会費) are never receipted as donations. The amount is the yen settled
  minus any refund.
- **Certified or plain**: a gift gets a certified receipt (認定 / 特例認定, notice
  number and date, the §3 statement) only when the organisation profile says it
  was certified on the date received and the donor lives in Japan. Otherwise the
  receipt is a plain thank-you receipt that claims no tax status.
- **Annual receipts** cover the calendar year's gifts that are not already on a
  standing receipt (per-gift receipts are not replaced). When the year straddles
  the certification date, the donor gets two annual receipts: a plain one for the
  gifts before the date and a certified one for the rest — a tax receipt never
  mixes gifts that qualify with gifts that do not.
- **Language**: Japanese for donors in Japan, English (no Japanese tax claim) for
  donors abroad. The thank-you email is in the donor's preferred language.
- **Numbers**: ``YYYY-NNNNNN`` by the calendar year of issue, from a locked
  sequence row in the receipt's transaction, so no gaps and no reuse.
- **Lock order**: donor, then gifts (by id), then receipts, then the year's
  sequence row; ``gift_refund`` locks the gift, then its receipts.
- **Files**: the PDF is a private file with a random name, written before the
  receipt row so that every committed receipt has it; a service whose
  transaction rolls back deletes the PDFs it wrote, and the daily orphan sweep
  (``cleanup_orphan_files``) removes those of killed processes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable
from functools import partial

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from donors.models import Donor, Gift
from donors.receipts.errors import ReceiptError
from donors.receipts.models import (
    VALID_STATUSES,
    Receipt,
    ReceiptEmail,
    ReceiptGift,
    ReceiptSequence,
    ReceiptSettings,
)
from donors.receipts.pdf import ReceiptDocument, ReceiptLine, date_ja
from kyosei.audit import audit_log
from kyosei.models import CertificationStatus, OrganisationProfile, organisation_profile
from kyosei.private_files import private_file_save, private_files_deleted_on_error
from kyosei.redact import exception_summary

logger = logging.getLogger(__name__)

RECEIPTABLE_KINDS = (Gift.Kind.DONATION, Gift.Kind.SUPPORTING_FEE, Gift.Kind.IN_KIND)
RECEIPTABLE_STATUSES = (Gift.Status.RECEIVED, Gift.Status.PARTIALLY_REFUNDED)


# -- checks ---------------------------------------------------------------------------


def donor_has_name(donor: Donor) -> bool:
    if donor.kind == Donor.Kind.ORGANISATION:
        return bool(donor.organisation_name or donor.latin_name)
    return bool(donor.family_name or donor.given_name or donor.latin_name)


def _check_donor(donor: Donor) -> None:
    if donor.merged_into_id:
        raise ReceiptError(
            _("Donor #%(d)s was merged into #%(s)s; issue receipts there.")
            % {"d": donor.pk, "s": donor.merged_into_id},
            code="donor_merged",
        )
    if not donor_has_name(donor):
        raise ReceiptError(
            _("Donor #%(d)s has no name; add the name before issuing a receipt.")
            % {"d": donor.pk},
            code="no_name",
        )
    if not donor.has_address:
        raise ReceiptError(
            _(
                "%(name)s has no complete postal address; a receipt is issued "
                "only after the address is added."
            )
            % {"name": donor.display_name()},
            code="no_address",
        )


def _check_gift(gift: Gift) -> None:
    if gift.kind == Gift.Kind.MEMBER_DUES:
        raise ReceiptError(
            _(
                "Gift %(id)s is regular members' dues (正会員会費), which are not "
                "receipted as donations."
            )
            % {"id": gift.pk},
            code="member_dues",
        )
    if gift.status == Gift.Status.REFUNDED:
        raise ReceiptError(
            _("Gift %(id)s was refunded; there is nothing to receipt.")
            % {"id": gift.pk},
            code="refunded",
        )
    if gift.status not in RECEIPTABLE_STATUSES:
        raise ReceiptError(
            _("Gift %(id)s is %(s)s; only received gifts are receipted.")
            % {"id": gift.pk, "s": gift.get_status_display()},
            code="not_received",
        )
    if gift.donor_id is None:
        raise ReceiptError(
            _("Gift %(id)s has no known donor; it cannot be receipted.")
            % {"id": gift.pk},
            code="no_donor",
        )


def _receipted(gift_ids: Iterable[int]) -> dict[int, str]:
    """gift id -> number of the standing receipt it is on."""
    return dict(
        ReceiptGift.objects.filter(
            gift_id__in=list(gift_ids), receipt__status__in=VALID_STATUSES
        ).values_list("gift_id", "receipt__number")
    )


def _profile() -> OrganisationProfile:
    try:
        profile = organisation_profile()
    except OrganisationProfile.DoesNotExist:
        profile = None
    if profile is None or not profile.legal_name_ja:
        raise ReceiptError(
            _("Set the organisation's legal name in the organisation profile first."),
            code="no_legal_name",
        )
    return profile


def gift_is_certified(profile: OrganisationProfile, donor: Donor, day: dt.date) -> bool:
    """Whether a gift received on ``day`` gets a certified (tax) receipt."""
    return not donor.is_overseas and profile.is_certified_on(day)


def receipt_language(donor: Donor) -> str:
    return "en" if donor.is_overseas else "ja"


# -- numbering ------------------------------------------------------------------------


def _next_number(year: int) -> str:
    """Take the next number of ``year`` under the sequence row's lock.

    Call inside the receipt's transaction: the lock is held until it commits, and a
    rollback gives the number back, so numbers have neither gaps nor duplicates.
    """
    try:
        seq = ReceiptSequence.objects.select_for_update().get(year=year)
    except ReceiptSequence.DoesNotExist:
        try:
            with transaction.atomic():
                ReceiptSequence.objects.create(year=year, last_number=0)
        except IntegrityError:
            pass  # another issuer created it first; lock theirs
        seq = ReceiptSequence.objects.select_for_update().get(year=year)
    seq.last_number += 1
    seq.save(update_fields=["last_number"])
    return f"{year}-{seq.last_number:06d}"


# -- the document ---------------------------------------------------------------------


def _gift_lines(gifts: list[Gift]) -> list[ReceiptGift]:
    lines = []
    for gift in gifts:
        amount = gift.amount_yen - gift.refunded_yen
        if amount <= 0:
            continue
        lines.append(
            ReceiptGift(
                gift=gift,
                amount_yen=amount,
                original_amount=gift.amount,
                original_currency=gift.currency,
                received_on=gift.received_on,
            )
        )
    return lines


def _plain_reason(profile: OrganisationProfile, language: str, certified: bool) -> str:
    if certified or language != "ja":
        return ""
    start = profile.certification_valid_from or profile.certification_date
    if profile.certification_status != CertificationStatus.NONE and start:
        return (
            f"当法人が認定を受けた日（{date_ja(start)}）より前、または認定の有効期間外"
            "に受領した寄附金のため、本書は税法上の寄附金控除を受けるための証明書では"
            "ありません。"
        )
    return "本書は税法上の寄附金控除を受けるための証明書ではありません。"


def _document(
    *,
    profile: OrganisationProfile,
    receipt_settings: ReceiptSettings | None,
    number: str,
    issued_on: dt.date,
    kind: str,
    year: int,
    certified: bool,
    language: str,
    donor_name: str,
    donor_address: list[str],
    lines: list[ReceiptGift],
    replaces_number: str = "",
) -> ReceiptDocument:
    ja = language == "ja"
    seal = None
    if receipt_settings is not None and receipt_settings.seal:
        with receipt_settings.seal.open("rb") as handle:
            seal = handle.read()
    if ja:
        org_name = profile.legal_name_ja
        org_address = [
            line
            for line in (
                f"〒{profile.postal_code}" if profile.postal_code else "",
                profile.address_ja,
                f"TEL {profile.phone}" if profile.phone else "",
            )
            if line
        ]
        representative = "　".join(
            p for p in (profile.representative_title, profile.representative_name) if p
        )
    else:
        org_name = profile.legal_name_en or profile.legal_name_ja
        org_address = [
            line for line in (profile.address_en or profile.address_ja, "Japan") if line
        ]
        representative = profile.representative_name
    labels = {
        CertificationStatus.CERTIFIED: "認定特定非営利活動法人（認定NPO法人）",
        CertificationStatus.SPECIAL: "特例認定特定非営利活動法人（特例認定NPO法人）",
    }
    annual = kind == Receipt.Kind.ANNUAL or len(lines) > 1
    return ReceiptDocument(
        language=language,
        number=number,
        issued_on=issued_on,
        annual=annual,
        year=year,
        certified=certified,
        donor_name=donor_name,
        donor_address=donor_address,
        total_yen=sum(line.amount_yen for line in lines),
        lines=[
            ReceiptLine(
                received_on=line.received_on,
                amount_yen=line.amount_yen,
                original=line.original if line.original_currency != "JPY" else None,
                description=line.gift.in_kind_description
                if line.gift.kind == Gift.Kind.IN_KIND
                else "",
            )
            for line in lines
        ],
        org_name=org_name,
        org_address=org_address,
        org_representative=representative,
        certification_label=labels.get(profile.certification_status, "")
        if certified
        else "",
        certification_authority=profile.certification_authority if certified else "",
        certification_number=profile.certification_notice_number if certified else "",
        certification_date=profile.certification_date if certified else None,
        plain_reason=_plain_reason(profile, language, certified),
        replaces_number=replaces_number,
        show_wareki=bool(receipt_settings and receipt_settings.show_wareki and ja),
        closing_note=(
            (
                receipt_settings.closing_note_ja
                if ja
                else receipt_settings.closing_note_en
            )
            if receipt_settings is not None
            else ""
        ),
        seal=seal,
    )


def _receipt_settings(profile: OrganisationProfile) -> ReceiptSettings:
    return ReceiptSettings.for_site(profile.site)


def _issue(
    *,
    profile: OrganisationProfile,
    donor: Donor,
    kind: str,
    year: int,
    gifts: list[Gift],
    certified: bool,
    user: AbstractBaseUser | None,
    replaces: Receipt | None = None,
    send_email: bool = True,
) -> Receipt:
    from donors.receipts.pdf import render_receipt_pdf

    lines = _gift_lines(gifts)
    if not lines:
        raise ReceiptError(
            _("There is no amount left to receipt on these gifts."), code="nothing_left"
        )
    language = receipt_language(donor)
    donor_name = donor.display_name(language)
    donor_address = donor.address_lines()
    issued_at = timezone.now()
    issued_on = timezone.localdate(issued_at)
    number = _next_number(issued_on.year)
    document = _document(
        profile=profile,
        receipt_settings=_receipt_settings(profile),
        number=number,
        issued_on=issued_on,
        kind=kind,
        year=year,
        certified=certified,
        language=language,
        donor_name=donor_name,
        donor_address=donor_address,
        lines=lines,
        replaces_number=replaces.number if replaces else "",
    )
    pdf = render_receipt_pdf(document)
    receipt = Receipt(
        number=number,
        kind=kind,
        donor=donor,
        year=year,
        total_yen=document.total_yen,
        language=language,
        certified=certified,
        donor_name=donor_name,
        donor_address="\n".join(donor_address),
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        replaces=replaces,
        issued_by=user,
        issued_at=issued_at,
    )
    # The file is written before the row and its name (random, not the number)
    # recorded in it, so a committed receipt always has its PDF; a rollback
    # deletes it again (private_files_deleted_on_error around each service).
    private_file_save(receipt.pdf, "receipt.pdf", ContentFile(pdf))
    try:
        with transaction.atomic():
            receipt.save()
    except IntegrityError:
        raise ReceiptError(
            _("%(name)s already has an annual receipt for %(y)s.")
            % {"name": donor.display_name(), "y": year},
            code="annual_exists",
        ) from None
    for line in lines:
        line.receipt = receipt
    ReceiptGift.objects.bulk_create(lines)
    audit_log(
        receipt,
        "receipts.receipt.issued",
        user=user,
        data={
            "number": number,
            "kind": kind,
            "donor": donor.pk,
            "gifts": [line.gift_id for line in lines],
            "total_yen": receipt.total_yen,
            "certified": certified,
            "sha256": receipt.pdf_sha256,
            "replaces": replaces.number if replaces else None,
        },
    )
    if send_email and donor.email:
        receipt_email_queue(receipt=receipt)
    return receipt


def _locked_donor(donor: Donor) -> Donor:
    return Donor.objects.select_for_update().get(pk=donor.pk)


def _locked_gifts(query: Q) -> list[Gift]:
    return list(
        Gift.objects.select_for_update(of=("self",)).filter(query).order_by("pk")
    )


# -- issuing --------------------------------------------------------------------------


@private_files_deleted_on_error()
@transaction.atomic
def receipt_issue_single(
    *, gift: Gift, user: AbstractBaseUser | None, send_email: bool = True
) -> Receipt:
    """A per-gift receipt for ``gift``; refused if it is already on one."""
    _check_gift(gift)
    donor = _locked_donor(gift.donor)
    _check_donor(donor)
    profile = _profile()
    gift = _locked_gifts(Q(pk=gift.pk))[0]
    _check_gift(gift)
    if gift.donor_id != donor.pk:
        raise ReceiptError(
            _("The gift moved to another donor; try again."), code="donor_changed"
        )
    already = _receipted([gift.pk])
    if already:
        raise ReceiptError(
            _("Gift %(id)s is already on receipt %(n)s; reissue that one instead.")
            % {"id": gift.pk, "n": already[gift.pk]},
            code="already_receipted",
        )
    return _issue(
        profile=profile,
        donor=donor,
        kind=Receipt.Kind.SINGLE,
        year=gift.received_on.year,
        gifts=[gift],
        certified=gift_is_certified(profile, donor, gift.received_on),
        user=user,
        send_email=send_email,
    )


def annual_gifts_query(year: int) -> Q:
    """Gifts an annual receipt for ``year`` may list (before the receipted check)."""
    return Q(
        received_on__year=year,
        kind__in=RECEIPTABLE_KINDS,
        status__in=RECEIPTABLE_STATUSES,
    ) & Q(amount_yen__gt=F("refunded_yen"))


@private_files_deleted_on_error()
@transaction.atomic
def receipt_issue_annual(
    *,
    donor: Donor,
    year: int,
    user: AbstractBaseUser | None,
    send_email: bool = True,
) -> list[Receipt]:
    """The annual receipt(s) of ``donor`` for calendar ``year``.

    Lists every receivable gift of the year not already on a standing receipt.
    Returns one receipt, or two when the year straddles the certification date
    (plain for the earlier gifts, certified for the rest). Refused when there is
    nothing to receipt, so a rerun of the batch issues nothing twice; the unique
    constraint on (donor, year, certified) for standing annual receipts is the
    database's guard behind that.
    """
    donor = _locked_donor(donor)
    _check_donor(donor)
    profile = _profile()
    candidates = _locked_gifts(Q(donor=donor) & annual_gifts_query(year))
    already = _receipted(g.pk for g in candidates)
    gifts = [g for g in candidates if g.pk not in already]
    if not gifts:
        raise ReceiptError(
            _("%(name)s has no gifts in %(y)s that still need a receipt.")
            % {"name": donor.display_name(), "y": year},
            code="nothing_to_receipt",
        )
    groups: dict[bool, list[Gift]] = {}
    for gift in sorted(gifts, key=lambda g: (g.received_on, g.pk)):
        groups.setdefault(
            gift_is_certified(profile, donor, gift.received_on), []
        ).append(gift)
    standing = dict(
        Receipt.objects.filter(
            donor=donor,
            year=year,
            kind=Receipt.Kind.ANNUAL,
            status__in=VALID_STATUSES,
        ).values_list("certified", "number")
    )
    clash = [standing[c] for c in groups if c in standing]
    if clash:
        raise ReceiptError(
            _(
                "%(name)s already has annual receipt %(n)s for %(y)s; issue "
                "per-gift receipts for the gifts recorded since, or reissue it."
            )
            % {"name": donor.display_name(), "n": clash[0], "y": year},
            code="annual_exists",
        )
    return [
        _issue(
            profile=profile,
            donor=donor,
            kind=Receipt.Kind.ANNUAL,
            year=year,
            gifts=groups[certified],
            certified=certified,
            user=user,
            send_email=send_email,
        )
        for certified in sorted(groups)  # plain (earlier gifts) first
    ]


@private_files_deleted_on_error()
@transaction.atomic
def receipt_reissue(
    *,
    receipt: Receipt,
    user: AbstractBaseUser | None,
    reason: str,
    send_email: bool = True,
) -> Receipt:
    """A new receipt (new number, marked 再発行) for the same gifts; voids the old.

    Uses the donor's current name and address and each gift's current amount net
    of refunds (gifts refunded in full drop off). The old PDF stays as it was.
    """
    if not reason.strip():
        raise ReceiptError(_("Give a reason for the reissue."), code="reason_missing")
    # Lock order as everywhere: donor, gifts, then the receipt (a refund locks
    # its gift, then the gift's receipts).
    donor = _locked_donor(receipt.donor)
    gifts = _locked_gifts(Q(receipt_lines__receipt=receipt))
    receipt = Receipt.objects.select_for_update().get(pk=receipt.pk)
    if receipt.status == Receipt.Status.VOID:
        raise ReceiptError(
            _("Receipt %(n)s is void and cannot be reissued.") % {"n": receipt.number},
            code="void",
        )
    _check_donor(donor)
    profile = _profile()
    gifts = [
        g
        for g in gifts
        if g.status in RECEIPTABLE_STATUSES and g.amount_yen > g.refunded_yen
    ]
    if not gifts:
        raise ReceiptError(
            _("Every gift on receipt %(n)s was refunded; void it instead of reissuing.")
            % {"n": receipt.number},
            code="all_refunded",
        )
    certified = all(gift_is_certified(profile, donor, g.received_on) for g in gifts)
    _void(receipt, user, _("Reissued: %(r)s") % {"r": reason})
    new = _issue(
        profile=profile,
        donor=donor,
        kind=Receipt.Kind.REISSUE,
        year=receipt.year,
        gifts=gifts,
        certified=certified,
        user=user,
        replaces=receipt,
        send_email=send_email,
    )
    audit_log(
        receipt,
        "receipts.receipt.reissued",
        user=user,
        data={"number": receipt.number, "new": new.number, "reason": reason},
    )
    return new


def _void(receipt: Receipt, user: AbstractBaseUser | None, reason: str) -> None:
    receipt.status = Receipt.Status.VOID
    receipt.voided_by = user
    receipt.voided_at = timezone.now()
    receipt.void_reason = reason[:300]
    receipt.save(update_fields=["status", "voided_by", "voided_at", "void_reason"])
    audit_log(
        receipt,
        "receipts.receipt.voided",
        user=user,
        data={"number": receipt.number, "reason": reason},
    )


@transaction.atomic
def receipt_void(
    *, receipt: Receipt, user: AbstractBaseUser | None, reason: str
) -> Receipt:
    """Void ``receipt`` (it keeps its number and PDF); its gifts become free."""
    if not reason.strip():
        raise ReceiptError(
            _("Give a reason for voiding the receipt."), code="reason_missing"
        )
    receipt = Receipt.objects.select_for_update().get(pk=receipt.pk)
    if receipt.status == Receipt.Status.VOID:
        raise ReceiptError(
            _("Receipt %(n)s is already void.") % {"n": receipt.number},
            code="already_void",
        )
    _void(receipt, user, reason)
    return receipt


@transaction.atomic
def receipts_flag_refunded(
    *, gift: Gift, user: AbstractBaseUser | None = None
) -> list[Receipt]:
    """Mark the standing receipts of a refunded gift ``to_void`` and tell staff.

    Called by ``gift_refund`` in its transaction. Staff then void or reissue
    each flagged receipt; the email goes out after commit.
    """
    flagged = list(
        Receipt.objects.select_for_update()
        .filter(lines__gift=gift, status=Receipt.Status.ISSUED)
        .order_by("pk")
    )
    reason = _("Gift %(id)s was refunded (¥%(r)s of ¥%(a)s).") % {
        "id": gift.pk,
        "r": f"{gift.refunded_yen:,}",
        "a": f"{gift.amount_yen:,}",
    }
    return _flag_to_void(flagged, reason=reason, user=user, gift=gift.pk)


@transaction.atomic
def receipts_flag_refunded_many(
    *, gifts, reason: str, user: AbstractBaseUser | None = None
) -> list[Receipt]:
    """:func:`receipts_flag_refunded` for many gifts refunded at once (``gifts``, a
    queryset, e.g. an undone import's): one query, one email to staff."""
    flagged = list(
        Receipt.objects.select_for_update()
        .filter(
            pk__in=ReceiptGift.objects.filter(gift__in=gifts).values("receipt_id"),
            status=Receipt.Status.ISSUED,
        )
        .order_by("pk")
    )
    return _flag_to_void(flagged, reason=reason, user=user, gift=None)


def _flag_to_void(
    flagged: list[Receipt], *, reason: str, user, gift: int | None
) -> list[Receipt]:
    for receipt in flagged:
        receipt.status = Receipt.Status.TO_VOID
        receipt.flagged_reason = reason[:300]
        receipt.save(update_fields=["status", "flagged_reason"])
        audit_log(
            receipt,
            "receipts.receipt.flagged",
            user=user,
            data={"number": receipt.number, "gift": gift, "reason": reason},
        )
    if flagged:
        numbers = [r.number for r in flagged]
        transaction.on_commit(partial(_notify_staff_flagged, numbers, reason))
    return flagged


def staff_to_notify() -> list[str]:
    """Emails of active staff who may void receipts (Finance, Admin)."""
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    return sorted(
        {
            u.email
            for u in users.filter(
                Q(is_superuser=True)
                | Q(groups__permissions__codename="void_receipt")
                | Q(user_permissions__codename="void_receipt")
            )
        }
    )


def _notify_staff_flagged(numbers: list[str], reason: str) -> None:
    recipients = staff_to_notify()
    if not recipients:
        # not the reason: staff type it and it may name the donor
        logger.warning("Receipts %s to void, no staff to tell", numbers)
        return
    try:
        send_mail(
            subject=_("Receipts to void: %(n)s") % {"n": ", ".join(numbers)},
            message=_(
                "%(reason)s\n\nThese receipts still stand and must be voided or "
                "reissued: %(n)s.\nSee Receipts in the admin (filter: to void)."
            )
            % {"reason": reason, "n": ", ".join(numbers)},
            from_email=None,
            recipient_list=recipients,
        )
    except OSError as exc:  # SMTP down: the admin list still shows them
        # the class only: an SMTP refusal lists the staff's addresses
        logger.warning(
            "Could not email staff about receipts %s: %s",
            numbers,
            exception_summary(exc),
        )


# -- emails ---------------------------------------------------------------------------


def receipt_email_queue(*, receipt: Receipt) -> ReceiptEmail:
    """Record a thank-you email for ``receipt`` and send it after commit."""
    from donors.receipts.tasks import send_receipt_email

    donor = receipt.donor
    email = ReceiptEmail.objects.create(
        receipt=receipt,
        to_email=donor.email,
        language=donor.preferred_language or "ja",
    )
    transaction.on_commit(partial(send_receipt_email.delay, email.pk))
    return email


EMAIL_LANGUAGES = ("ja", "en", "vi")


def receipt_email_send(*, email: ReceiptEmail) -> ReceiptEmail:
    """Send the thank-you email with the stored receipt PDF attached.

    Runs outside any transaction (in the Celery task). A transport error is
    recorded on the row (status failed, error kept) and raised so the task can
    retry; a success marks it sent. Idempotent: a sent email is not sent again;
    one without an address (the donor's data was erased) is not sent at all.
    """
    from django.core.mail import EmailMessage
    from django.template.loader import render_to_string
    from django.utils import translation

    email = ReceiptEmail.objects.select_related("receipt__donor").get(pk=email.pk)
    if email.status == ReceiptEmail.Status.SENT:
        return email
    if not email.to_email:  # the donor's personal data was erased meanwhile
        return email
    receipt = email.receipt
    language = email.language if email.language in EMAIL_LANGUAGES else "ja"
    profile = _profile()
    context = {
        "receipt": receipt,
        "donor_name": receipt.donor.display_name(language),
        "org_name": profile.legal_name_ja
        if language == "ja"
        else (profile.legal_name_en or profile.legal_name_ja),
        "org_email": profile.email,
        "total": receipt.total.format(language),
    }
    with translation.override(language):
        subject = render_to_string(
            f"donors/receipts/email/subject_{language}.txt", context
        ).strip()
        body = render_to_string(f"donors/receipts/email/body_{language}.txt", context)
    message = EmailMessage(subject=subject, body=body, to=[email.to_email])
    message.attach(
        f"receipt-{receipt.number}.pdf", receipt.pdf_bytes(), "application/pdf"
    )
    email.attempts += 1
    try:
        message.send()
    except Exception as exc:  # noqa: BLE001 - any transport error is recorded
        email.status = ReceiptEmail.Status.FAILED
        email.error = f"{type(exc).__name__}: {exc}"[:2000]
        email.save(update_fields=["status", "error", "attempts"])
        raise
    email.status = ReceiptEmail.Status.SENT
    email.error = ""
    email.sent_at = timezone.now()
    email.save(update_fields=["status", "error", "attempts", "sent_at"])
    return email


@transaction.atomic
def receipt_email_mark_bounced(
    *, email: ReceiptEmail, error: str, user: AbstractBaseUser | None = None
) -> ReceiptEmail:
    """Record a bounce reported by the mail provider or seen by staff."""
    email = ReceiptEmail.objects.select_for_update().get(pk=email.pk)
    email.status = ReceiptEmail.Status.BOUNCED
    email.error = error[:2000]
    email.save(update_fields=["status", "error"])
    audit_log(
        email.receipt,
        "receipts.email.bounced",
        user=user,
        data={"email": email.pk, "to": email.to_email, "error": error},
    )
    return email
