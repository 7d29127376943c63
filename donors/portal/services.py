"""Writes the donor portal makes: linking an account, deletion requests and
anonymisation. Every write is audited in its own transaction.

Who may call: the portal views (acting donor user) and staff admin views
(``donor_portal.process_deletionrequest``). None takes a request.
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.models import ModelLogEntry

from donors.errors import DonorError
from donors.models import Donor
from donors.portal.erasure import donor_erase
from donors.portal.models import DeletionRequest
from kyosei.audit import audit_log
from kyosei.roles import is_staff_user


@transaction.atomic
def donor_portal_link(*, user: AbstractBaseUser) -> Donor | None:
    """Link ``user`` to the donor record with the same **verified** email.

    The email was proven by allauth (verification link or login code), so it is
    safe to attach the portal account to the donor who gave us that address. Only
    when exactly one active, unlinked donor matches; duplicates must be merged by
    staff first. Staff accounts are never linked (staff are not donors here).
    Idempotent: an already linked user gets their donor back.
    """
    linked = Donor.objects.filter(user=user, merged_into__isnull=True).first()
    if linked is not None or is_staff_user(user):
        return linked
    emails = [
        e.lower()
        for e in EmailAddress.objects.filter(user=user, verified=True).values_list(
            "email", flat=True
        )
    ]
    if not emails:
        return None
    candidates = list(
        Donor.objects.select_for_update().filter(
            email_key__in=emails, merged_into__isnull=True, user__isnull=True
        )[:2]
    )
    if len(candidates) != 1:
        return None
    donor = candidates[0]
    donor.user = user
    donor.save(update_fields=["user", "updated_at"])
    audit_log(donor, "donors.donor.portal_linked", user=user, data={})
    return donor


@transaction.atomic
def deletion_request_create(
    *, donor: Donor, user: AbstractBaseUser | None, reason: str = ""
) -> DeletionRequest:
    if DeletionRequest.objects.filter(
        donor=donor, status=DeletionRequest.Status.OPEN
    ).exists():
        raise DonorError(
            _(
                "We already have your request to delete your account; staff will "
                "confirm by email when it is done."
            )
        )
    request = DeletionRequest.objects.create(
        donor=donor, reason=reason.strip(), requested_by=user
    )
    audit_log(request, "donors.deletion_request.created", user=user, data={})
    return request


def _lock_open(deletion_request: DeletionRequest) -> DeletionRequest:
    locked = DeletionRequest.objects.select_for_update().get(pk=deletion_request.pk)
    if locked.status != DeletionRequest.Status.OPEN:
        raise DonorError(
            _("This request was already handled (%(s)s).")
            % {"s": locked.get_status_display()}
        )
    return locked


@transaction.atomic
def deletion_request_process(
    *, deletion_request: DeletionRequest, user: AbstractBaseUser, staff_note: str = ""
) -> DeletionRequest:
    """Anonymise the donor and close the request (see ``donor_anonymise``).

    Processing a request that is no longer open raises ``DonorError`` and
    changes nothing. The staff note is saved first, so the erasure cleans it of
    the donor's name like every other text about them.
    """
    request = _lock_open(deletion_request)
    request.status = DeletionRequest.Status.DONE
    request.processed_at = timezone.now()
    request.processed_by = user
    request.staff_note = staff_note
    request.save()
    donor = donor_anonymise(donor=request.donor, user=user)
    request.refresh_from_db()
    audit_log(
        request,
        "donors.deletion_request.processed",
        user=user,
        data={"donor": donor.pk},
    )
    return request


@transaction.atomic
def deletion_request_reject(
    *, deletion_request: DeletionRequest, user: AbstractBaseUser, staff_note: str
) -> DeletionRequest:
    if not staff_note.strip():
        raise DonorError(_("Say why the request is rejected (the donor is told)."))
    request = _lock_open(deletion_request)
    request.status = DeletionRequest.Status.REJECTED
    request.processed_at = timezone.now()
    request.processed_by = user
    request.staff_note = staff_note.strip()
    request.save()
    audit_log(
        request,
        "donors.deletion_request.rejected",
        user=user,
        data={"note": request.staff_note},
    )
    return request


@transaction.atomic
def donor_anonymise(*, donor: Donor, user: AbstractBaseUser | None) -> Donor:
    """Erase a donor's personal data everywhere; keep the record, gifts and
    issued receipts (see ``donors.portal.erasure`` for every table's decision).

    Gifts stay (the books; receipts under 電子帳簿保存法) and now belong to a
    nameless donor, which the donor register shows without name or address and
    never counts for the PST. Monthly gifts are cancelled (an online one at
    Stripe too, after commit), the portal account is deactivated and emptied,
    merged duplicates are erased with the donor, and earlier audit entries,
    merge snapshots, donation intents, Stripe payloads, receipt emails and
    import rows lose what identified the donor.

    One transaction; locks in the project's order (donation intents, then the
    donors in id order). Idempotent: run again, it finds nothing to erase and
    writes no second audit entry. The audit entry holds ids and counts only.
    """
    data = donor_erase(donor=donor, user=user)
    donor = Donor.objects.get(pk=donor.pk)
    already = ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Donor),
        object_id=str(donor.pk),
        action="donors.donor.anonymised",
    ).exists()
    if data["counts"] or not already:
        audit_log(donor, "donors.donor.anonymised", user=user, data=data)
    return donor
