"""What a refused import reports: every problem as "row N, field F: reason", all at once.

The shape is beancount's: nothing stops at the first error, so a lender fixes a file in one go.
Rows are numbered as a spreadsheet user sees them (the header is row 1); ``None`` is the file as
a whole. Reading, validation and writing all produce these, so they sit apart from all three.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from arrears.kernel.errors import ArrearsError


class ImportRejected(ArrearsError):
    """The file was not applied at all; ``errors`` lists every problem found."""

    code = "ledger-import-rejected"

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = tuple(errors)
        lines = "\n".join(str(error) for error in self.errors)
        super().__init__(f"{len(self.errors)} error(s); nothing was imported:\n{lines}")


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem: ``row`` as a spreadsheet numbers it (``None`` for the file as a whole)."""

    row: int | None
    field: str
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return f"{self.field}: {self.message}"
        return f"row {self.row}, field {self.field}: {self.message}"


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def file_error(message: str) -> ImportRejected:
    return ImportRejected([RowError(None, "file", message)])
