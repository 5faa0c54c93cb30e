"""The ledger read as snapshot frames: the one reader of "ledger rows → frames".

The daily run on the database (``daily.engines``) and ``arrears snapshot export``
(:mod:`arrears.ledger.snapshot_export`) both read loans through here, so they see the same
rows, in the same order, with the same types: exactly the snapshot format's seven tables
(:mod:`arrears.engine.snapshot.format`: products, loans, instalments, payments, and the
concessions the kernel replays — waivers, plans, plan_instalments). The result is an
:class:`~arrears.engine.snapshot.Snapshot`, which is what every runner's chunk computation
(``engine.chunk.compute_chunk``) takes.

The reads are bulk, never ORM model iteration: one SQL statement per table and chunk, on
PostgreSQL streamed out by ``COPY (SELECT …) TO STDOUT`` (CSV) into Polars, on SQLite a raw
cursor's ``fetchall``. The SQL returns dates as day numbers, decimals as text and booleans as
integers, so the conversion to the format's types is vectorised Polars work (no per-value
Python converters). Every read of one call runs in one read-only transaction, ``REPEATABLE
READ`` on PostgreSQL, so the tables agree with each other while payments keep arriving.

Which concessions are read is the ledger's one definition of "in force"
(``selectors.WAIVERS_IN_FORCE``, ``selectors.PLANS_IN_FORCE``).
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import polars as pl
from django.db import connection, transaction
from django.db.models import IntegerField, Model, QuerySet
from django.db.models.expressions import RawSQL

from arrears.engine.snapshot.format import (
    INSTALMENTS,
    LOANS,
    PAYMENTS,
    PLAN_INSTALMENTS,
    PLANS,
    PRODUCTS,
    TABLES,
    WAIVERS,
    Snapshot,
    empty_frame,
)
from arrears.kernel.terms import PRODUCT_KEYS
from arrears.ledger import models, schedules, selectors

#: Loans per chunk of :func:`iter_frames` (memory: one chunk's rows of every table).
CHUNK_LOANS = 100_000


def _ref_collation(vendor: str) -> str | None:
    """A byte-order collation, so refs leave the database in the order Python sorts them."""
    return {"postgresql": "C", "sqlite": "BINARY"}.get(vendor)


@contextmanager
def consistent_read() -> Iterator[None]:
    """One transaction for a set of reads; read-only ``REPEATABLE READ`` on PostgreSQL when it
    is the outermost one (inside a caller's transaction the caller's snapshot holds)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


class _Sql:
    """The vendor's spelling of the conversions the frames need (kept in SQL, so Polars does
    the rest in bulk)."""

    def __init__(self, vendor: str) -> None:
        self.vendor = vendor

    @staticmethod
    def name(text: str) -> str:
        return str(connection.ops.quote_name(text))

    def table(self, model: type[Model]) -> str:
        return self.name(model._meta.db_table)

    def column(self, alias: str, model: type[Model], field: str) -> str:
        return f"{alias}.{self.name(model._meta.get_field(field).column)}"

    def date(self, alias: str, model: type[Model], field: str) -> str:
        """Days since 1970-01-01 (an int, cast to a date by Polars)."""
        column = self.column(alias, model, field)
        if self.vendor == "postgresql":
            return f"({column} - DATE '1970-01-01')"
        return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"

    def decimal(self, alias: str, model: type[Model], field: str) -> str:
        """The exact decimal as text. SQLite keeps a ``DecimalField`` as a REAL; printed with
        the field's decimal places it is the value Django's own converter gives."""
        column = self.column(alias, model, field)
        if self.vendor == "postgresql":
            return f"CAST({column} AS TEXT)"
        places = model._meta.get_field(field).decimal_places
        return f"CASE WHEN {column} IS NULL THEN NULL ELSE printf('%%.{places}f', {column}) END"

    def boolean(self, alias: str, model: type[Model], field: str) -> str:
        column = self.column(alias, model, field)
        return f"CAST({column} AS INTEGER)"

    def text(self, alias: str, model: type[Model], field: str) -> str:
        return f"CAST({self.column(alias, model, field)} AS TEXT)"

    def ordered_ref(self, alias: str, model: type[Model]) -> str:
        collation = _ref_collation(self.vendor)
        column = self.column(alias, model, "ref")
        return f'{column} COLLATE "{collation}"' if collation else column


