"""Portfolio snapshots: the daily run's input as a directory of Parquet files.

A snapshot lets a lender whose loans live in another core banking system feed the daily run
without our database; ``arrears snapshot export DIR`` writes one from ours
(:func:`export_snapshot`), :func:`read_snapshot` reads and validates a whole one, and
:func:`iter_chunks` streams one in bounded memory, a range of loans at a time.

Format, version 1
-----------------
A snapshot is a directory with five files; other files in it are ignored, and so are columns
not listed below. Money is always an ``int64`` count of minor units of the loan's currency
(fen, cent) and rates are exact decimals: a float column is refused. A column marked nullable
may hold nulls; no other column may (our writer marks them ``REQUIRED`` in Parquet; a reader
accepts optional columns as long as they hold no null). A reader also accepts, and widens
exactly to the listed type: a narrower signed integer (``int32`` for ``int64``);
``large_string``, ``string_view`` or a dictionary of strings for ``string``; a decimal with
no more integer digits and no more decimal places than listed (``decimal128(8, 4)`` for
``decimal128(12, 6)``). Our writer compresses with zstd; any Parquet codec reads.

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

``manifest.json`` — written last, so a directory without it is an unfinished export;
``exported_at`` is the UTC time of the export, ``counts`` the row count of each file and
``files`` the SHA-256 (hex) of each file's bytes, both checked by every reader::

    {"format": "arrears-snapshot", "version": 1,
     "exported_at": "2026-03-01T02:00:00+00:00",
     "counts": {"products": 2, "loans": 10, "instalments": 120, "payments": 57},
     "files": {"products.parquet": "<sha256 hex>", "loans.parquet": "…",
               "instalments.parquet": "…", "payments.parquet": "…"}}

The four data files may have any number of row groups. Because they are sorted by loan_id,
row-group statistics let a reader fetch one range of loans without reading the rest.

A reader refuses a snapshot (:class:`SnapshotError`, code ``snapshot-invalid``, naming the
file, the column and the first offending row — counted from 0 in the file — with its loan_id)
when a file or the manifest is missing, a column is missing or of the wrong type, a checksum
or a count does not match the manifest, a required column holds a null, a key is duplicated or
out of order, a row refers to an unknown loan or product, an amount has the wrong sign, or a
payment is reversed before its value date. Rules the kernel checks (a known currency, rate
basis, day count, rounding, bucket ladder and allocation order, the ≥ 0 / > 0 rules on rates
and product figures, a schedule that sums to the principal) are reported per loan by
:func:`loan_terms_from_snapshot`, so one bad loan never stops a portfolio run.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from arrears.kernel.errors import ArrearsError, InvalidTerms
from arrears.kernel.money import Rounding
from arrears.kernel.terms import (
    AccrualRounding,
    DayCount,
    Instalment,
    InterestRate,
    LoanTerms,
    Payment,
    ProductTerms,
    RateBasis,
    buckets_from_json,
    parse_allocation_order,
)

if TYPE_CHECKING:
    from django.db.models import QuerySet  # type: ignore[import-untyped]

FORMAT = "arrears-snapshot"
VERSION = 1
MANIFEST = "manifest.json"
PRODUCTS, LOANS, INSTALMENTS, PAYMENTS = "products", "loans", "instalments", "payments"
TABLES = (PRODUCTS, LOANS, INSTALMENTS, PAYMENTS)
_ROW = "__row"


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
}
SCHEMAS: dict[str, pa.Schema] = {name: _schema(columns) for name, columns in COLUMNS.items()}

#: Columns worth dictionary-encoding (a handful of distinct strings). Measured: under zstd,
#: dictionary-encoding dates and amounts makes the big files slower to write and no smaller.
DICTIONARY_COLUMNS: dict[str, list[str]] = {
    PRODUCTS: [c.name for c in COLUMNS[PRODUCTS]],
    LOANS: ["currency", "rate_basis", "day_count"],
    INSTALMENTS: [],
    PAYMENTS: [],
}

_POLARS_TYPES: dict[str, pl.DataType] = {
    "int64": pl.Int64(),
    "int32": pl.Int32(),
    "string": pl.String(),
    "bool": pl.Boolean(),
    "date32[day]": pl.Date(),
    "decimal128(12, 6)": pl.Decimal(12, 6),
    "decimal128(20, 12)": pl.Decimal(20, 12),
}


def file_name(table: str) -> str:
    return f"{table}.parquet"


def _describe(column: Column) -> str:
    text = str(column.type)
    if column.type == MONEY and column.name.endswith("_minor"):
        return f"{text} (minor units, never a float)"
    if pa.types.is_decimal(column.type):
        return f"{text} (an exact decimal, never a float)"
    return text


@dataclass(frozen=True, slots=True, eq=False)
class Snapshot:
    """A portfolio (or one chunk of it) as four validated frames in the snapshot format."""

    products: pl.DataFrame
    loans: pl.DataFrame
    instalments: pl.DataFrame
    payments: pl.DataFrame

    @property
    def frames(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """``(products, loans, instalments, payments)``, the engine's argument order."""
        return self.products, self.loans, self.instalments, self.payments


