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
from donors.models import Donor, DonorMerge, RecurringGift
from donors.portal.models import DeletionRequest
from donors.services.donors import donor_refresh_keys
from donors.services.recurring import recurring_gift_cancel
from kyosei.audit import audit_log
from kyosei.roles import is_staff_user

# Personal fields blanked by anonymisation; kind, donor type, country (needed to
# tell a domestic gift from an overseas one in the register), officer terms and
# giving stay.
PERSONAL_FIELDS = (
    "family_name", "given_name", "family_name_kana", "given_name_kana",
    "organisation_name", "organisation_name_kana", "latin_name", "email",
    "email_secondary", "phone", "postal_code", "prefecture", "region", "city",
    "address_line1", "address_line2", "notes",
)  # fmt: skip


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
    """Anonymise the donor and close the request (see ``donor_anonymise``)."""
    request = _lock_open(deletion_request)
    donor_anonymise(donor=request.donor, user=user)
    request.status = DeletionRequest.Status.DONE
    request.processed_at = timezone.now()
    request.processed_by = user
    request.staff_note = staff_note
    request.reason = ""  # the donor's own words may name them
    request.save()
    audit_log(request, "donors.deletion_request.processed", user=user, data={})
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
    """Remove a donor's personal data; keep the record, gifts and receipts.

    Gifts stay (the donor register is kept 5 years, receipts under 電子帳簿保存法)
    and now belong to a nameless donor, which the register shows without name or
    address and never counts for the PST. Active recurring gifts are cancelled,
    the portal account is deactivated and stripped of its emails, tags and the
    household link go, and the names kept in earlier audit rows and merge
    snapshots of this donor are redacted.
    """
    donor = Donor.objects.select_for_update().get(pk=donor.pk)
    if donor.merged_into_id:
        raise DonorError(
            _("This donor was merged into #%(id)s; process that record.")
            % {"id": donor.merged_into_id}
        )
    for recurring in RecurringGift.objects.filter(donor=donor).exclude(
        status=RecurringGift.Status.CANCELLED
    ):
        recurring_gift_cancel(
            recurring_gift=recurring, user=user, reason="donor account deleted"
        )
    for name in PERSONAL_FIELDS:
        setattr(donor, name, "")
    donor.household = None
    donor.needs_review = False
    account = donor.user
    donor.user = None
    donor_refresh_keys(donor)
    donor.save()
    donor.tags.clear()
    if account is not None:
        EmailAddress.objects.filter(user=account).delete()
        account.is_active = False
        account.email = ""
        account.username = f"deleted-donor-{donor.pk}"
        account.first_name = account.last_name = ""
        account.set_unusable_password()
        account.save()
    DonorMerge.objects.filter(survivor=donor).update(snapshot={"redacted": True})
    label = f"#{donor.pk}"
    ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Donor), object_id=str(donor.pk)
    ).update(label=label)
    ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Donor),
        object_id=str(donor.pk),
        action="donors.donor.updated",
    ).update(data={"redacted": True})
    audit_log(donor, "donors.donor.anonymised", user=user, data={})
    return donor
