"""The snapshot format: the files, their columns and types, the manifest — the one place that
says what a snapshot is. Reading (:mod:`.read`, checked by :mod:`.validate`) and writing
(:mod:`.write`) both take every name and type from here.

Format, version 2
-----------------
A snapshot is a directory with eight files (version 1: the first four data files and the
manifest; a reader still reads it, as a portfolio without waivers and plans); other files in
it are ignored, and so are columns not listed below. Money is always an ``int64`` count of
minor units of the loan's currency (fen, cent) and rates are exact decimals: a float column is
refused. A column marked nullable may hold nulls; no other column may (our writer marks them
``REQUIRED`` in Parquet; a reader accepts optional columns as long as they hold no null). A
reader also accepts, and widens exactly to the listed type: a narrower signed integer
(``int32`` for ``int64``); ``large_string``, ``string_view`` or a dictionary of strings for
``string``; a decimal with no more integer digits and no more decimal places than listed
(``decimal128(8, 4)`` for ``decimal128(12, 6)``). Our writer compresses with zstd; any Parquet
codec reads.

``products.parquet`` — one row per product version (the rules a loan is computed by):

=================== ================= ===========================================================
column              type              meaning
=================== ================= ===========================================================
product_id          int64             unique; referenced by ``loans.product_id``
code                string            product code (``PL``)
version             int32             product version (a loan keeps the version it was sold with)
penalty_multiplier  decimal128(12,6)  ≥ 0; penalty rate = contract daily rate × this (``1.5``)
compound            bool              compound interest (复利) on overdue interest
grace_days          int32             ≥ 0; days after a due date without penalty
grace_retroactive   bool              penalty for the grace days when paid after grace
cost_cap_annual     decimal128(12,6)  nullable (no cap), else > 0; annual cap on interest +
                                      penalty + compound, as a share of principal (``0.24``)
rounding            string            ``half-up``, ``half-even``, ``down``, ``up``, ``floor`` or
                                      ``ceiling`` (kernel ``Rounding``)
accrual_rounding    string            ``daily`` or ``period`` (kernel ``AccrualRounding``)
allocation_order    string            the four components, comma-separated, each once:
                                      ``penalty,compound,interest,principal``
tolerance_minor     int64             ≥ 0; unpaid amount that does not make a loan past due
buckets             string            JSON list of ``{"name", "min_dpd", "max_dpd"}`` from DPD 0,
                                      contiguous, the last with ``"max_dpd": null``
=================== ================= ===========================================================

``loans.parquet`` — one row per loan, **sorted by loan_id**, loan_id unique:

=================== ================= ===========================================================
loan_id             int64             unique, ascending
ref                 string            the loan's reference (借据号)
product_id          int64             a ``products.product_id``
currency            string            ISO 4217 code (``CNY``)
principal_minor     int64             > 0
rate_value          decimal128(20,12) contract rate, as quoted (``0.0005``)
rate_basis          string            ``daily`` or ``annual``
day_count           string            ``actual/360``, ``actual/365`` or ``30/360``
start_date          date32            drawdown date
=================== ================= ===========================================================

``instalments.parquet`` — the schedule, **sorted by (loan_id, seq)**, each pair once:

=================== ================= ===========================================================
loan_id             int64             a ``loans.loan_id``
seq                 int32             1, 2, … within the loan
due_date            date32            after business-day shifting
principal_minor     int64             ≥ 0; a loan's parts add up to its principal
interest_minor      int64             ≥ 0
period_start        date32            interest period ``[period_start, period_end)``
period_end          date32
=================== ================= ===========================================================

``payments.parquet`` — every payment, reversed ones included, **sorted by (loan_id,
value_date, ref)** (``ref`` compared by code point, which is UTF-8 byte order), each key
once:

=================== ================= ===========================================================
loan_id             int64             a ``loans.loan_id``
ref                 string            the payment's reference
value_date          date32            the date it counts from
amount_minor        int64             > 0
reversed_on         date32            nullable; ≥ value_date; from this date on the payment
                                      counts as never made (bounce, chargeback)
=================== ================= ===========================================================

``waivers.parquet`` (new in version 2) — the waivers (减免) the kernel replays: approved ones
and approved-then-reversed ones (the replay needs those to compute the days before the reversal);
requested or rejected waivers are not exported. **Sorted by (loan_id, effective_on, ref)**
(``ref`` by code point), each key once:

=================== ================= ===========================================================
loan_id             int64             a ``loans.loan_id``
ref                 string            the waiver's reference
effective_on        date32            the day it reduces the debt (after that day's accrual)
component           string            ``penalty``, ``compound``, ``interest`` or ``principal``
amount_minor        int64             > 0
reversed_on         date32            nullable; from this date on it counts as never made
=================== ================= ===========================================================

``plans.parquet`` (new in version 2) — the repayment plans (分期协商) and settlements (结清减免)
in force (approved; a plan never needs reversing, it breaks or completes in the replay).
**Sorted by (loan_id, plan_id)**, each pair once (a plan is named by the pair):

=================== ================= ===========================================================
loan_id             int64             a ``loans.loan_id``
plan_id             int64             the plan's id; ``plan_instalments`` name it with loan_id
ref                 string            the plan's reference (its settlement waiver is ``ref:rest``)
effective_on        date32            the day the plan starts
grace_days          int32             ≥ 0; days after a plan due date before the plan breaks
tolerance_minor     int64             ≥ 0; shortfall that still counts as covered
waive_rest          bool              a settlement: what remains is waived once the plan is paid
=================== ================= ===========================================================

``plan_instalments.parquet`` (new in version 2) — the plans' instalments, **sorted by (loan_id,
plan_id, seq)**, each triple once; every row names a plan (loan_id, plan_id) of plans.parquet:

=================== ================= ===========================================================
loan_id             int64             the plan's ``loan_id``
plan_id             int64             a ``plans.plan_id``
seq                 int32             1, 2, … within the plan
due_date            date32            strictly increasing within a plan (checked per loan by the
                                      kernel)
amount_minor        int64             > 0
=================== ================= ===========================================================

``manifest.json`` — written last, so a directory without it is an unfinished export;
``exported_at`` is the UTC time of the export, ``counts`` the row count of each file and
``files`` the SHA-256 (hex) of each file's bytes, both checked by every reader::

    {"format": "arrears-snapshot", "version": 2,
     "exported_at": "2026-03-01T02:00:00+00:00",
     "counts": {"products": 2, "loans": 10, "instalments": 120, "payments": 57,
                "waivers": 1, "plans": 1, "plan_instalments": 3},
     "files": {"products.parquet": "<sha256 hex>", "loans.parquet": "…",
               "instalments.parquet": "…", "payments.parquet": "…", "waivers.parquet": "…",
               "plans.parquet": "…", "plan_instalments.parquet": "…"}}

A version 1 manifest lists only the first four files, and the reader reads none of the other
three (a version 1 snapshot has no concessions, whatever else lies in the directory).

The data files may have any number of row groups. Because they are sorted by loan_id,
row-group statistics let a reader fetch one range of loans without reading the rest.

A reader refuses a snapshot (:class:`SnapshotError`, code ``snapshot-invalid``, naming the
file, the column and the first offending row — counted from 0 in the file — with its loan_id)
when a file or the manifest is missing, a column is missing or of the wrong type, a checksum
or a count does not match the manifest, a required column holds a null, a key is duplicated or
out of order, a row refers to an unknown loan, product or plan (or a plan of another loan), an
amount has the wrong sign, a waiver names an unknown component, or a payment is reversed before
its value date. Rules the kernel checks (a known currency, rate basis, day count, rounding,
bucket ladder and allocation order, the ≥ 0 / > 0 rules on rates and product figures, a
schedule that sums to the principal, a plan with instalments in strictly increasing due-date
order) are reported per loan by :func:`loan_terms_from_snapshot` and the runners, so one bad
loan never stops a portfolio run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow as pa

from arrears.kernel.errors import ArrearsError

FORMAT = "arrears-snapshot"
#: The version our writer writes; a reader reads every version in :data:`TABLES_OF_VERSION`.
VERSION = 2
MANIFEST = "manifest.json"
PRODUCTS, LOANS, INSTALMENTS, PAYMENTS = "products", "loans", "instalments", "payments"
WAIVERS, PLANS, PLAN_INSTALMENTS = "waivers", "plans", "plan_instalments"
#: The concessions (new in version 2): replayed by the kernel, never by the compiled engine.
CONCESSION_TABLES = (WAIVERS, PLANS, PLAN_INSTALMENTS)
#: Every data file of the current version, in the order they are written and listed.
TABLES = (PRODUCTS, LOANS, INSTALMENTS, PAYMENTS, *CONCESSION_TABLES)
#: The data files each readable version has.
TABLES_OF_VERSION: dict[int, tuple[str, ...]] = {
    1: (PRODUCTS, LOANS, INSTALMENTS, PAYMENTS),
    2: TABLES,
}


class SnapshotError(ArrearsError):
    """A snapshot that cannot be read as it is: the message names the file, column and row."""

    code = "snapshot-invalid"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: pa.DataType
    nullable: bool = False


def _schema(columns: Sequence[Column]) -> pa.Schema:
    return pa.schema([pa.field(c.name, c.type, nullable=c.nullable) for c in columns])


MONEY = pa.int64()
DECIMAL_PRODUCT = pa.decimal128(12, 6)
DECIMAL_RATE = pa.decimal128(20, 12)

COLUMNS: dict[str, tuple[Column, ...]] = {
    PRODUCTS: (
        Column("product_id", pa.int64()),
        Column("code", pa.string()),
        Column("version", pa.int32()),
        Column("penalty_multiplier", DECIMAL_PRODUCT),
        Column("compound", pa.bool_()),
        Column("grace_days", pa.int32()),
        Column("grace_retroactive", pa.bool_()),
        Column("cost_cap_annual", DECIMAL_PRODUCT, nullable=True),
        Column("rounding", pa.string()),
        Column("accrual_rounding", pa.string()),
        Column("allocation_order", pa.string()),
        Column("tolerance_minor", MONEY),
        Column("buckets", pa.string()),
    ),
    LOANS: (
        Column("loan_id", pa.int64()),
        Column("ref", pa.string()),
        Column("product_id", pa.int64()),
        Column("currency", pa.string()),
        Column("principal_minor", MONEY),
        Column("rate_value", DECIMAL_RATE),
        Column("rate_basis", pa.string()),
        Column("day_count", pa.string()),
        Column("start_date", pa.date32()),
    ),
    INSTALMENTS: (
        Column("loan_id", pa.int64()),
        Column("seq", pa.int32()),
        Column("due_date", pa.date32()),
        Column("principal_minor", MONEY),
        Column("interest_minor", MONEY),
        Column("period_start", pa.date32()),
        Column("period_end", pa.date32()),
    ),
    PAYMENTS: (
        Column("loan_id", pa.int64()),
        Column("ref", pa.string()),
        Column("value_date", pa.date32()),
        Column("amount_minor", MONEY),
        Column("reversed_on", pa.date32(), nullable=True),
    ),
    WAIVERS: (
        Column("loan_id", pa.int64()),
        Column("ref", pa.string()),
        Column("effective_on", pa.date32()),
        Column("component", pa.string()),
        Column("amount_minor", MONEY),
        Column("reversed_on", pa.date32(), nullable=True),
    ),
    PLANS: (
        Column("loan_id", pa.int64()),
        Column("plan_id", pa.int64()),
        Column("ref", pa.string()),
        Column("effective_on", pa.date32()),
        Column("grace_days", pa.int32()),
        Column("tolerance_minor", MONEY),
        Column("waive_rest", pa.bool_()),
    ),
    PLAN_INSTALMENTS: (
        Column("loan_id", pa.int64()),
        Column("plan_id", pa.int64()),
        Column("seq", pa.int32()),
        Column("due_date", pa.date32()),
        Column("amount_minor", MONEY),
    ),
}
SCHEMAS: dict[str, pa.Schema] = {name: _schema(columns) for name, columns in COLUMNS.items()}

#: Columns worth dictionary-encoding (a handful of distinct strings). Measured: under zstd,
#: dictionary-encoding dates and amounts makes the big files slower to write and no smaller.
DICTIONARY_COLUMNS: dict[str, list[str]] = {
    PRODUCTS: [c.name for c in COLUMNS[PRODUCTS]],
    LOANS: ["currency", "rate_basis", "day_count"],
    INSTALMENTS: [],
    PAYMENTS: [],
    WAIVERS: ["component"],
    PLANS: [],
    PLAN_INSTALMENTS: [],
}


def file_name(table: str) -> str:
    return f"{table}.parquet"


def sha256_of(path: Path) -> str:
    """The SHA-256 (hex) of a file's bytes, as the manifest records it."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def describe(column: Column) -> str:
    text = str(column.type)
    if column.type == MONEY and column.name.endswith("_minor"):
        return f"{text} (minor units, never a float)"
    if pa.types.is_decimal(column.type):
        return f"{text} (an exact decimal, never a float)"
    return text