# --- writing ----------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class SnapshotWriter:
    """Writes the four files of a snapshot in batches, then the manifest (last, atomically).

    ``row_group_rows`` set: rows are buffered into row groups of exactly that many rows (the
    last one of a file may be shorter); unset: each written batch is one row group. A writer
    that is closed after an exception leaves no manifest, so the directory reads as unfinished.
    """

    def __init__(
        self, directory: Path, *, row_group_rows: int | None = None, compression: str = "zstd"
    ) -> None:
        if row_group_rows is not None and row_group_rows < 1:
            raise ValueError("row_group_rows must be positive")
        self.directory = Path(directory)
        self.row_group_rows = row_group_rows
        self.compression = compression
        self.counts = dict.fromkeys(TABLES, 0)
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._pending: dict[str, list[pa.Table]] = {name: [] for name in TABLES}

    def __enter__(self) -> SnapshotWriter:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / MANIFEST).unlink(missing_ok=True)  # unfinished until rewritten
        for name in TABLES:
            self._writers[name] = pq.ParquetWriter(
                self.directory / file_name(name),
                SCHEMAS[name],
                compression=self.compression,
                use_dictionary=DICTIONARY_COLUMNS[name],
            )
        return self

    def write(self, name: str, table: pa.Table) -> None:
        """Append ``table`` (the file's columns, in its schema) to file ``name``."""
        if table.schema != SCHEMAS[name]:
            table = table.select([c.name for c in COLUMNS[name]]).cast(SCHEMAS[name])
        self.counts[name] += table.num_rows
        if self.row_group_rows is None:
            if table.num_rows:
                self._writers[name].write_table(table, row_group_size=table.num_rows)
            return
        pending = self._pending[name]
        pending.append(table)
        buffered = sum(t.num_rows for t in pending)
        if buffered < self.row_group_rows:
            return
        whole = pa.concat_tables(pending)
        start = 0
        while whole.num_rows - start >= self.row_group_rows:
            group = whole.slice(start, self.row_group_rows)
            self._writers[name].write_table(group, row_group_size=self.row_group_rows)
            start += self.row_group_rows
        self._pending[name] = [whole.slice(start)] if start < whole.num_rows else []

    def write_rows(self, name: str, rows: Sequence[Sequence[Any]]) -> None:
        """Append Python rows (tuples in the file's column order)."""
        columns: list[Sequence[Any]] = (
            list(zip(*rows, strict=True)) if rows else [() for _ in COLUMNS[name]]
        )
        arrays = [
            pa.array(values, type=column.type)
            for values, column in zip(columns, COLUMNS[name], strict=True)
        ]
        self.write(name, pa.Table.from_arrays(arrays, schema=SCHEMAS[name]))

    def _flush(self) -> None:
        for name, pending in self._pending.items():
            if pending:
                whole = pa.concat_tables(pending)
                if whole.num_rows:
                    self._writers[name].write_table(whole, row_group_size=whole.num_rows)
            self._pending[name] = []

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if kind is None:
                self._flush()
        finally:
            for writer in self._writers.values():
                writer.close()
        if kind is None:
            self._write_manifest()

    def _write_manifest(self) -> None:
        with ThreadPoolExecutor(max_workers=len(TABLES)) as pool:  # hashlib releases the GIL
            digests = list(pool.map(sha256_of, (self.directory / file_name(n) for n in TABLES)))
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "counts": dict(self.counts),
            "files": dict(zip((file_name(n) for n in TABLES), digests, strict=True)),
        }
        temporary = self.directory / f".{MANIFEST}.tmp"
        temporary.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, self.directory / MANIFEST)


