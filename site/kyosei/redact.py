"""Describing failures without the personal data their messages carry.

Logs are kept longer and read more widely than the database (shipped to a log
service, pasted into issues), so Kyosei logs ids, never donors' names, emails,
addresses or payer names. An exception's message is not safe to log: an SMTP
refusal lists the recipients' addresses, a database error the failing row, a
receipt refusal names the donor. :func:`exception_summary` keeps the class and
any machine code (SMTP status, SQLSTATE, Kyosei's error code) and drops the
message; the full message stays where staff see it (the row that failed).
"""

from __future__ import annotations

# Attributes that hold a code, never text someone typed.
CODE_ATTRIBUTES = ("code", "smtp_code", "sqlstate", "http_status")


def exception_summary(exc: BaseException) -> str:
    """``"SMTPRecipientsRefused"``, ``"ReceiptError code=no_address"``."""
    parts = [type(exc).__name__]
    for name in CODE_ATTRIBUTES:
        value = getattr(exc, name, None)
        if isinstance(value, int | str) and not isinstance(value, bool) and value:
            parts.append(f"{name}={value}")
    return " ".join(parts)


class RedactedError(Exception):
    """Raised in place of an exception whose message may hold personal data,
    where the exception would be logged (a Celery retry logs its exception):
    the message is :func:`exception_summary` of the original."""

    @classmethod
    def of(cls, exc: BaseException) -> RedactedError:
        return cls(exception_summary(exc))