def day_number(model: type[Model], field: str) -> RawSQL:
    """An ORM expression for ``model``'s date ``field`` as days since 1970-01-01 (an int),
    the form the frames read dates in on both databases: no text to parse, whatever the
    server's ``DateStyle``."""
    s = _Sql(connection.vendor)
    return RawSQL(s.date(s.table(model), model, field), [], output_field=IntegerField())


def _raw_schema(table: str) -> dict[str, pl.DataType]:
    """The types the SQL returns ``table``'s columns in: a date as its day number, a boolean as
    an int, a decimal as text; everything else as the format has it."""
    raw: dict[str, pl.DataType] = {}
    for name, dtype in empty_frame(table).schema.items():
        if dtype == pl.Date:
            raw[name] = pl.Int32()
        elif dtype == pl.Boolean:
            raw[name] = pl.Int64()
        elif isinstance(dtype, pl.Decimal):
            raw[name] = pl.String()
        else:
            raw[name] = dtype
    return raw


def fetch_frame(sql: str, params: Sequence[Any], schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """The rows of one SELECT as a frame of the given (raw) column types, built column-typed
    in one pass (no type inference, no per-value Python conversion): on PostgreSQL the rows
    come by ``COPY … TO STDOUT`` as CSV, parsed by Polars; on SQLite from the cursor in one
    ``fetchall``. Every bulk read of the database into frames goes through here (a QuerySet's
    ``sql_with_params()`` is a SELECT like any other)."""
    if connection.vendor == "postgresql":
        buffer = bytearray()
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", list(params)) as copy:
                for block in copy:
                    buffer += block
        if not buffer:
            return pl.DataFrame(schema=dict(schema))
        return pl.read_csv(
            io.BytesIO(bytes(buffer)),
            has_header=False,
            new_columns=list(schema),
            schema=dict(schema),
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))  # always formatted: "%%" is "%"
        rows = cursor.fetchall()
    return pl.DataFrame(rows, schema=dict(schema), orient="row")