def _ref_collation(vendor: str) -> str | None:
    """A byte-order collation, so payments leave the database in the order Python sorts refs."""
    return {"postgresql": "C", "sqlite": "BINARY"}.get(vendor)


def export_snapshot(
    directory: Path,
    loans: QuerySet[Any] | None = None,
    *,
    batch_size: int = 100_000,
    exclude_adjusted: bool = False,
) -> dict[str, int]:
    """Write ``loans`` (default: every loan) with their products, instalments and payments as a
    snapshot in ``directory``; returns the row count of each file.

    Every table is streamed (``values_list().iterator()``) and written ``batch_size`` rows at a
    time, so memory does not grow with the portfolio. The four reads run in one read-only
    transaction — ``REPEATABLE READ`` on PostgreSQL — so the files agree with each other even
    while payments keep arriving.
    """
    from django.db import connection, transaction  # type: ignore[import-untyped]
    from django.db.models import Q  # type: ignore[import-untyped]
    from django.db.models.functions import Collate  # type: ignore[import-untyped]

    from arrears.ledger import models

    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    selected = models.Loan.objects.all() if loans is None else loans
    adjusted = selected.filter(
        Q(waivers__status__in=[models.Approval.APPROVED, models.Approval.REVERSED])
        | Q(plans__status=models.Approval.APPROVED)
    ).distinct()
    if adjusted.exists():
        if not exclude_adjusted:
            refs = list(adjusted.order_by("ref").values_list("ref", flat=True)[:5])
            raise SnapshotError(
                f"{adjusted.count()} loan(s) have waivers or repayment plans in force "
                f"({', '.join(refs)}…): this snapshot format does not carry them, so their "
                "figures would be wrong. Run those days on the database, or export the other "
                "loans with --exclude-adjusted.",
                code="snapshot-adjusted-loans",
            )
        selected = selected.exclude(id__in=adjusted.values("id"))
        loans = selected
    instalments = models.Instalment.objects.all()
    payments = models.Payment.objects.all()
    if loans is not None:  # rows of the chosen loans only (one semi-join, not a list of ids)
        instalments = instalments.filter(loan_id__in=loans.values("id"))
        payments = payments.filter(loan_id__in=loans.values("id"))
    collation = _ref_collation(connection.vendor)
    payment_order: list[Any] = ["loan_id", "value_date"]
    payment_order.append(Collate("ref", collation) if collation else "ref")
    outermost = not connection.in_atomic_block

    def stream(name: str, rows: Iterator[tuple[Any, ...]], writer: SnapshotWriter) -> None:
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == batch_size:
                writer.write_rows(name, batch)
                batch = []
        if batch:
            writer.write_rows(name, batch)

    with transaction.atomic(), SnapshotWriter(directory) as writer:
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        products = (
            models.Product.objects.filter(id__in=selected.values("product_id"))
            .order_by("id")
            .values_list(
                "id",
                "code",
                "version",
                "penalty_multiplier",
                "compound",
                "grace_days",
                "grace_retroactive",
                "cost_cap_annual",
                "rounding",
                "accrual_rounding",
                "allocation_order",
                "tolerance_minor",
                "buckets",
            )
        )
        stream(
            PRODUCTS,
            (
                (*row[:-1], json.dumps(row[-1], ensure_ascii=False))
                for row in products.iterator(chunk_size=batch_size)
            ),
            writer,
        )
        stream(
            LOANS,
            selected.order_by("id")
            .values_list(
                "id",
                "ref",
                "product_id",
                "currency",
                "principal_minor",
                "rate_value",
                "rate_basis",
                "day_count",
                "start_date",
            )
            .iterator(chunk_size=batch_size),
            writer,
        )
        stream(
            INSTALMENTS,
            instalments.order_by("loan_id", "seq")
            .values_list(
                "loan_id",
                "seq",
                "due_date",
                "principal_minor",
                "interest_minor",
                "period_start",
                "period_end",
            )
            .iterator(chunk_size=batch_size),
            writer,
        )
        stream(
            PAYMENTS,
            payments.order_by(*payment_order)
            .values_list("loan_id", "ref", "value_date", "amount_minor", "reversed_on")
            .iterator(chunk_size=batch_size),
            writer,
        )
    return dict(writer.counts)


