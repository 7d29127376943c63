"""Emails rendered in the request, sent by a Celery task after commit.

Sign-in emails (verification links, login codes, password reset, the sign-up
answers) are rendered where the request is known (language, absolute URLs) and
handed to ``kyosei.send_email`` once the transaction commits, so no request waits
on the mail server, and two requests that each send one email do the same work
whatever the email says.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.core.mail import EmailMessage
from django.db import transaction

from kyosei.tasks import send_email


def message_to_dict(message: EmailMessage) -> dict[str, Any]:
    """A JSON-able copy of ``message`` (no attachments: sign-in mail has none);
    ``kyosei.tasks.send_email`` builds it again."""
    if message.attachments:
        raise ValueError("queued emails carry no attachments")
    alternatives = getattr(message, "alternatives", [])
    return {
        "subject": str(message.subject),
        "body": str(message.body),
        "content_subtype": message.content_subtype,
        "from_email": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "headers": dict(message.extra_headers),
        "alternatives": [
            [str(content), mimetype] for content, mimetype in alternatives
        ],
    }


def email_queue(message: EmailMessage) -> None:
    """Send ``message`` from a Celery task once the current transaction commits."""
    transaction.on_commit(partial(send_email.delay, message_to_dict(message)))
