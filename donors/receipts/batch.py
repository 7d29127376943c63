"""The annual receipt run: every donor with gifts still to receipt for a year.

Each donor is issued in its own transaction (``receipt_issue_annual``), so the run
can be stopped or crash at any point: a rerun picks up the donors whose gifts are
still unreceipted, and the unique constraint on standing annual receipts guards
against duplicates. Donors who cannot get a receipt (no name, no address) are
listed with the reason and left for staff.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser

from donors.models import Donor
from donors.receipts.errors import ReceiptError
from donors.receipts.selectors import annual_candidate_donor_ids, annual_print_receipts
from donors.receipts.services import donor_has_name, receipt_issue_annual


@dataclass
class BatchProgress:
    year: int
    total: int = 0
    done: int = 0
    issued: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)
    dry_run: bool = False
    finished: bool = False

    def as_dict(self) -> dict:
        return {
            "year": self.year,
            "total": self.total,
            "done": self.done,
            "issued": self.issued,
            "skipped": len(self.skipped),
            "skipped_reasons": [
                {"donor": donor_id, "reason": reason}
                for donor_id, reason in self.skipped[:100]
            ],
            "dry_run": self.dry_run,
            "finished": self.finished,
        }


def annual_batch_run(
    *,
    year: int,
    user: AbstractBaseUser | None,
    dry_run: bool = False,
    send_email: bool = True,
    progress: Callable[[BatchProgress], None] | None = None,
    every: int = 25,
) -> BatchProgress:
    """Issue the annual receipts of ``year``; ``progress`` is called every
    ``every`` donors and at the end. ``dry_run`` checks without writing."""
    donor_ids = annual_candidate_donor_ids(year)
    state = BatchProgress(year=year, total=len(donor_ids), dry_run=dry_run)
    if progress:
        progress(state)
    for donor_id in donor_ids:
        donor = Donor.objects.get(pk=donor_id)
        if dry_run:
            reason = _dry_run_problem(donor)
            if reason:
                state.skipped.append((donor_id, reason))
            else:
                state.issued += 1
        else:
            try:
                receipts = receipt_issue_annual(
                    donor=donor, year=year, user=user, send_email=send_email
                )
            except ReceiptError as exc:
                state.skipped.append((donor_id, str(exc)))
            else:
                state.issued += len(receipts)
        state.done += 1
        if progress and (state.done % every == 0):
            progress(state)
    state.finished = True
    if progress:
        progress(state)
    return state


def _dry_run_problem(donor: Donor) -> str:
    if not donor_has_name(donor):
        return "no name"
    if not donor.has_address:
        return "no postal address"
    return ""


def annual_print_pdf(*, year: int, output: Path) -> int:
    """Merge the year's annual receipts for donors without email into one
    print-ready PDF, in postal code order. Returns the number of receipts."""
    from pypdf import PdfWriter

    receipts = list(annual_print_receipts(year))
    if not receipts:
        return 0
    writer = PdfWriter()
    for receipt in receipts:
        with receipt.pdf.open("rb") as handle:
            writer.append(handle)
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output, "wb") as handle:
        writer.write(handle)
    return len(receipts)