# --- reading: files, manifest, schema ---------------------------------------------------------


class _Reader:
    """The file-level checks shared by :func:`read_snapshot` and :func:`iter_chunks`."""

    def __init__(self, directory: Path, *, verify_checksums: bool = True) -> None:
        self.directory = Path(directory)
        self.manifest = self._manifest()
        self.types: dict[str, dict[str, pa.DataType]] = {}
        for name in TABLES:
            path = self.path(name)
            if not path.is_file():
                self.fail(f"{file_name(name)} is missing")
            self.types[name] = self._check_schema(name)
            self._check_count(name)
            if verify_checksums:
                self._check_checksum(name)

    def path(self, name: str) -> Path:
        return self.directory / file_name(name)

    def fail(self, message: str) -> NoReturn:
        raise SnapshotError(f"snapshot {self.directory}: {message}")

    def _manifest(self) -> dict[str, Any]:
        if not self.directory.is_dir():
            self.fail("is not a directory")
        path = self.directory / MANIFEST
        if not path.is_file():
            self.fail(f"{MANIFEST} is missing: the export did not finish, or this is no snapshot")
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            self.fail(f"{MANIFEST} is not valid JSON ({error})")
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            self.fail(f'{MANIFEST}: "format" must be "{FORMAT}"')
        if manifest.get("version") != VERSION:
            self.fail(
                f'{MANIFEST}: "version" {manifest.get("version")!r} is not supported '
                f"(expected {VERSION})"
            )
        for key in ("counts", "files"):
            if not isinstance(manifest.get(key), dict):
                self.fail(f'{MANIFEST}: "{key}" must be an object')
        return dict(manifest)

    def _check_schema(self, name: str) -> dict[str, pa.DataType]:
        try:
            schema = pq.read_schema(self.path(name))
        except (pa.ArrowException, OSError) as error:
            self.fail(f"{file_name(name)} is not a readable Parquet file ({error})")
        found: dict[str, pa.DataType] = {}
        for column in COLUMNS[name]:
            index = schema.get_field_index(column.name)
            if index < 0:
                self.fail(
                    f"{file_name(name)}: column {column.name} is missing "
                    f"(expected {_describe(column)})"
                )
            actual = schema.field(index).type
            if not _accepts(column.type, actual):
                self.fail(
                    f"{file_name(name)}: column {column.name} has type {actual}; expected "
                    f"{_describe(column)}"
                )
            found[column.name] = actual
        return found

    def _check_count(self, name: str) -> None:
        expected = self.manifest["counts"].get(name)
        actual = pq.ParquetFile(self.path(name)).metadata.num_rows
        if expected != actual:
            self.fail(f"{file_name(name)} has {actual} rows but {MANIFEST} counts {expected!r}")

    def _check_checksum(self, name: str) -> None:
        expected = self.manifest["files"].get(file_name(name))
        actual = sha256_of(self.path(name))
        if expected != actual:
            self.fail(
                f"{file_name(name)}: checksum mismatch (sha256 {actual}, {MANIFEST} says "
                f"{expected}): the file changed or was truncated after export"
            )

    def scan(self, name: str, low: int | None = None, high: int | None = None) -> pl.DataFrame:
        """The file's columns (widened to the format's types) with a ``__row`` index; only the
        rows with ``low <= loan_id < high`` when bounds are given."""
        names = [c.name for c in COLUMNS[name]]
        frame = pl.scan_parquet(self.path(name), row_index_name=_ROW).select(_ROW, *names)
        if low is not None:
            frame = frame.filter(pl.col("loan_id") >= low)
        if high is not None:
            frame = frame.filter(pl.col("loan_id") < high)
        collected = frame.collect()
        casts = [
            pl.col(c.name).cast(_POLARS_TYPES[str(c.type)])
            for c in COLUMNS[name]
            if collected.schema[c.name] != _POLARS_TYPES[str(c.type)]
        ]
        return collected.with_columns(casts) if casts else collected