def _typed(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (of :func:`_raw_schema` types) cast to the snapshot format's types."""
    return frame.select(
        pl.col(name).cast(dtype) for name, dtype in empty_frame(table).schema.items()
    )


class LedgerReader:
    """The frames of a set of loans, whole or one loan_id range at a time; used inside
    :func:`consistent_read` (as :func:`read_frames` and :func:`iter_frames` do)."""

    def __init__(self, loans: QuerySet[models.Loan] | None = None) -> None:
        self.sql = _Sql(connection.vendor)
        #: Seconds spent reading each table and the rows read (for benchmarks and progress).
        self.seconds: dict[str, float] = dict.fromkeys(TABLES, 0.0)
        self.rows: dict[str, int] = dict.fromkeys(TABLES, 0)
        self.selection, self.params = "", []
        query = None if loans is None else loans.order_by().values("id").query
        if query is not None and (query.where or query.low_mark or query.high_mark is not None):
            sql, params = query.get_compiler(connection=connection).as_sql()
            self.selection, self.params = sql, list(params)

    def _where(self, low: int | None, high: int | None, column: str) -> tuple[str, list[Any]]:
        """The condition on ``column`` (a loan id) for the selected loans in ``[low, high)``
        (a semi-join on the caller's QuerySet, plus the range, which an index serves)."""
        parts: list[str] = []
        params: list[Any] = []
        if self.selection:
            parts.append(f"{column} IN ({self.selection})")
            params.extend(self.params)
        if low is not None:
            parts.append(f"{column} >= %s")
            params.append(low)
        if high is not None:
            parts.append(f"{column} < %s")
            params.append(high)
        return (" AND ".join(parts) or "1 = 1"), params

    def _read(self, table: str, sql: str, params: Sequence[Any]) -> pl.DataFrame:
        """The rows of ``sql``, which selects ``table``'s columns in the format's order."""
        started = time.perf_counter()
        frame = fetch_frame(sql, params, _raw_schema(table))
        if table != PRODUCTS:  # products are few; their JSON is normalised by the caller
            frame = _typed(table, frame)
        self.seconds[table] += time.perf_counter() - started
        self.rows[table] += len(frame)
        return frame

    def _schedules(self, low: int | None, high: int | None) -> pl.DataFrame:
        """The instalments of the selected loans in ``[low, high)``, one row each: their
        stored schedules (one text a loan) exploded in bulk by
        :func:`arrears.ledger.schedules.explode`."""
        started = time.perf_counter()
        owner, owned = self._where(low, high, "s.loan_id")
        stored = fetch_frame(
            f"{_schedule_select(self.sql)} WHERE {owner} ORDER BY s.loan_id", owned, SCHEDULES
        )
        frame = _typed(INSTALMENTS, schedules.explode(stored))
        self.seconds[INSTALMENTS] += time.perf_counter() - started
        self.rows[INSTALMENTS] += len(frame)
        return frame

    def loan_ids(self) -> list[int]:
        """The selected loans' ids, ascending."""
        where, params = self._where(None, None, "l.id")
        frame = fetch_frame(
            f"SELECT l.id FROM {self.sql.table(models.Loan)} l WHERE {where} ORDER BY l.id",
            params,
            {"loan_id": pl.Int64()},
        )
        return frame["loan_id"].to_list()

    def products(self) -> pl.DataFrame:
        """The products of the selected loans (every column of the format), by product_id."""
        s, P = self.sql, models.Product
        columns = [s.column("p", P, "id")]
        for key in PRODUCT_KEYS:
            if key in {"penalty_multiplier", "cost_cap_annual"}:
                columns.append(s.decimal("p", P, key))
            elif key in {"compound", "grace_retroactive"}:
                columns.append(s.boolean("p", P, key))
            elif key == "buckets":
                columns.append(s.text("p", P, key))
            else:
                columns.append(s.column("p", P, key))
        where, params = self._where(None, None, "l.id")
        loan = s.table(models.Loan)
        sql = (
            f"SELECT {', '.join(columns)} FROM {s.table(P)} p WHERE p.id IN "
            f"(SELECT l.product_id FROM {loan} l WHERE {where}) ORDER BY p.id"
        )
        frame = self._read(PRODUCTS, sql, params)
        if len(frame):  # few rows: one JSON spelling, whatever the database stores
            frame = frame.with_columns(
                pl.Series(
                    "buckets",
                    [json.dumps(json.loads(t), ensure_ascii=False) for t in frame["buckets"]],
                    dtype=pl.String,
                )
            )
        return _typed(PRODUCTS, frame)

    def chunk(
        self, products: pl.DataFrame, low: int | None = None, high: int | None = None
    ) -> Snapshot:
        """The selected loans with ``low <= loan_id < high`` and their rows, as frames."""
        s = self.sql
        L, Pay = models.Loan, models.Payment
        W, R, RI = models.Waiver, models.RepaymentPlan, models.PlanInstalment
        where, params = self._where(low, high, "l.id")
        loans = self._read(
            LOANS,
            f"SELECT {s.column('l', L, 'id')}, {s.column('l', L, 'ref')}, "
            f"{s.column('l', L, 'product')}, {s.column('l', L, 'currency')}, "
            f"{s.column('l', L, 'principal_minor')}, {s.decimal('l', L, 'rate_value')}, "
            f"{s.column('l', L, 'rate_basis')}, {s.column('l', L, 'day_count')}, "
            f"{s.date('l', L, 'start_date')} FROM {s.table(L)} l WHERE {where} ORDER BY l.id",
            params,
        )
        instalments = self._schedules(low, high)
        owner, owned = self._where(low, high, "y.loan_id")
        payments = self._read(
            PAYMENTS,
            f"SELECT y.loan_id, {s.column('y', Pay, 'ref')}, {s.date('y', Pay, 'value_date')}, "
            f"{s.column('y', Pay, 'amount_minor')}, {s.date('y', Pay, 'reversed_on')} "
            f"FROM {s.table(Pay)} y WHERE {owner} "
            f"ORDER BY y.loan_id, y.value_date, {s.ordered_ref('y', Pay)}",
            owned,
        )
        owner, owned = self._where(low, high, "w.loan_id")
        waived = sorted(selectors.WAIVERS_IN_FORCE)
        waivers = self._read(
            WAIVERS,
            f"SELECT w.loan_id, {s.column('w', W, 'ref')}, {s.date('w', W, 'effective_on')}, "
            f"{s.column('w', W, 'component')}, {s.column('w', W, 'amount_minor')}, "
            f"{s.date('w', W, 'reversed_on')} FROM {s.table(W)} w "
            f"WHERE {s.column('w', W, 'status')} IN ({', '.join(['%s'] * len(waived))}) "
            f"AND {owner} ORDER BY w.loan_id, w.effective_on, {s.ordered_ref('w', W)}",
            [*waived, *owned],
        )
        owner, owned = self._where(low, high, "r.loan_id")
        planned = sorted(selectors.PLANS_IN_FORCE)
        in_force = (
            f"{s.column('r', R, 'status')} IN ({', '.join(['%s'] * len(planned))}) AND {owner}"
        )
        plans = self._read(
            PLANS,
            f"SELECT r.loan_id, r.id, {s.column('r', R, 'ref')}, "
            f"{s.date('r', R, 'effective_on')}, {s.column('r', R, 'grace_days')}, "
            f"{s.column('r', R, 'tolerance_minor')}, {s.boolean('r', R, 'waive_rest')} "
            f"FROM {s.table(R)} r WHERE {in_force} ORDER BY r.loan_id, r.id",
            [*planned, *owned],
        )
        plan_instalments = self._read(
            PLAN_INSTALMENTS,
            f"SELECT r.loan_id, pi.plan_id, {s.column('pi', RI, 'seq')}, "
            f"{s.date('pi', RI, 'due_date')}, {s.column('pi', RI, 'amount_minor')} "
            f"FROM {s.table(RI)} pi JOIN {s.table(R)} r ON r.id = pi.plan_id "
            f"WHERE {in_force} ORDER BY r.loan_id, pi.plan_id, pi.seq",
            [*planned, *owned],
        )
        return Snapshot(products, loans, instalments, payments, waivers, plans, plan_instalments)


#: The raw frame of stored schedules the reader fetches (exploded by ``ledger.schedules``).
SCHEDULES = {"loan_id": pl.Int64(), "schedule": pl.String()}


def _schedule_select(s: _Sql) -> str:
    """The stored schedules' ``SELECT`` (table alias ``s``), without its condition."""
    S = models.Schedule
    return f"SELECT s.loan_id, {s.column('s', S, 'text')} FROM {s.table(S)} s"


def read_frames(
    loans: QuerySet[models.Loan] | None = None,
    *,
    low: int | None = None,
    high: int | None = None,
) -> Snapshot:
    """``loans`` (default: every loan), optionally only those with ``low <= id < high``, with
    their products, schedules, payments and concessions in force, as the snapshot format's
    frames — read in one consistent transaction."""
    with consistent_read():
        reader = LedgerReader(loans)
        return reader.chunk(reader.products(), low, high)


def iter_frames(
    loans: QuerySet[models.Loan] | None = None, chunk_loans: int = CHUNK_LOANS
) -> Iterator[Snapshot]:
    """The frames of ``loans`` (default: every loan) in loan_id chunks of at most
    ``chunk_loans`` loans, each with every product of the selection; all chunks come from one
    consistent transaction, held open until the iterator is exhausted or closed."""
    if chunk_loans < 1:
        raise ValueError("chunk_loans must be positive")
    with consistent_read():
        reader = LedgerReader(loans)
        ids = reader.loan_ids()
        if not ids:
            return
        products = reader.products()
        starts = ids[::chunk_loans]
        for index, start in enumerate(starts):
            high = starts[index + 1] if index + 1 < len(starts) else None
            yield reader.chunk(products, start, high)


def read_revisions(loans: QuerySet[models.Loan] | None = None) -> pl.DataFrame:
    """``loan_id`` and ``revision`` (:attr:`~arrears.ledger.models.Loan.revision`) of ``loans``
    (default: every loan), by loan_id. Called inside the :func:`consistent_read` that reads the
    frames, it gives the revision each loan's frames are at (what the daily run stores with the
    states, so a rerun knows which loans changed since)."""
    selection = models.Loan.objects.all() if loans is None else loans
    query = selection.order_by("id").values_list("id", "revision").query
    sql, params = query.get_compiler(connection=connection).as_sql()
    return fetch_frame(sql, params, {"loan_id": pl.Int64(), "revision": pl.Int64()})


def frame_counts(snapshot: Snapshot) -> dict[str, int]:
    """Rows per table (in :data:`~arrears.engine.snapshot.format.TABLES` order)."""
    tables = snapshot.tables
    return {name: len(tables[name]) for name in TABLES}
