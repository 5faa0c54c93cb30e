"""The vectorised first pass: every value of the whole file against the ledger's limits at once.

One Polars expression per column finds the rows whose value is outside
:mod:`arrears.kernel.limits` — a NUL or control character, a reference outside the alphabet, a
name over 200 characters, an amount of 10^13 minor units or more, a date outside 1970–2199 —
without building a Python value per row, looking anything up or computing a schedule. A file
with any such value is refused right here, with every one of them as ``row N, field F: reason``:
refusing a 100 000-row file for its last row costs one pass over the columns, not the full
validation. Values this pass lets through are parsed row by row (:mod:`~.rows`), which checks the
same limits again (the per-row parsers are also what the services use), so a gap here can
never let a value in — only make a refusal slower.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import polars as pl

from arrears.kernel import limits
from arrears.kernel.money import CURRENCY_EXPONENTS
from arrears.ledger.importers.errors import RowError
from arrears.ledger.importers.reading import Table

#: Columns holding references, per kind of file.
REF_COLUMNS = {
    "loans": ("loan_ref", "borrower_ref"),
    "payments": ("payment_ref", "loan_ref", "reverses"),
}
#: Free-text columns bounded to :data:`~arrears.kernel.limits.MAX_NAME_LENGTH` characters.
TEXT_COLUMNS = {"loans": ("borrower_name",), "payments": ()}
AMOUNT_COLUMNS = {"loans": ("principal",), "payments": ("amount",)}
DATE_COLUMNS = {"loans": ("start_date",), "payments": ("value_date",)}
#: ``postal_address`` keeps its line breaks; every other column may hold no control character.
MULTILINE = frozenset({"postal_address"})

_CONTROL = r"[\p{Cc}]"
#: The errors of the first checks, which win over the later ones for the same field.
_FIRST = ("holds a control character", f"is longer than {limits.MAX_FIELD_LENGTH} characters")
_NUL_OR_CONTROL_BUT_NEWLINE = r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f]"
_AMOUNT = r"^\+?0*(\d*)(?:\.\d+)?$"
_DATE = r"^\d{4}-\d{2}-\d{2}$"


#: One check of a file: the column it is about, the expression true on its bad rows, and the
#: reason given for them.
Check = tuple[str, pl.Expr, str]


@dataclass(frozen=True)
class Checks:
    """Every check of a file's columns (made once a file, not once a frame), as one query."""

    #: The checks of every column (control characters, length), whose errors win over the
    #: others' for the same field.
    first: list[Check]
    later: list[Check]
    #: For each check, the list of the frame's row offsets where it holds (one row).
    query: list[pl.Expr]

    @classmethod
    def of(cls, first: list[Check], later: list[Check]) -> Checks:
        query = [
            pl.int_range(pl.len()).filter(bad.fill_null(False)).implode().alias(f"_{at}")
            for at, (_, bad, _) in enumerate([*first, *later])
        ]
        return cls(first, later, query)

    def hits(self, frame: pl.DataFrame, first_row: int) -> tuple[list[RowError], list[RowError]]:
        """The errors of the first checks and of the later ones in ``frame``, each row
        numbered as a spreadsheet does (``frame``'s first row is row ``first_row``). Every
        check is one Polars query: a query costs about as much for a few rows as for
        thousands, and a file checked a query per check paid some forty for each frame."""
        found = frame.select(self.query).row(0)
        errors = [
            [RowError(i + first_row, column, message) for i in rows]
            for (column, _, message), rows in zip([*self.first, *self.later], found, strict=True)
        ]
        split = len(self.first)
        return (
            [e for part in errors[:split] for e in part],
            [e for part in errors[split:] for e in part],
        )


#: Rows checked at a time: the pass reads a file a frame at a time, like validation.
BOUNDS_ROWS = 50_000


