"""The typed records and plans that validation hands to writing.

A plan is the whole of what a file will change, checked; writing trusts it and only writes, so
either side can change (a vectorised validator, bulk writes) as long as the plan stays the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl

from arrears.kernel.terms import DayCount, RateBasis, ScheduleMethod
from arrears.ledger import models
from arrears.ledger.importers.errors import RowError
from arrears.ledger.importers.reading import Table


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an applied file changed; ``batch_id`` is the :class:`~models.ImportBatch` kept."""

    kind: str
    file_name: str
    rows: int
    applied: int
    skipped: int
    batch_id: int
    #: known borrowers whose blank e-mail or postal address the file filled in
    contacts_added: int = 0

    def summary(self) -> str:
        text = f"{self.kind} from {self.file_name}: applied {self.applied}, skipped {self.skipped}"
        if self.contacts_added:
            text += f"; contact details added to {self.contacts_added} known borrower(s)"
        return text


@dataclass(frozen=True, slots=True)
class BorrowerRow:
    """A borrower as a loans row gives it: several rows may name the same borrower."""

    ref: str
    name: str
    id_type: str
    national_id: str
    time_zone: str | None
    locale: str
    email: str = ""
    postal_address: str = ""


@dataclass(frozen=True, slots=True)
class LoanRow:
    """A checked loan row (its schedule is in :attr:`LoanPlan.instalments`)."""

    row: int
    ref: str
    borrower: BorrowerRow
    phone: str
    product: models.Product
    currency: str
    principal_minor: int
    rate: Decimal
    rate_basis: RateBasis
    term: int
    method: ScheduleMethod
    start_date: date
    day_count: DayCount


@dataclass
class LoanPlan:
    """A validated loans file: every error found, and what is new to write (borrowers, phones,
    loans, blank contact details to fill). Written only when ``errors`` is empty.

    The new borrowers and loans are row offsets into :attr:`fields`, the chunk's parsed
    fields column by column, not an object per row: a 100 000-row file made 200 000 records
    and read their attributes again to write them, a third of an import's time."""

    table: Table
    #: the parsed fields of the rows, by key (:data:`~.columns.LOAN_KEYS`) then row offset
    fields: dict[str, list[Any]] = field(default_factory=dict)
    #: the offsets of the rows whose borrower is new, in the order they are written
    borrowers: list[int] = field(default_factory=list)
    phones: list[tuple[str, str]] = field(default_factory=list)
    #: the offsets of the rows whose loan is new, in the order they are written
    loans: list[int] = field(default_factory=list)
    #: each row's product id and day count (the row's own, or its product's), by offset
    product_ids: list[int | None] = field(default_factory=list)
    day_counts: list[DayCount | None] = field(default_factory=list)
    #: stored borrowers whose blank contact fields this file fills: ref → {field: value}
    contacts: dict[str, dict[str, str]] = field(default_factory=dict)
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    #: every new loan's instalments, built (so writing computes nothing): the columns of
    #: :data:`~.schedules.COLUMNS`, ``loan`` the loan's position in :attr:`loans`
    instalments: pl.DataFrame | None = None

    def borrower_refs(self) -> list[str]:
        """The references of the new borrowers."""
        refs = self.fields.get("borrower_ref", [])
        return [refs[i] for i in self.borrowers]


#: Where a borrower is reached: a stored blank is filled in from a file, a stored value must
#: match (a change of address is made on the borrower, not by a loans file).
CONTACT_FIELDS = (("email", "email"), ("postal_address", "postal_address"))


@dataclass(frozen=True, slots=True)
class PaymentRow:
    """A checked new payment, its loan already resolved to an id."""

    row: int
    ref: str
    loan_id: int
    value_date: date
    amount_minor: int
    currency: str


@dataclass(frozen=True, slots=True)
class ReversalRow:
    """A checked reversal: ``reverses`` names a stored payment or one new in the same file."""

    row: int
    ref: str
    reverses: str
    reversed_on: date


@dataclass
class PaymentPlan:
    """A validated payments file: every error found, and the new payments and reversals to
    write. Written only when ``errors`` is empty."""

    table: Table
    payments: list[PaymentRow] = field(default_factory=list)
    reversals: list[ReversalRow] = field(default_factory=list)
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
