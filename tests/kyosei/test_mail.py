"""Sign-in emails are rendered in the request and sent by Celery after commit."""

import json

import pytest
from django.core import mail
from django.core.mail import EmailMessage, EmailMultiAlternatives

from kyosei.mail import email_queue, message_to_dict
from kyosei.tasks import send_email


def test_dict_form_survives_json_and_sends_the_same_message():
    message = EmailMultiAlternatives(
        "件名 subject",
        "本文 body",
        from_email="Kyosei <noreply@example.org>",
        to=["a@example.jp"],
        cc=["c@example.jp"],
        reply_to=["r@example.jp"],
        headers={"X-Kyosei": "1"},
    )
    message.attach_alternative("<p>本文</p>", "text/html")
    send_email(json.loads(json.dumps(message_to_dict(message))))
    (sent,) = mail.outbox
    assert (sent.subject, sent.body, sent.from_email) == (
        "件名 subject",
        "本文 body",
        "Kyosei <noreply@example.org>",
    )
    assert (sent.to, sent.cc, sent.reply_to) == (
        ["a@example.jp"],
        ["c@example.jp"],
        ["r@example.jp"],
    )
    assert sent.extra_headers == {"X-Kyosei": "1"}
    assert sent.alternatives[0][:2] == ("<p>本文</p>", "text/html")


def test_attachments_are_refused():
    message = EmailMessage("s", "b", to=["a@example.jp"])
    message.attach("x.txt", "x", "text/plain")
    with pytest.raises(ValueError):
        message_to_dict(message)


@pytest.mark.django_db
def test_queued_email_leaves_only_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        email_queue(EmailMessage("s", "b", to=["a@example.jp"]))
    assert mail.outbox == []
    (callback,) = callbacks
    callback()
    assert [m.to for m in mail.outbox] == [["a@example.jp"]]