def empty_frame(table: str) -> pl.DataFrame:
    """A frame with ``table``'s columns and no rows (a version 1 snapshot's concessions).

    Built from no batches, not ``Schema.empty_table()``: that imports pandas (about 0.3 CPU-s),
    which nothing else in a day run needs."""
    empty = pa.Table.from_batches([], schema=SCHEMAS[table])
    return pl.from_arrow(empty)  # type: ignore[return-value]


@dataclass(frozen=True, slots=True, eq=False)
class Snapshot:
    """A portfolio (or one chunk of it) as validated frames in the snapshot format; the
    concession frames are empty for a version 1 snapshot."""

    products: pl.DataFrame
    loans: pl.DataFrame
    instalments: pl.DataFrame
    payments: pl.DataFrame
    waivers: pl.DataFrame = field(default_factory=lambda: empty_frame(WAIVERS))
    plans: pl.DataFrame = field(default_factory=lambda: empty_frame(PLANS))
    plan_instalments: pl.DataFrame = field(default_factory=lambda: empty_frame(PLAN_INSTALMENTS))

    @property
    def frames(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """``(products, loans, instalments, payments)``, the engine's positional arguments."""
        return self.products, self.loans, self.instalments, self.payments

    @property
    def concessions(self) -> dict[str, pl.DataFrame]:
        """``waivers``, ``plans`` and ``plan_instalments``: the engine's keyword arguments."""
        return {
            WAIVERS: self.waivers,
            PLANS: self.plans,
            PLAN_INSTALMENTS: self.plan_instalments,
        }

    @property
    def tables(self) -> dict[str, pl.DataFrame]:
        """Every frame by its file's table name (:data:`TABLES` order)."""
        return {
            PRODUCTS: self.products,
            LOANS: self.loans,
            INSTALMENTS: self.instalments,
            PAYMENTS: self.payments,
            **self.concessions,
        }