def bound_errors(table: Table, kind: str) -> list[RowError]:
    """Every value of ``table`` outside the ledger's limits, in row order then column order
    (the file read a frame of :data:`BOUNDS_ROWS` rows at a time)."""
    if table.rows:  # a table of row objects (tests) has no frames: the parsers check it
        return []
    order = {column: at for at, column in enumerate(table.column_names)}
    checks = _checks(table.column_names, kind)
    errors: list[RowError] = []
    start = table.first_row
    for frame in table.frames(BOUNDS_ROWS):
        errors += _frame_errors(frame, checks, start)
        start += frame.height
    return sorted(errors, key=lambda e: (e.row or 0, order.get(e.field, len(order))))


@functools.lru_cache(maxsize=32)
def _checks(columns: tuple[str, ...], kind: str) -> Checks:
    """The checks of a ``kind`` of file with these ``columns`` (made once a header: making the
    expressions costs more than checking a small file with them)."""
    present = set(columns)
    first: list[Check] = []
    for column in columns:
        pattern = _NUL_OR_CONTROL_BUT_NEWLINE if column in MULTILINE else _CONTROL
        first.append(
            (
                column,
                pl.col(column).str.contains(pattern),
                "holds a control character (NUL, tab, newline…)",
            )
        )
        first.append(
            (
                column,
                pl.col(column).str.len_chars() > limits.MAX_FIELD_LENGTH,
                f"is longer than {limits.MAX_FIELD_LENGTH} characters",
            )
        )
    later: list[Check] = []
    for column in REF_COLUMNS[kind]:
        if column not in present:
            continue
        value = pl.col(column)
        later.append(
            (
                column,
                (value.str.len_chars() > limits.MAX_REF_LENGTH),
                f"is longer than {limits.MAX_REF_LENGTH} characters",
            )
        )
        later.append(
            (
                column,
                (value != "")
                & (value.str.len_chars() <= limits.MAX_REF_LENGTH)
                & ~value.str.contains(f"^{limits.REF_PATTERN.pattern}$"),
                f"may hold only {limits.REF_ALPHABET}, starting with a letter or digit",
            )
        )
    for column in TEXT_COLUMNS[kind]:
        if column in present:
            later.append(
                (
                    column,
                    pl.col(column).str.len_chars() > limits.MAX_NAME_LENGTH,
                    f"is longer than {limits.MAX_NAME_LENGTH} characters",
                )
            )
    if "currency" in present:
        exponent = pl.col("currency").replace_strict(
            CURRENCY_EXPONENTS, default=0, return_dtype=pl.Int64
        )
        digits = 13 - exponent  # minor < 10^13 ⇔ the whole part has at most 13 − exponent digits
        for column in AMOUNT_COLUMNS[kind]:
            if column in present:
                whole = pl.col(column).str.extract(_AMOUNT, 1)
                later.append(
                    (
                        column,
                        whole.str.len_chars() > digits,
                        f"is too large (at most {limits.MAX_AMOUNT_MINOR} minor units, "
                        "below 10^13)",
                    )
                )
    low, high = limits.MIN_DATE.isoformat(), limits.MAX_DATE.isoformat()
    for column in DATE_COLUMNS[kind]:
        if column in present:
            value = pl.col(column)
            later.append(
                (
                    column,
                    value.str.contains(_DATE) & ((value < low) | (value > high)),
                    f"is outside {low}..{high}",
                )
            )
    return Checks.of(first, later)


def _frame_errors(frame: pl.DataFrame, checks: Checks, first_row: int) -> list[RowError]:
    """The errors of one frame of a file, its first row numbered ``first_row``."""
    if frame.height == 0:
        return []
    errors, later = checks.hits(frame, first_row)
    flagged = {(e.row, e.field) for e in errors}
    errors += later
    # one error per field, the first found (a NUL in a reference is not also "bad alphabet")
    unique: dict[tuple[int | None, str], RowError] = {}
    for error in errors:
        key = (error.row, error.field)
        if key not in unique and (key not in flagged or error.message.startswith(_FIRST)):
            unique[key] = error
    return list(unique.values())
