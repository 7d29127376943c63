"""Core Celery tasks."""

import socket

from celery import shared_task
from django.core.mail import EmailMultiAlternatives

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
