"""Reads for receipts: lists, batch candidates, the print run."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from donors.models import Donor, Gift
from donors.receipts.models import VALID_STATUSES, Receipt, ReceiptEmail, ReceiptGift


def receipt_list(*, search: str = "", status: str = "") -> QuerySet[Receipt]:
    """Receipts for staff, newest first; ``search`` matches number or donor name."""
    receipts = Receipt.objects.select_related("donor")
    if status:
        receipts = receipts.filter(status=status)
    search = search.strip()
    if search:
        receipts = receipts.filter(
            Q(number__icontains=search)
            | Q(donor_name__icontains=search)
            | Q(donor__search_text__icontains=search)
        )
    return receipts.order_by("-issued_at", "-id")


def receipt_email_list(*, status: str = "") -> QuerySet[ReceiptEmail]:
    emails = ReceiptEmail.objects.select_related("receipt")
    if status:
        emails = emails.filter(status=status)
    return emails.order_by("-created_at", "-id")


def annual_candidate_donor_ids(year: int) -> list[int]:
    """Donors with gifts of ``year`` that an annual receipt may list, by id.

    Gifts already on a standing receipt do not count, so after a crash the
    batch's rerun starts where it stopped.
    """
    from donors.receipts.services import annual_gifts_query

    receipted = ReceiptGift.objects.filter(
        gift=OuterRef("pk"), receipt__status__in=VALID_STATUSES
    )
    open_gifts = Gift.objects.filter(
        annual_gifts_query(year), donor=OuterRef("pk")
    ).filter(~Exists(receipted))
    return list(
        Donor.objects.filter(merged_into__isnull=True)
        .filter(Exists(open_gifts))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def annual_print_receipts(year: int) -> QuerySet[Receipt]:
    """Standing annual receipts of ``year`` for donors without email, in postal
    code order (for mailing), then number."""
    return (
        Receipt.objects.filter(
            year=year,
            kind__in=(Receipt.Kind.ANNUAL, Receipt.Kind.REISSUE),
            status__in=VALID_STATUSES,
        )
        .filter(Q(replaces__isnull=True) | Q(replaces__kind=Receipt.Kind.ANNUAL))
        .filter(donor__email="")
        .select_related("donor")
        .order_by("donor__country", "donor__postal_code", "number")
    )