def _accepts(expected: pa.DataType, actual: pa.DataType) -> bool:
    """Whether ``actual`` widens to ``expected`` without losing or inventing a digit."""
    if actual == expected:
        return True
    if pa.types.is_dictionary(actual):
        return bool(pa.types.is_string(expected) and _accepts(expected, actual.value_type))
    if pa.types.is_integer(expected):
        return bool(pa.types.is_signed_integer(actual) and actual.bit_width <= expected.bit_width)
    if pa.types.is_string(expected):
        return bool(
            pa.types.is_string(actual)
            or pa.types.is_large_string(actual)
            or pa.types.is_string_view(actual)
        )
    if pa.types.is_decimal(expected):
        return bool(
            pa.types.is_decimal(actual)
            and 0 <= actual.scale <= expected.scale
            and actual.precision - actual.scale <= expected.precision - expected.scale
        )
    return False


# --- reading: rows ------------------------------------------------------------------------------


def _where(row: Mapping[str, Any]) -> str:
    text = f"row {row[_ROW]}"
    return f"{text} (loan_id {row['loan_id']})" if "loan_id" in row else text


def _first(frame: pl.DataFrame, condition: pl.Expr) -> dict[str, Any] | None:
    bad = frame.filter(condition).head(1)
    return None if bad.is_empty() else bad.row(0, named=True)


def _check_nulls(reader: _Reader, name: str, frame: pl.DataFrame) -> None:
    counts = frame.null_count().row(0, named=True)
    for column in COLUMNS[name]:
        if not column.nullable and counts[column.name]:
            row = _first(frame, pl.col(column.name).is_null())
            assert row is not None
            reader.fail(f"{file_name(name)}: column {column.name}: {_where(row)} is null")


def _check_sign(
    reader: _Reader, name: str, frame: pl.DataFrame, column: str, *, positive: bool
) -> None:
    condition = pl.col(column) <= 0 if positive else pl.col(column) < 0
    row = _first(frame, condition)
    if row is not None:
        wanted = "a positive" if positive else "a non-negative"
        reader.fail(
            f"{file_name(name)}: column {column}: {_where(row)} is {row[column]}; expected "
            f"{wanted} int of minor units"
        )


def _order_problem(
    name: str,
    where: str,
    keys: Sequence[str],
    row: Mapping[str, Any],
    previous: Mapping[str, Any],
    what: str,
) -> str:
    """The one wording of a key-order problem, whichever reader finds it: a duplicate when the
    key equals the previous row's, else out of order in the first key column that differs."""
    if all(row[k] == previous[k] for k in keys):
        detail = "" if len(keys) == 1 else f" ({', '.join(f'{k} {row[k]}' for k in keys)})"
        return f"{file_name(name)}: column {keys[-1]}: {where} is a duplicate {what}{detail}"
    column = next(k for k in keys if row[k] != previous[k])
    return (
        f"{file_name(name)}: column {column}: {where} is out of order; the file must be "
        f"sorted by ({', '.join(keys)})"
    )


def _check_order(
    reader: _Reader, name: str, frame: pl.DataFrame, keys: Sequence[str], what: str
) -> None:
    """Rows strictly ascending by ``keys``; the first row that is not is reported as a
    duplicate (same key as the row before) or out of order (a smaller key). The sort by
    loan_id is what lets a reader fetch one range of loans cheaply. Numeric keys are compared
    with NumPy; a string key only where every earlier key ties (rare), so this stays cheap."""
    if len(frame) < 2:
        return
    bad = np.zeros(len(frame) - 1, dtype=np.bool_)
    tied = np.ones(len(frame) - 1, dtype=np.bool_)
    for key in keys:
        column = frame[key]
        if column.dtype == pl.String:
            rows = np.flatnonzero(tied)
            if len(rows):
                current, previous = column.gather(rows + 1), column.gather(rows)
                bad[rows[(current <= previous).to_numpy()]] = True
            tied[:] = False
            break
        step = np.diff(column.to_physical().to_numpy())
        bad |= tied & (step < 0)
        tied &= step == 0
    bad |= tied
    if bad.any():
        at = int(np.argmax(bad)) + 1
        row = frame.row(at, named=True)
        before = frame.row(at - 1, named=True)
        reader.fail(_order_problem(name, _where(row), keys, row, before, what))


