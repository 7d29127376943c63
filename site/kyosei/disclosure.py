"""Small-number suppression for aggregate reports.

An aggregate of fewer than :data:`SMALL_COUNT` records (gifts, people served)
is hidden: narrowed to one day or one small fund, a "total" is one person's gift.
Hiding the small cells alone is not enough when the rows add up to a total that is
shown — the total minus the shown rows gives the hidden row away — so within one
breakdown the smallest shown rows are hidden as well until the hidden rows
together aggregate at least :data:`SMALL_COUNT` records.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _

SMALL_COUNT = 5

#: Why a cell is hidden; "" when it is shown.
SMALL = "small"  # fewer than SMALL_COUNT records
COMPLEMENT = "complement"  # hidden too, so the small ones cannot be worked out

MARKERS = {SMALL: "<5", COMPLEMENT: "…"}
LEGEND = {
    SMALL: _("fewer than 5 gifts: hidden so that no one's gift can be seen"),
    COMPLEMENT: _(
        "hidden as well, so that a row of fewer than 5 gifts cannot be worked "
        "out from the total"
    ),
}


def is_small(count: int | None) -> bool:
    return (count or 0) < SMALL_COUNT


def suppress_breakdown(
    rows: Iterable[dict[str, Any]],
    *,
    count: str = "count",
    values: tuple[str, ...] = ("count", "total"),
) -> list[dict[str, Any]]:
    """Copies of one breakdown's rows (rows that partition one total), each with
    ``hidden`` set to ``""``, :data:`SMALL` or :data:`COMPLEMENT`; the ``values``
    of a hidden row are ``None``, so no template or export can show them."""
    out = [{**row, "hidden": ""} for row in rows]
    hidden_count = 0
    for row in out:
        if is_small(row[count]):
            row["hidden"] = SMALL
            hidden_count += row[count] or 0
    if any(row["hidden"] for row in out):
        shown = sorted(
            (row for row in out if not row["hidden"]), key=lambda row: row[count]
        )
        while hidden_count < SMALL_COUNT and shown:
            row = shown.pop(0)
            row["hidden"] = COMPLEMENT
            hidden_count += row[count]
    for row in out:
        if row["hidden"]:
            for key in values:
                row[key] = None
    return out
