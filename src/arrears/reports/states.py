"""Loan states as of a date, as the ledger reports read them: a Polars frame per date.

:func:`states_as_of` reads the stored ``daily.LoanState`` rows of the date when a finished day
run stored it, and replays the ledger with the engine's chunk computation
(``engine.chunk.compute_chunk`` over ``ledger.frames`` — the daily run's own pipeline) when it
did not, or for the loans whose stored rows cannot be trusted for the question asked.

**Reproducible as of a date.** A report as of D reads only what was *recorded* by the end of
``known_by`` (default D; :func:`arrears.reports.params.end_of_day`): payments recorded
(``created_at``) later, waivers and plans requested or approved later (their last approval's
``at``), and loans created later are dropped before the replay, whatever their value or
effective dates. A payment or waiver reversed by a reversal recorded later (``reversed_at``,
whatever ``reversed_on`` it was back-dated to) replays as not reversed; a reversal without
``reversed_at`` (recorded before the column existed) counts from its ``reversed_on``. Stored rows
are kept for every loan except those with a ledger row (or a reversal) recorded since the day's
run started (or since the cut-off, if earlier): those are replayed, so a row a late run folded
in and a row a run missed are both set right.

**Limits** (nothing recorded says when these happened, so they are as the ledger has them now):

* edits to a loan's own row or schedule after the fact (the admin); product versions are new
  rows, so they are not affected;
* a concession's status changing from *approved* to anything other than *reversed* (plans are
  never reversed: they break or complete in the replay, which is dated).

Write-offs (核销) are not a ledger state: a case closed *written off* (``collections.CaseEvent``
``closed`` → ``written_off``, dated ``on``, recorded ``at``) is, for :func:`written_off`, every
loan of the borrower from that day until a later case of theirs is opened.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import reduce
from typing import Any

import polars as pl
from django.db import connection
from django.db.models import Q, QuerySet
from psycopg import sql as psycopg_sql

from arrears.daily.models import DayRun, LoanState
from arrears.engine.chunk import compute_chunk
from arrears.engine.contract import RESULT_SCHEMA
from arrears.engine.snapshot import Snapshot
from arrears.engine.snapshot.terms import kernel_terms, product_terms
from arrears.kernel.contract import STORED, Unit, field
from arrears.kernel.errors import ArrearsError
from arrears.kernel.state import state
from arrears.ledger import models, selectors
from arrears.ledger.frames import consistent_read, fetch_frame, iter_frames
from arrears.reports import stored
from arrears.reports.params import end_of_day
from arrears.reports.rolls import CLOSED, WRITTEN_OFF, roll_state, state_rank

#: The stored figures a report reads by default: the amounts, days past due and bucket. The
#: next due date (a date, empty for a loan with nothing left to fall due) is the workflow's,
#: and the bulk reader of stored days (:mod:`arrears.reports.stored`) reads integers only.
FIGURES: tuple[str, ...] = tuple(name for name in STORED if field(name).unit is not Unit.DATE)

__all__ = [
    "CLOSED",
    "WRITTEN_OFF",
    "States",
    "replay",
    "roll_state",
    "state_rank",
    "states_as_of",
    "states_at",
    "written_off",
]

#: Figures the engine computes that the daily run does not store (a report asking for them
#: is replayed): accruals before waivers and cash received.
REPLAYED = ("penalty_accrued", "compound_accrued", "paid_total")
#: Figures of the kernel's instalment states (summed per loan), not of the loan-state
#: contract: what waivers and settlements took off penalty and compound interest. Only loans
#: with a concession in force can have them; those are replayed by the kernel for them.
WAIVED = ("penalty_waived", "compound_waived")
#: Above this share of a stored day's loans (or this many) to replay, the whole day is
#: replayed instead (as cheap, and no long ``IN`` list).
MAX_REPLAYED_SHARE = 0.25
MAX_REPLAYED = 20_000
#: The loan's attributes every state frame carries next to its figures.
ATTRIBUTES = {
    "loan_id": pl.Int64(),
    "borrower_id": pl.Int64(),
    "product": pl.String(),
    "currency": pl.String(),
    "start_date": pl.Date(),
}


@dataclass(frozen=True)
class States:
    """The states of one or more dates: ``frame`` has ``as_of``, the loan's
    :data:`ATTRIBUTES` and the figures asked for (loan-state contract names); ``stored`` and
    ``replayed`` count rows by where they came from; ``errors`` counts loans the engine could
    not compute (left out, as the daily run leaves them out)."""

    frame: pl.DataFrame
    stored: int = 0
    replayed: int = 0
    errors: int = 0


def _type(name: str) -> pl.DataType:
    return pl.Int64() if name in WAIVED else RESULT_SCHEMA[name]


def _schema(figures: Sequence[str]) -> dict[str, pl.DataType]:
    return {"as_of": pl.Date(), **ATTRIBUTES, **{name: _type(name) for name in figures}}


def _waived(snapshot: Snapshot, days: Sequence[date]) -> dict[date, pl.DataFrame]:
    """Per day, ``loan_id`` and :data:`WAIVED` of the snapshot's loans with a concession
    (the kernel's replay, from the same frames the engine read)."""
    ids = pl.concat([snapshot.waivers["loan_id"], snapshot.plans["loan_id"]]).unique()
    empty = pl.DataFrame(schema={"loan_id": pl.Int64(), **dict.fromkeys(WAIVED, pl.Int64())})
    if not len(ids):
        return dict.fromkeys(days, empty)

    def of(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(pl.col("loan_id").is_in(ids.implode()))

    entries = kernel_terms(
        of(snapshot.loans),
        of(snapshot.instalments),
        of(snapshot.payments),
        product_terms(snapshot.products),
        waivers=of(snapshot.waivers),
        plans=of(snapshot.plans),
        plan_instalments=of(snapshot.plan_instalments),
    )
    out = {}
    for day in days:
        rows = []
        for loan_id, entry in entries.items():
            if isinstance(entry.terms, ArrearsError) or entry.terms.start > day:
                continue
            try:
                s = state(
                    entry.terms, entry.payments, day, waivers=entry.waivers, plans=entry.plans
                )
            except ArrearsError:
                continue  # the engine reports the loan as an error too
            rows.append(
                (
                    loan_id,
                    sum(i.penalty_waived for i in s.instalments),
                    sum(i.compound_waived for i in s.instalments),
                )
            )
        out[day] = pl.DataFrame(rows, schema=empty.schema, orient="row")
    return out


def _stamp(text: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return None


def _approved_at(row: Any) -> datetime:
    """When a concession came into force: its last approval, or its creation when none is
    recorded (made approved by an import or a test)."""
    stamps = [_stamp(a.get("at")) for a in (row.approvals or []) if isinstance(a, dict)]
    known = [s for s in stamps if s is not None]
    return max([row.created_at, *known])


@dataclass(frozen=True)
class _Late:
    """Ledger rows recorded at or after a cut-off (dropped from a replay as of before it), and
    reversals recorded at or after it (``reversed_at``: the payment or waiver replays as not
    reversed, whatever date the reversal was back-dated to)."""

    payments: frozenset[str]
    waivers: frozenset[str]
    plans: frozenset[str]
    payment_reversals: frozenset[str] = frozenset()
    waiver_reversals: frozenset[str] = frozenset()


def _late(cutoff: datetime) -> _Late:
    payments = models.Payment.objects.filter(created_at__gte=cutoff).values_list("ref", flat=True)
    waivers = [
        w.ref
        for w in models.Waiver.objects.filter(status__in=selectors.WAIVERS_IN_FORCE).only(
            "ref", "approvals", "created_at"
        )
        if _approved_at(w) >= cutoff
    ]
    plans = [
        p.ref
        for p in models.RepaymentPlan.objects.filter(status__in=selectors.PLANS_IN_FORCE).only(
            "ref", "approvals", "created_at"
        )
        if _approved_at(p) >= cutoff
    ]
    reversed_payments = models.Payment.objects.filter(reversed_at__gte=cutoff)
    reversed_waivers = models.Waiver.objects.filter(reversed_at__gte=cutoff)
    return _Late(
        frozenset(payments),
        frozenset(waivers),
        frozenset(plans),
        frozenset(reversed_payments.values_list("ref", flat=True)),
        frozenset(reversed_waivers.values_list("ref", flat=True)),
    )


def _known(snapshot: Snapshot, late: _Late) -> Snapshot:
    """``snapshot`` without the rows recorded late."""

    def drop(frame: pl.DataFrame, refs: frozenset[str]) -> pl.DataFrame:
        return frame.filter(~pl.col("ref").is_in(list(refs))) if refs else frame

    def unreverse(frame: pl.DataFrame, refs: frozenset[str]) -> pl.DataFrame:
        if not refs:
            return frame
        late = pl.col("ref").is_in(list(refs))
        return frame.with_columns(
            pl.when(late).then(None).otherwise(pl.col("reversed_on")).alias("reversed_on")
        )

    plans = drop(snapshot.plans, late.plans)
    plan_instalments = snapshot.plan_instalments
    if late.plans:
        plan_instalments = plan_instalments.filter(
            pl.col("plan_id").is_in(plans["plan_id"].implode())
        )
    return Snapshot(
        snapshot.products,
        snapshot.loans,
        snapshot.instalments,
        unreverse(drop(snapshot.payments, late.payments), late.payment_reversals),
        unreverse(drop(snapshot.waivers, late.waivers), late.waiver_reversals),
        plans,
        plan_instalments,
    )


def _attributes(loans: QuerySet[models.Loan]) -> pl.DataFrame:
    query = loans.order_by().values_list(
        "id", "borrower_id", "product__code", "currency", "start_date"
    )
    rows = list(query)
    return pl.DataFrame(rows, schema=ATTRIBUTES, orient="row")


def _known_loans(cutoff: datetime, last: date) -> QuerySet[models.Loan]:
    return models.Loan.objects.filter(created_at__lt=cutoff, start_date__lte=last)


def replay(
    days: Iterable[date],
    *,
    known_by: date | None = None,
    figures: Sequence[str] = FIGURES,
    loans: QuerySet[models.Loan] | None = None,
) -> States:
    """The states of every loan (or of ``loans``) at the end of each of ``days``, replayed
    from the ledger as recorded by the end of ``known_by`` (default: the last day). The
    ledger is read once, in chunks, and each chunk computed for every day."""
    wanted = sorted(set(days))
    if not wanted:
        return States(pl.DataFrame(schema=_schema(figures)))
    cutoff = end_of_day(known_by or wanted[-1])
    selection = _known_loans(cutoff, wanted[-1])
    if loans is not None:
        selection = selection.filter(pk__in=loans.values("pk"))
    parts: list[pl.DataFrame] = []
    errors: set[int] = set()
    with consistent_read():
        late = _late(cutoff)
        attributes = _attributes(selection)
        engine = [name for name in figures if name not in WAIVED]
        for snapshot in iter_frames(selection):
            known = _known(snapshot, late)
            waived = _waived(known, wanted) if set(WAIVED) & set(figures) else {}
            for day in wanted:
                results, failed = compute_chunk(
                    *known.frames, day, validated=True, **known.concessions
                )
                errors.update(failed["loan_id"].to_list())
                part = results.select("loan_id", *engine)
                if day in waived:
                    part = part.join(waived[day], on="loan_id", how="left").with_columns(
                        pl.col(name).fill_null(0) for name in WAIVED
                    )
                parts.append(part.with_columns(pl.lit(day).alias("as_of")))
    if not parts:
        return States(pl.DataFrame(schema=_schema(figures)))
    frame = (
        pl.concat(parts)
        .join(attributes, on="loan_id", how="inner")
        .select(list(_schema(figures)))
        .sort("as_of", "loan_id")
    )
    return States(frame, replayed=len(frame), errors=len(errors))


def _stored_runs(days: Sequence[date]) -> dict[date, DayRun]:
    """The finished run of each of ``days`` that stored it (the latest, as ``DayRun`` keeps
    one row per run)."""
    runs: dict[date, DayRun] = {}
    for run in DayRun.objects.filter(as_of__in=days, status__in=DayRun.FINISHED).order_by("pk"):
        runs[run.as_of] = run
    return runs


def _in_force_since(since: datetime, last: date) -> dict[int, list[tuple[date, datetime]]]:
    """Per loan, ``effective_on`` and approval time of its waivers and plans in force that
    take effect by ``last`` and came into force at or after ``since`` (read once for every
    day a report reads)."""
    out: dict[int, list[tuple[date, datetime]]] = {}
    for model, in_force in (
        (models.Waiver, selectors.WAIVERS_IN_FORCE),
        (models.RepaymentPlan, selectors.PLANS_IN_FORCE),
    ):
        for row in model.objects.filter(status__in=in_force, effective_on__lte=last).only(
            "loan_id", "effective_on", "approvals", "created_at"
        ):
            approved = _approved_at(row)
            if approved >= since:
                out.setdefault(row.loan_id, []).append((row.effective_on, approved))
    return out


def _suspects(
    sinces: dict[date, datetime], concessions: dict[int, list[tuple[date, datetime]]]
) -> dict[date, set[int]]:
    """Per day of ``sinces``, the loans whose stored state may differ from the ledger as
    recorded by the cut-off: a row affecting the day recorded since its ``since`` (the day's
    run start or the cut-off, whichever is earlier). ``concessions``: :func:`_in_force_since`
    of the earliest ``since``. One query per kind for every day (their conditions OR'ed, so
    it returns the rows a query per day would, once), then sorted out per day."""
    out: dict[date, set[int]] = {day: set() for day in sinces}
    if not sinces:
        return out
    paid = reduce(
        operator.or_,
        (
            Q(created_at__gte=since) & (Q(value_date__lte=day) | Q(reversed_on__lte=day))
            | Q(reversed_at__gte=since, reversed_on__lte=day)
            for day, since in sinces.items()
        ),
    )
    started = reduce(
        operator.or_,
        (Q(created_at__gte=since, start_date__lte=day) for day, since in sinces.items()),
    )
    payments = models.Payment.objects.filter(paid).values_list(
        "loan_id", "created_at", "value_date", "reversed_on", "reversed_at"
    )
    waivers = models.Waiver.objects.filter(
        reduce(
            operator.or_,
            (Q(reversed_at__gte=since, reversed_on__lte=day) for day, since in sinces.items()),
        )
    ).values_list("loan_id", "reversed_on", "reversed_at")
    loans = models.Loan.objects.filter(started).values_list("id", "created_at", "start_date")
    for loan_id, created, value_date, reversed_on, reversed_at in payments:
        undone = reversed_on is not None
        for day, since in sinces.items():
            if created >= since and (value_date <= day or (undone and reversed_on <= day)):
                out[day].add(loan_id)
            if undone and reversed_at is not None and reversed_at >= since and reversed_on <= day:
                out[day].add(loan_id)  # a reversal recorded since, back-dated into the day
    for loan_id, reversed_on, reversed_at in waivers:
        for day, since in sinces.items():
            if reversed_at >= since and reversed_on <= day:
                out[day].add(loan_id)
    for loan_id, created, start_date in loans:
        for day, since in sinces.items():
            if created >= since and start_date <= day:
                out[day].add(loan_id)
    for loan_id, rows in concessions.items():
        for day, since in sinces.items():
            if any(effective <= day and approved >= since for effective, approved in rows):
                out[day].add(loan_id)
    return out


def _known_attributes(cutoff: datetime, last: date, *, full: bool = True) -> pl.DataFrame:
    """The :data:`ATTRIBUTES` of the loans created before ``cutoff`` and started by ``last``
    (only ``loan_id`` and ``start_date`` unless ``full``): one bulk read (``ledger.frames``'
    reader), not a Python object per loan."""
    names = ["id", "borrower_id", "product__code", "currency"] if full else ["id"]
    query = _known_loans(cutoff, last).order_by().values_list(*names, "start_date").query
    sql, params = query.get_compiler(connection=connection).as_sql()
    kept = [name for name in ATTRIBUTES if full or name in {"loan_id", "start_date"}]
    return fetch_frame(sql, params, {name: ATTRIBUTES[name] for name in kept})


def _stored_frames(days: Sequence[date], figures: Sequence[str], *, shared: bool) -> pl.DataFrame:
    """``as_of``, ``loan_id`` and ``figures`` of the stored rows of ``days``, in no particular
    order, whoever created the loan (the caller keeps the known loans). On PostgreSQL grouped
    by the server and read by binary COPY (:mod:`arrears.reports.stored`), the days split
    between this connection and, when ``shared`` (this read's transaction is its own and
    wrote nothing), a second one on the same exported snapshot."""
    if connection.vendor == "postgresql":
        return _grouped_frames(days, figures, shared=shared)
    query = (
        LoanState.objects.filter(as_of__in=days)
        .order_by()
        .values_list("as_of", "loan_id", *figures)
        .query
    )
    sql, params = query.get_compiler(connection=connection).as_sql()
    schema = {"as_of": pl.Date(), "loan_id": pl.Int64(), **{n: _type(n) for n in figures}}
    return fetch_frame(sql, params, schema)


def _grouped_frames(days: Sequence[date], figures: Sequence[str], *, shared: bool) -> pl.DataFrame:
    table, quote = LoanState._meta.db_table, connection.ops.quote_name
    with connection.cursor() as cursor:
        if not shared or len(days) < 2:
            frame = stored.read_days([cursor.cursor], table, days, figures, quote)
        else:
            frame = _read_shared(cursor.cursor, table, days, figures)
    schema = {"as_of": pl.Date(), "loan_id": pl.Int64(), **{n: _type(n) for n in figures}}
    return frame.cast(schema)  # type: ignore[arg-type]


def _second_connection() -> Any:
    """A psycopg connection of its own (not the wrapper's, nor a pool's) to the same database,
    or None when the server refuses one."""
    try:
        return connection.Database.connect(**connection.get_connection_params())
    except connection.Database.OperationalError:
        return None


def _read_shared(
    raw: Any, table: str, days: Sequence[date], figures: Sequence[str]
) -> pl.DataFrame:
    """:func:`stored.read_days` on this connection and a second one that imports this
    transaction's snapshot (``pg_export_snapshot``, as ``pg_dump -j`` does), so both read the
    same rows. Only when this transaction wrote nothing: its own writes are not in the
    exported snapshot."""
    other = _second_connection()
    if other is None:  # none to be had (the server's connection limit): one reads every day
        return stored.read_days([raw], table, days, figures, connection.ops.quote_name)
    (snapshot,) = raw.execute("SELECT pg_export_snapshot()").fetchone()
    try:
        other.autocommit = True
        other.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        other.execute(
            psycopg_sql.SQL("SET TRANSACTION SNAPSHOT {}").format(psycopg_sql.Literal(snapshot))
        )
        with other.cursor() as theirs:
            frame = stored.read_days([raw, theirs], table, days, figures, connection.ops.quote_name)
        other.execute("COMMIT")
    finally:
        other.close()
    return frame


def states_as_of(
    as_of: date, *, known_by: date | None = None, figures: Sequence[str] = FIGURES
) -> States:
    """Every loan's state at the end of ``as_of`` as recorded by the end of ``known_by``
    (default ``as_of``): the stored rows of the day when a finished run stored it and every
    figure asked for is stored, with the loans changed since the run replayed; else the
    whole book replayed."""
    return states_at([as_of], known_by=known_by or as_of, figures=figures)


def states_at(
    days: Iterable[date],
    *,
    known_by: date,
    figures: Sequence[str] = FIGURES,
    attributes: bool = True,
    ordered: bool = True,
) -> States:
    """The states of each of ``days`` (:func:`states_as_of`'s rule, day by day), stacked:
    a stored day's rows are read with the others' in one read, with the loans changed since
    its run (or missing from it) replayed; a stored day with more than
    :data:`MAX_REPLAYED_SHARE` (or :data:`MAX_REPLAYED`) of its loans to replay is replayed
    whole. The days not stored, or every day when a figure asked for is not stored, are
    replayed together, reading the ledger once.

    ``attributes=False`` leaves out the loan's attributes but ``loan_id`` (the rows are the
    same); ``ordered=False`` leaves the rows in no particular order instead of by ``as_of``
    and ``loan_id`` (sorting 12M rows costs more than a roll's own sort)."""
    wanted = sorted(set(days))
    schema = _schema(figures)
    columns = list(schema) if attributes else ["as_of", "loan_id", *figures]
    runs = _stored_runs(wanted) if set(figures) <= set(STORED) else {}
    results: list[States] = []
    if runs:
        cutoff = end_of_day(known_by)
        shared = not connection.in_atomic_block
        stored_days = sorted(runs)
        sinces = {day: min(runs[day].started_at, cutoff) for day in stored_days}
        with consistent_read():
            rows = _stored_frames(stored_days, figures, shared=shared)
            concessions = _in_force_since(min(sinces.values()), stored_days[-1])
            suspects = _suspects(sinces, concessions)
            known = _known_attributes(cutoff, stored_days[-1], full=attributes)
        results.extend(_stored_days(stored_days, rows, suspects, known, known_by, figures))
    rest = [day for day in wanted if day not in runs]
    if rest:  # the days not stored: one replay reads the ledger once for all of them
        results.append(replay(rest, known_by=known_by, figures=figures))
    if not results:
        return States(pl.DataFrame(schema=schema).select(columns))
    frame = pl.concat([r.frame.select(columns) for r in results])
    return States(
        frame.sort("as_of", "loan_id") if ordered else frame,
        stored=sum(r.stored for r in results),
        replayed=sum(r.replayed for r in results),
        errors=max((r.errors for r in results), default=0),
    )


def _stored_days(
    days: Sequence[date],
    rows: pl.DataFrame,
    suspects: dict[date, set[int]],
    known: pl.DataFrame,
    known_by: date,
    figures: Sequence[str],
) -> list[States]:
    """The states of the stored ``days`` from their ``rows`` (``as_of``, ``loan_id``,
    figures): per day, the known loans started by then; those suspect or missing replayed, or
    the whole day when they are too many. One join over every day's rows; the missing loans
    are looked for only on a day that has fewer known rows than known loans."""
    present = [name for name in _schema(figures) if name in {*rows.columns, *known.columns}]
    # the stored rows of known loans started by their day (each loan once a day: the table's
    # unique constraint)
    joined = rows.join(known, on="loan_id", how="inner").filter(
        pl.col("start_date") <= pl.col("as_of")
    )
    counts = dict(joined.group_by("as_of").len().iter_rows())
    starts = known["start_date"].sort()
    out: list[States] = []
    again: dict[date, list[int]] = {}
    for day in days:
        expected = int(starts.search_sorted(day, side="right"))
        redo = set(suspects[day])
        if counts.get(day, 0) < expected:
            have = joined.filter(pl.col("as_of") == day).select("loan_id")
            missing = known.filter(pl.col("start_date") <= day).join(have, on="loan_id", how="anti")
            redo.update(missing["loan_id"].to_list())
        if len(redo) > MAX_REPLAYED_SHARE * expected or len(redo) > MAX_REPLAYED:
            # most of the day changed since (or a long list for an IN): replay it whole
            out.append(replay([day], known_by=known_by, figures=figures))
        else:
            again[day] = sorted(redo)
    dropped = pl.DataFrame(
        [(day, loan_id) for day, loans in again.items() for loan_id in loans],
        schema={"as_of": pl.Date(), "loan_id": pl.Int64()},
        orient="row",
    )
    kept = joined.filter(pl.col("as_of").is_in(list(again)))
    if len(dropped):
        kept = kept.join(dropped, on=["as_of", "loan_id"], how="anti")
    kept = kept.select(present)
    out.insert(0, States(kept, stored=len(kept)))
    for day, loans in again.items():
        if loans:
            out.append(
                replay(
                    [day],
                    known_by=known_by,
                    figures=figures,
                    loans=models.Loan.objects.filter(pk__in=loans),
                )
            )
    return out


def written_off(days: Iterable[date], *, known_by: date) -> pl.DataFrame:
    """``as_of`` and ``loan_id`` of the loans written off on each of ``days``: the borrower's
    case closed *written off* on or before the day (recorded by the end of ``known_by``), and
    no case of theirs opened since."""
    from arrears.collections.models import Case, CaseEvent

    cutoff = end_of_day(known_by)
    wanted = sorted(set(days))
    schema = {"as_of": pl.Date(), "loan_id": pl.Int64()}
    events = list(
        CaseEvent.objects.filter(at__lt=cutoff, on__lte=wanted[-1] if wanted else date.min)
        .filter(
            Q(kind=CaseEvent.Kind.CLOSED, to_value=Case.Status.WRITTEN_OFF)
            | Q(kind=CaseEvent.Kind.OPENED)
        )
        .values_list("case__borrower_id", "on", "kind")
    )
    if not events or not wanted:
        return pl.DataFrame(schema=schema)
    frame = pl.DataFrame(
        events,
        schema={"borrower_id": pl.Int64(), "on": pl.Date(), "kind": pl.String()},
        orient="row",
    )
    points = pl.DataFrame({"as_of": wanted}, schema={"as_of": pl.Date()})
    latest = (
        points.join(frame, how="cross")
        .filter(pl.col("on") <= pl.col("as_of"))
        .sort("as_of", "borrower_id", "on", pl.col("kind") == CaseEvent.Kind.OPENED)
        .group_by("as_of", "borrower_id", maintain_order=True)
        .last()
        .filter(pl.col("kind") == CaseEvent.Kind.CLOSED)
    )
    loans = pl.DataFrame(
        list(
            models.Loan.objects.filter(borrower_id__in=latest["borrower_id"].unique().to_list())
            .order_by()
            .values_list("id", "borrower_id")
        ),
        schema={"loan_id": pl.Int64(), "borrower_id": pl.Int64()},
        orient="row",
    )
    return latest.join(loans, on="borrower_id").select("as_of", "loan_id").sort("as_of", "loan_id")