def _check_product_known(reader: _Reader, loans: pl.DataFrame, products: pl.DataFrame) -> None:
    row = _first(loans, ~pl.col("product_id").is_in(products["product_id"].implode()))
    if row is not None:
        reader.fail(
            f"{file_name(LOANS)}: column product_id: {_where(row)} refers to unknown "
            f"product_id {row['product_id']} (not in {file_name(PRODUCTS)})"
        )


def _check_owned(reader: _Reader, name: str, frame: pl.DataFrame, loan_ids: pl.Series) -> None:
    """Every row belongs to a loan. Both ``frame`` and ``loan_ids`` are ascending by loan_id
    (checked before), so only the distinct ids are looked up, by binary search."""
    ids = frame["loan_id"].to_numpy()
    if len(ids) == 0:
        return
    firsts = np.flatnonzero(np.concatenate([[True], ids[1:] != ids[:-1]]))
    distinct = ids[firsts]
    known = loan_ids.to_numpy()
    at = np.minimum(np.searchsorted(known, distinct), max(len(known) - 1, 0))
    found = (known[at] == distinct) if len(known) else np.zeros(len(distinct), dtype=bool)
    if not found.all():
        row = frame.row(int(firsts[int(np.argmin(found))]), named=True)
        reader.fail(
            f"{file_name(name)}: column loan_id: {_where(row)} refers to unknown loan_id "
            f"{row['loan_id']} (not in {file_name(LOANS)})"
        )


def _check_products(reader: _Reader, frame: pl.DataFrame) -> None:
    _check_nulls(reader, PRODUCTS, frame)
    row = _first(frame, ~pl.col("product_id").is_first_distinct())
    if row is not None:
        reader.fail(
            f"{file_name(PRODUCTS)}: column product_id: {_where(row)} is a duplicate "
            f"product_id ({row['product_id']})"
        )
    _check_sign(reader, PRODUCTS, frame, "tolerance_minor", positive=False)


def _check_loans(
    reader: _Reader, frame: pl.DataFrame, products: pl.DataFrame, *, ordered: bool = True
) -> None:
    _check_nulls(reader, LOANS, frame)
    if ordered:
        _check_order(reader, LOANS, frame, ["loan_id"], "loan_id")
    _check_product_known(reader, frame, products)
    _check_sign(reader, LOANS, frame, "principal_minor", positive=True)


def _check_children(
    reader: _Reader, instalments: pl.DataFrame, payments: pl.DataFrame, loan_ids: pl.Series
) -> None:
    _check_nulls(reader, INSTALMENTS, instalments)
    _check_order(reader, INSTALMENTS, instalments, ["loan_id", "seq"], "instalment")
    _check_owned(reader, INSTALMENTS, instalments, loan_ids)
    _check_sign(reader, INSTALMENTS, instalments, "principal_minor", positive=False)
    _check_sign(reader, INSTALMENTS, instalments, "interest_minor", positive=False)
    _check_nulls(reader, PAYMENTS, payments)
    _check_order(reader, PAYMENTS, payments, ["loan_id", "value_date", "ref"], "payment")
    _check_owned(reader, PAYMENTS, payments, loan_ids)
    _check_sign(reader, PAYMENTS, payments, "amount_minor", positive=True)
    row = _first(payments, pl.col("reversed_on") < pl.col("value_date"))
    if row is not None:
        reader.fail(
            f"{file_name(PAYMENTS)}: column reversed_on: {_where(row)} is {row['reversed_on']}, "
            f"before the value date {row['value_date']}"
        )


