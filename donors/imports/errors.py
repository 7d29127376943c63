from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RowError:
    """One problem, tied to the row (record or line number, 1-based) it came from."""

    row: int
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "message": self.message}


class ImportRefused(Exception):
    """The whole file was refused; nothing was written."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"row {e.row}: {e.message}" for e in errors[:5]))


class BatchError(Exception):
    """A batch operation broke a rule (wrong status, already undone...)."""
