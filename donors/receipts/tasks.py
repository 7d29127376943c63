"""Celery tasks for receipts: thin, take ids, call one service."""

from __future__ import annotations

import logging

from celery import shared_task

from donors.receipts.models import ReceiptEmail
from donors.receipts.services import receipt_email_send
from kyosei.redact import RedactedError, exception_summary

logger = logging.getLogger(__name__)

MAX_RETRIES = 4


@shared_task(bind=True, name="receipts.send_receipt_email", max_retries=MAX_RETRIES)
def send_receipt_email(self, email_id: int) -> str:
    """Send one recorded thank-you email; retry with back-off on failure.

    Every failed attempt is recorded on the ``ReceiptEmail`` row (status failed,
    error kept); after the last retry it stays failed for staff to see.
    """
    email = ReceiptEmail.objects.get(pk=email_id)
    # Eager mode (no broker) has no worker to come back later: retry at once.
    tries = MAX_RETRIES + 1 if self.request.is_eager else 1
    for _attempt in range(tries):
        try:
            receipt_email_send(email=email)
        except Exception as exc:  # noqa: BLE001 - recorded by the service
            error = exc
        else:
            return ReceiptEmail.Status.SENT
    # The error's class and codes only: an SMTP refusal lists the recipient's
    # address (the whole message is on the ReceiptEmail row for staff).
    if self.request.is_eager or self.request.retries >= MAX_RETRIES:
        logger.warning(
            "Receipt email %s failed: %s", email_id, exception_summary(error)
        )
        return ReceiptEmail.Status.FAILED
    raise self.retry(
        exc=RedactedError.of(error), countdown=60 * 2**self.request.retries
    )


@shared_task(name="receipts.run_annual_batch")
def run_annual_batch(year: int, user_id: int | None, dry_run: bool = False) -> dict:
    """The annual batch for the admin screen; progress goes to the cache as JSON.

    Progress is read by the admin's polling view, so with a separate worker the
    cache must be shared (``CACHE_URL``, Redis).
    """
    from django.contrib.auth import get_user_model
    from django.core.cache import cache

    from donors.receipts.batch import annual_batch_run
    from donors.receipts.views import progress_key

    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None

    def report(state) -> None:
        cache.set(progress_key(year), state.as_dict(), 86400)

    return annual_batch_run(
        year=year, user=user, dry_run=dry_run, progress=report, every=10
    ).as_dict()


@shared_task(name="receipts.issue_gift_receipt")
def issue_gift_receipt(gift_id: int) -> str | None:
    """Issue and email the per-gift receipt of one gift (queue it on commit).

    Idempotent: a gift already on a standing receipt, dues, or a donor without
    an address or name is refused by the service and logged; staff see those in
    the admin and issue later. Returns the receipt number or None.
    """
    from donors.models import Gift
    from donors.receipts.errors import ReceiptError
    from donors.receipts.services import receipt_issue_single

    gift = Gift.objects.select_related("donor").filter(pk=gift_id).first()
    if gift is None:
        return None
    try:
        return receipt_issue_single(gift=gift, user=None).number
    except ReceiptError as exc:
        logger.info("No receipt for gift %s: %s", gift_id, exc.code)
        return None
