"""Loan states as of a date, as the ledger reports read them: a Polars frame per date.

:func:`states_as_of` reads the stored ``daily.LoanState`` rows of the date when a finished day
run stored it, and replays the ledger with the engine's chunk computation
(``engine.chunk.compute_chunk`` over ``ledger.frames`` — the daily run's own pipeline) when it
did not, or for the loans whose stored rows cannot be trusted for the question asked.

**Reproducible as of a date.** A report as of D reads only what was *recorded* by the end of
``known_by`` (default D; :func:`arrears.reports.params.end_of_day`): payments recorded
(``created_at``) later, waivers and plans requested or approved later (their last approval's
``at``), and loans created later are dropped before the replay, whatever their value or
effective dates. Stored rows are kept for every loan except those with a ledger row recorded
since the day's run started (or since the cut-off, if earlier): those are replayed, so a row a
late run folded in and a row a run missed are both set right.

**Limits** (nothing recorded says when these happened, so they are as the ledger has them now):

* a payment's reversal (``reversed_on``, ``reversal_ref``) and a waiver's reversal: a reversal
  recorded after the cut-off with ``reversed_on`` ≤ D changes the figures as of D;
* edits to a loan's own row or schedule after the fact (the admin); product versions are new
  rows, so they are not affected;
* a concession's status changing from *approved* to anything other than *reversed* (plans are
  never reversed: they break or complete in the replay, which is dated).

Write-offs (核销) are not a ledger state: a case closed *written off* (``collections.CaseEvent``
``closed`` → ``written_off``, dated ``on``, recorded ``at``) is, for :func:`written_off`, every
loan of the borrower from that day until a later case of theirs is opened.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import polars as pl
from django.db import connection
from django.db.models import Q, QuerySet

from arrears.daily.models import DayRun, LoanState
from arrears.engine.chunk import compute_chunk
from arrears.engine.contract import RESULT_SCHEMA
from arrears.engine.snapshot import Snapshot
from arrears.engine.snapshot.terms import kernel_terms, product_terms
from arrears.kernel.contract import STORED
from arrears.kernel.errors import ArrearsError
from arrears.kernel.state import state
from arrears.ledger import models, selectors
from arrears.ledger.frames import _fetch, consistent_read, iter_frames
from arrears.reports.params import end_of_day
from arrears.reports.rolls import CLOSED, WRITTEN_OFF, roll_state, state_rank

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
    """Ledger rows recorded at or after a cut-off (dropped from a replay as of before it)."""

    payments: frozenset[str]
    waivers: frozenset[str]
    plans: frozenset[str]


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
    return _Late(frozenset(payments), frozenset(waivers), frozenset(plans))


def _known(snapshot: Snapshot, late: _Late) -> Snapshot:
    """``snapshot`` without the rows recorded late."""

    def drop(frame: pl.DataFrame, refs: frozenset[str]) -> pl.DataFrame:
        return frame.filter(~pl.col("ref").is_in(list(refs))) if refs else frame

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
        drop(snapshot.payments, late.payments),
        drop(snapshot.waivers, late.waivers),
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
    figures: Sequence[str] = STORED,
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


def _stored_run(day: date) -> DayRun | None:
    return DayRun.objects.filter(as_of=day, status__in=DayRun.FINISHED).order_by("-pk").first()


def _suspects(day: date, since: datetime, cutoff: datetime) -> set[int]:
    """Loans whose stored state of ``day`` may differ from the ledger as recorded by
    ``cutoff``: a row affecting ``day`` recorded since ``since`` (the run's start or the
    cut-off, whichever is earlier)."""
    suspects: set[int] = set()
    suspects.update(
        models.Payment.objects.filter(created_at__gte=since)
        .filter(Q(value_date__lte=day) | Q(reversed_on__lte=day))
        .values_list("loan_id", flat=True)
    )
    for model, in_force in (
        (models.Waiver, selectors.WAIVERS_IN_FORCE),
        (models.RepaymentPlan, selectors.PLANS_IN_FORCE),
    ):
        for row in model.objects.filter(status__in=in_force, effective_on__lte=day).only(
            "loan_id", "approvals", "created_at"
        ):
            if _approved_at(row) >= since:
                suspects.add(row.loan_id)
    suspects.update(
        models.Loan.objects.filter(created_at__gte=since, start_date__lte=day).values_list(
            "id", flat=True
        )
    )
    return suspects


def _stored_frame(day: date, cutoff: datetime) -> pl.DataFrame:
    query = (
        LoanState.objects.filter(as_of=day, loan__created_at__lt=cutoff)
        .order_by()
        .values_list("loan_id", *STORED)
        .query
    )
    sql, params = query.get_compiler(connection=connection).as_sql()
    schema = {"loan_id": pl.Int64(), **{name: RESULT_SCHEMA[name] for name in STORED}}
    return _fetch(sql, params, schema)


def states_as_of(
    as_of: date, *, known_by: date | None = None, figures: Sequence[str] = STORED
) -> States:
    """Every loan's state at the end of ``as_of`` as recorded by the end of ``known_by``
    (default ``as_of``): the stored rows of the day when a finished run stored it and every
    figure asked for is stored, with the loans changed since the run replayed; else the
    whole book replayed."""
    cutoff = end_of_day(known_by or as_of)
    run = _stored_run(as_of)
    if run is None or not set(figures) <= set(STORED):
        return replay([as_of], known_by=known_by or as_of, figures=figures)
    with consistent_read():
        stored = _stored_frame(as_of, cutoff)
        suspects = _suspects(as_of, min(run.started_at, cutoff), cutoff)
        expected = _attributes(_known_loans(cutoff, as_of))
    missing = set(expected["loan_id"].to_list()) - set(stored["loan_id"].to_list())
    again = sorted(suspects | missing)
    if len(again) > MAX_REPLAYED_SHARE * len(expected) or len(again) > MAX_REPLAYED:
        # most of the day changed since (or a long list for an IN): replay it whole
        return replay([as_of], known_by=known_by or as_of, figures=figures)
    kept = stored.filter(~pl.col("loan_id").is_in(again)).select("loan_id", *figures)
    frame = kept.join(expected, on="loan_id", how="inner").with_columns(
        pl.lit(as_of).alias("as_of")
    )
    redone = States(pl.DataFrame(schema=_schema(figures)))
    if again:
        redone = replay(
            [as_of],
            known_by=known_by or as_of,
            figures=figures,
            loans=models.Loan.objects.filter(pk__in=again),
        )
    out = pl.concat([frame.select(list(_schema(figures))), redone.frame]).sort("loan_id")
    return States(out, stored=len(frame), replayed=len(redone.frame), errors=redone.errors)


def states_at(days: Iterable[date], *, known_by: date, figures: Sequence[str] = STORED) -> States:
    """:func:`states_as_of` for each of ``days`` (stored where stored), stacked; when none
    of them is stored, or a figure asked for is not stored, one replay reads the ledger once
    for all of them."""
    wanted = sorted(set(days))
    stored_days = set(
        DayRun.objects.filter(as_of__in=wanted, status__in=DayRun.FINISHED).values_list(
            "as_of", flat=True
        )
    )
    if not set(figures) <= set(STORED) or not stored_days:
        return replay(wanted, known_by=known_by, figures=figures)
    results = [states_as_of(day, known_by=known_by, figures=figures) for day in sorted(stored_days)]
    rest = [day for day in wanted if day not in stored_days]
    if rest:  # the days not stored: one replay reads the ledger once for all of them
        results.append(replay(rest, known_by=known_by, figures=figures))
    return States(
        pl.concat([r.frame for r in results]).sort("as_of", "loan_id"),
        stored=sum(r.stored for r in results),
        replayed=sum(r.replayed for r in results),
        errors=max((r.errors for r in results), default=0),
    )


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
