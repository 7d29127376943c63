"""Thanking the donor of an online gift: a numbered receipt or a thank-you email.

Invariant: each online gift is acknowledged once. ``Gift.acknowledged_at`` is
claimed with a conditional update before anything is sent, so two workers (a
re-delivered task, the hourly sweep) cannot both send; if sending fails the claim
is released and the task retries. A gift whose acknowledgement never ran (a
worker died between the gift's commit and its task) is found by
``gifts_unacknowledged`` and queued again by the hourly beat task.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from donors.models import Gift

logger = logging.getLogger(__name__)

#: The sweep leaves younger gifts to the task queued when they were recorded.
SWEEP_GRACE = dt.timedelta(minutes=10)
#: Older gifts are not thanked automatically any more (staff see them as unsent).
SWEEP_WINDOW = dt.timedelta(days=7)


def donor_email_send(template: str, *, to: str, language: str, context: dict) -> None:
    """Render ``campaigns/email/<template>[_subject].txt`` in the donor's language."""
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"campaigns/email/{template}_subject.txt", context)
        body = render_to_string(f"campaigns/email/{template}.txt", context)
    send_mail(" ".join(subject.split()), body, None, [to])


def gift_acknowledge(*, gift_pk: int) -> str:
    """Send the receipt (寄附金受領証明書, emailed by the receipts service) or — when
    one cannot be issued yet (no postal address, an unnamed donor) — a plain
    thank-you that claims no tax status. Returns what was done."""
    from donors.receipts.errors import ReceiptError
    from donors.receipts.services import receipt_issue_single

    claimed = Gift.objects.filter(pk=gift_pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now()
    )
    if not claimed:
        return "already" if Gift.objects.filter(pk=gift_pk).exists() else "missing"
    gift = Gift.objects.select_related("donor", "campaign").get(pk=gift_pk)
    try:
        if gift.donor is None:
            return "no-donor"
        try:
            with transaction.atomic():
                receipt = receipt_issue_single(gift=gift, user=None, send_email=True)
        except ReceiptError as exc:
            # the code, not the message: it names the donor
            logger.info("No receipt for gift %s yet: %s", gift_pk, exc.code)
        except Exception:  # never lose the thank-you over a receipt fault
            logger.exception("Receipt for gift %s failed; sending a thank-you", gift_pk)
        else:
            return f"receipt {receipt.number}"
        if not gift.donor.email:
            return "no-email"
        donor_email_send(
            "thank_you",
            to=gift.donor.email,
            language=gift.donor.preferred_language,
            context={"gift": gift, "donor": gift.donor},
        )
        return "thank-you"
    except BaseException:
        # Nothing was sent: release the claim so the retry (or the sweep) sends it.
        Gift.objects.filter(pk=gift_pk).update(acknowledged_at=None)
        raise


def gifts_unacknowledged(*, now: dt.datetime | None = None) -> list[int]:
    """Online gifts recorded 10 minutes to 7 days ago whose donor was not thanked."""
    now = now or timezone.now()
    return list(
        Gift.objects.filter(
            acknowledged_at__isnull=True,
            created_at__lte=now - SWEEP_GRACE,
            created_at__gte=now - SWEEP_WINDOW,
        )
        .exclude(stripe_charge_id__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:1000]
    )