def read_snapshot(directory: Path, *, verify_checksums: bool = True) -> Snapshot:
    """The whole snapshot in ``directory``, validated (see the module docstring for every
    check); raises :class:`SnapshotError` at the first problem."""
    reader = _Reader(directory, verify_checksums=verify_checksums)
    products = reader.scan(PRODUCTS)
    _check_products(reader, products)
    loans = reader.scan(LOANS)
    _check_loans(reader, loans, products)
    instalments = reader.scan(INSTALMENTS)
    payments = reader.scan(PAYMENTS)
    _check_children(reader, instalments, payments, loans["loan_id"])
    return Snapshot(
        products.drop(_ROW), loans.drop(_ROW), instalments.drop(_ROW), payments.drop(_ROW)
    )


def _chunk_starts(reader: _Reader, chunk_loans: int) -> list[int]:
    """The first loan_id of every chunk, streaming only the loan_id column (memory: one record
    batch plus one id per chunk); also proves loan_id is unique and ascending file-wide."""
    starts: list[int] = []
    previous: int | None = None
    row = 0
    source = pq.ParquetFile(reader.path(LOANS))
    for batch in source.iter_batches(batch_size=1 << 16, columns=["loan_id"]):
        ids = batch.column(0)
        if ids.null_count:
            at = row + next(i for i, v in enumerate(ids.is_valid().to_pylist()) if not v)
            reader.fail(f"{file_name(LOANS)}: column loan_id: row {at} is null")
        values = ids.to_numpy(zero_copy_only=False).astype("int64", copy=False)
        if len(values) == 0:
            continue
        bad = np.flatnonzero(values[1:] <= values[:-1])
        problem: int | None = None
        if previous is not None and values[0] <= previous:
            problem = 0
        elif len(bad):
            problem = int(bad[0]) + 1
        if problem is not None:
            before = previous if problem == 0 else int(values[problem - 1])
            value = int(values[problem])
            reader.fail(
                _order_problem(
                    LOANS,
                    f"row {row + problem} (loan_id {value})",
                    ["loan_id"],
                    {"loan_id": value},
                    {"loan_id": before},
                    "loan_id",
                )
            )
        first_index = (-row) % chunk_loans
        starts.extend(int(v) for v in values[first_index::chunk_loans])
        previous = int(values[-1])
        row += len(values)
    return starts


def iter_chunks(
    snapshot_dir: Path, chunk_loans: int, *, verify_checksums: bool = True
) -> Iterator[Snapshot]:
    """Sub-snapshots of at most ``chunk_loans`` loans each, in loan_id order, each with its
    loans' instalments and payments and every product.

    Each chunk is one lazy Parquet scan per file filtered on a loan_id range, which row-group
    statistics turn into reading only the row groups that hold the range; the chunks' ranges
    cover every loan_id, so every instalment and payment row is validated exactly once.
    """
    if chunk_loans < 1:
        raise ValueError("chunk_loans must be positive")
    reader = _Reader(snapshot_dir, verify_checksums=verify_checksums)
    products = reader.scan(PRODUCTS)
    _check_products(reader, products)
    starts = _chunk_starts(reader, chunk_loans)
    if not starts:  # no loans: every instalment or payment is an orphan
        _check_children(
            reader,
            reader.scan(INSTALMENTS),
            reader.scan(PAYMENTS),
            pl.Series("loan_id", [], dtype=pl.Int64),
        )
        return
    products = products.drop(_ROW)
    for index, start in enumerate(starts):
        low = None if index == 0 else start
        high = starts[index + 1] if index + 1 < len(starts) else None
        loans = reader.scan(LOANS, low, high)
        _check_loans(reader, loans, products, ordered=False)  # order checked by _chunk_starts
        instalments = reader.scan(INSTALMENTS, low, high)
        payments = reader.scan(PAYMENTS, low, high)
        _check_children(reader, instalments, payments, loans["loan_id"])
        yield Snapshot(products, loans.drop(_ROW), instalments.drop(_ROW), payments.drop(_ROW))


# --- kernel values --------------------------------------------------------------------------


