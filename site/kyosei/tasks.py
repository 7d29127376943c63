"""Core Celery tasks."""

import datetime as dt
import socket

from celery import shared_task
from django.core.mail import EmailMultiAlternatives

from kyosei.private_files import private_orphans_delete

EMAIL_MAX_RETRIES = 5


@shared_task(name="kyosei.healthcheck")
def healthcheck(token: str) -> dict[str, str]:
    """Echo ``token`` with the worker's host name: proves a worker is consuming."""
    return {"token": token, "host": socket.gethostname()}


@shared_task(
    name="kyosei.send_email",
    autoretry_for=(OSError,),  # smtplib's errors are OSErrors
    retry_backoff=30,
    max_retries=EMAIL_MAX_RETRIES,
)
def send_email(message: dict) -> None:
    """Send one email queued by ``kyosei.mail.email_queue`` (its dict form);
    retried with back-off while the mail server is unreachable."""
    email = EmailMultiAlternatives(
        subject=message["subject"],
        body=message["body"],
        from_email=message["from_email"],
        to=message["to"],
        cc=message["cc"],
        bcc=message["bcc"],
        reply_to=message["reply_to"],
        headers=message["headers"],
    )
    email.content_subtype = message["content_subtype"]
    for content, mimetype in message["alternatives"]:
        email.attach_alternative(content, mimetype)
    email.send()


@shared_task(name="kyosei.cleanup_orphan_files")
def cleanup_orphan_files(hours: float = 24) -> int:
    """Daily (beat): delete private files no row names, older than ``hours``."""
    result = private_orphans_delete(older_than=dt.timedelta(hours=hours))
    return len(result.deleted)
