"""What every reader produces: one :class:`Transfer` per statement line."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _

from donors.imports.errors import ImportRefused, RowError

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
MAX_ERRORS = 50  # enough to fix a file; a wrong encoding would list every row


@dataclass
class Transfer:
    row: int
    received_on: dt.date | None
    amount_yen: int
    payer_name: str
    incoming: bool
    skip_reason: str = ""
    reference: str = ""
    raw: str = ""
    # The bank's identifying fields; their SHA-256 is the gift's import_fingerprint.
    ref_parts: tuple[str, ...] = field(default_factory=tuple)
    fingerprint: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Computed once here: a cached_property takes a lock on every first
        # read, which costs more than the hash over a 100,000-line statement.
        self.set_ref_parts(self.ref_parts)

    def set_ref_parts(self, parts: tuple[str, ...]) -> None:
        self.ref_parts = parts
        self.fingerprint = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def max_bytes() -> int:
    return int(getattr(settings, "KYOSEI_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def read_limited(path: str | os.PathLike) -> bytes:
    """The file's bytes, refusing an empty file or one over the size limit before
    reading it into memory."""
    size = os.stat(path).st_size
    limit = max_bytes()
    if size > limit:
        raise ImportRefused(
            [
                RowError(
                    0,
                    _(
                        "The file is %(size)s MB; the limit is %(limit)s MB "
                        "(KYOSEI_IMPORT_MAX_BYTES). Split the statement by period."
                    )
                    % {
                        "size": f"{size / 1048576:,.1f}",
                        "limit": f"{limit / 1048576:,.0f}",
                    },
                )
            ]
        )
    if size == 0:
        raise ImportRefused([RowError(0, _("The file is empty."))])
    with open(path, "rb") as handle:
        return handle.read()


class ErrorList(list):
    """Collects row errors; ``refuse_if_any`` raises them all at once (the first
    :data:`MAX_ERRORS`, then a line counting the rest)."""

    more = 0

    def add(self, row: int, message: str) -> None:
        if len(self) < MAX_ERRORS:
            self.append(RowError(row, message))
        else:
            self.more += 1

    def refuse_if_any(self) -> None:
        if self:
            errors = list(self)
            if self.more:
                errors.append(
                    RowError(0, _("… and %(n)s more errors.") % {"n": self.more})
                )
            raise ImportRefused(errors)