def product_terms(row: Mapping[str, Any]) -> ProductTerms:
    """A ``products`` row as the kernel's :class:`ProductTerms`, exactly as
    ``ledger.models.Product.terms()`` builds it; raises :class:`InvalidTerms` (never a bare
    ``ValueError``) for rules the kernel refuses."""
    try:
        rounding = Rounding(row["rounding"])
        accrual_rounding = AccrualRounding(row["accrual_rounding"])
    except ValueError as error:
        raise InvalidTerms(f"product {row['code']} v{row['version']}: {error}") from None
    order = parse_allocation_order(row["allocation_order"])
    try:
        bucket_json = json.loads(row["buckets"])
    except json.JSONDecodeError as error:
        raise InvalidTerms(
            f"product {row['code']} v{row['version']}: buckets: not valid JSON ({error})"
        ) from None
    cap = row["cost_cap_annual"]
    return ProductTerms(
        penalty_multiplier=Decimal(row["penalty_multiplier"]),
        compound=row["compound"],
        grace_days=row["grace_days"],
        grace_retroactive=row["grace_retroactive"],
        cost_cap_annual=None if cap is None else Decimal(cap),
        rounding=rounding,
        accrual_rounding=accrual_rounding,
        allocation_order=order,
        tolerance=row["tolerance_minor"],
        buckets=buckets_from_json(bucket_json),
    )


def _loan_terms(
    row: Mapping[str, Any], product: ProductTerms | ArrearsError | None, schedule: list[Instalment]
) -> LoanTerms:
    if product is None:
        raise InvalidTerms(f"loan {row['ref']}: product_id {row['product_id']} is not a product")
    if isinstance(product, ArrearsError):
        raise product
    try:
        basis = RateBasis(row["rate_basis"])
        day_count = DayCount(row["day_count"])
    except ValueError as error:
        raise InvalidTerms(f"loan {row['ref']}: {error}") from None
    return LoanTerms(
        ref=row["ref"],
        currency=row["currency"],
        principal=row["principal_minor"],
        start=row["start_date"],
        rate=InterestRate(Decimal(row["rate_value"]), basis),
        day_count=day_count,
        schedule=tuple(schedule),
        product=product,
    )


def loan_terms_from_snapshot(
    snapshot: Snapshot,
) -> Iterator[tuple[int, LoanTerms | ArrearsError, tuple[Payment, ...]]]:
    """``(loan_id, terms or the error that stopped building them, payments)`` for every loan in
    loan_id order — the reference kernel's input, equal to ``ledger.selectors.loan_terms`` and
    ``loan_payments`` for an exported loan. Payments include reversed ones (``reversed_on``)."""
    products: dict[int, ProductTerms | ArrearsError] = {}
    for row in snapshot.products.iter_rows(named=True):
        try:
            products[row["product_id"]] = product_terms(row)
        except ArrearsError as error:
            products[row["product_id"]] = error
    instalments = (
        snapshot.instalments.select([c.name for c in COLUMNS[INSTALMENTS]])
        .sort(["loan_id", "seq"])
        .iter_rows()
    )
    payments = (
        snapshot.payments.select([c.name for c in COLUMNS[PAYMENTS]])
        .sort(["loan_id", "value_date", "ref"])
        .iter_rows()
    )
    next_instalment = next(instalments, None)
    next_payment = next(payments, None)
    for row in snapshot.loans.sort("loan_id").iter_rows(named=True):
        loan_id = row["loan_id"]
        schedule: list[Instalment] = []
        while next_instalment is not None and next_instalment[0] <= loan_id:
            if next_instalment[0] == loan_id:
                schedule.append(Instalment(*next_instalment[1:]))
            next_instalment = next(instalments, None)
        history: list[Payment] = []
        problem: ArrearsError | None = None
        while next_payment is not None and next_payment[0] <= loan_id:
            if next_payment[0] == loan_id:
                try:
                    history.append(Payment(*next_payment[1:]))
                except ArrearsError as error:
                    problem = problem or error
            next_payment = next(payments, None)
        try:
            if problem is not None:
                raise problem
            terms: LoanTerms | ArrearsError = _loan_terms(
                row, products.get(row["product_id"]), schedule
            )
        except ArrearsError as error:
            terms = error
        yield loan_id, terms, tuple(history)
