"""The borrower-level frame the strategy is evaluated on: ledger state plus case history.

One row per borrower, with every column of ``arrears.strategy.model.STATE_COLUMNS``. Ledger
columns are aggregated from the day's stored loan states (``daily.LoanState``); case columns
come from promises, contacts and holds. A few bulk queries, then Polars; never one query per
borrower, so the same code serves the demo and a large book.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

import polars as pl
from django.db.models import QuerySet

from arrears.collections.models import Case, ContactAttempt, Hold, Promise
from arrears.daily.models import LoanState
from arrears.engine.contract import STORED_SCHEMA
from arrears.kernel.contract import PER_BORROWER, PerBorrower
from arrears.ledger import selectors
from arrears.ledger.frames import day_number, fetch_frame
from arrears.ledger.models import Loan

#: How far ahead pre-due reminders look: borrowers with an instalment due within this many days
#: are evaluated even when nothing is overdue (the strategy decides whether anything is sent).
PRE_DUE_HORIZON = 7

#: Above this many ids a query reads without its ``IN (…)`` list and the rows are filtered
#: here instead: the ORM prepares an ``IN`` list value by value (about 10 µs each), so the
#: whole book's borrowers cost more to send than the few extra rows cost to drop.
LARGE_IN = 2000

#: A contact outcome that proves the borrower was reached (本人接通) or spoke to us.
REACHED = frozenset(
    {
        ContactAttempt.Outcome.RIGHT_PARTY,
        ContactAttempt.Outcome.PROMISE,
        ContactAttempt.Outcome.REFUSED,
        ContactAttempt.Outcome.DISPUTE,
        ContactAttempt.Outcome.HARDSHIP,
        ContactAttempt.Outcome.CALLBACK,
    }
)
FAILED = frozenset({ContactAttempt.Outcome.NO_ANSWER, ContactAttempt.Outcome.WRONG_NUMBER})


def loan_frame(
    as_of: date,
    borrowers: Collection[int] | QuerySet[Any] | None = None,
    *,
    next_due: bool = True,
) -> pl.DataFrame:
    """Every stored loan state of ``as_of`` with its borrower, currency and principal
    (``amount``), the contract's per-borrower figures under their contract names, and
    ``days_to_due``: days until the loan's next due date (the stored state's
    ``next_due_on``) when it falls inside the pre-due horizon, empty otherwise.

    ``borrowers``: only theirs — ids, or a QuerySet of one column of ids, which the database
    takes as a subquery (tens of thousands of ids as parameters cost seconds to build and to
    parse, on the client alone). ``next_due=False`` leaves ``days_to_due`` empty (one case's
    field-visit facts read only the arrears figures)."""
    rows = LoanState.objects.filter(as_of=as_of)
    if borrowers is not None:
        chosen = borrowers if isinstance(borrowers, QuerySet) else list(borrowers)
        rows = rows.filter(loan__borrower_id__in=chosen)
    figures = [f.name for f in PER_BORROWER]
    values = rows.annotate(next_due_day=day_number(LoanState, "next_due_on")).values_list(
        "loan_id",
        "loan__borrower_id",
        "loan__currency",
        "loan__principal_minor",
        *figures,
        "next_due_day",
    )
    schema = {
        "loan_id": pl.Int64,
        "borrower_id": pl.Int64,
        "currency": pl.String,
        "amount": pl.Int64,
        **{name: STORED_SCHEMA[name] for name in figures},
        "next_due_day": pl.Int64,
    }
    # read in bulk (COPY on PostgreSQL), not a Python tuple a row: a million states cost
    # seconds through the ORM, on the first run and on every rerun alike
    sql, params = values.query.sql_with_params()
    frame = fetch_frame(sql, params, schema)
    # a day number is a Polars date's own value: cast, then counted from as_of
    days = (pl.col("next_due_day").cast(pl.Int32).cast(pl.Date) - pl.lit(as_of)).dt.total_days()
    in_horizon = pl.when(days <= PRE_DUE_HORIZON).then(days) if next_due else pl.lit(None)
    return frame.with_columns(in_horizon.cast(pl.Int64).alias("days_to_due")).drop("next_due_day")


_AGGREGATE = {PerBorrower.SUM: pl.Expr.sum, PerBorrower.MAX: pl.Expr.max}


def borrower_frame(loans: pl.DataFrame) -> pl.DataFrame:
    """Aggregate loan states per borrower, each contract figure as the contract says (sums of
    amounts, the highest dpd, the bucket of the worst loan), plus what the strategy reads
    about the borrower's loans (currencies, principal, loans overdue, next due date)."""
    worst_fields = [f.name for f in PER_BORROWER if f.per_borrower is PerBorrower.WORST]
    worst = (
        loans.sort(["borrower_id", "dpd", "loan_id"], descending=[False, True, False])
        .group_by("borrower_id", maintain_order=True)
        .first()
        .select("borrower_id", *worst_fields)
    )
    figures = [
        _AGGREGATE[f.per_borrower](pl.col(f.name))
        for f in PER_BORROWER
        if f.per_borrower is not None and f.per_borrower is not PerBorrower.WORST
    ]
    return (
        loans.group_by("borrower_id")
        .agg(
            pl.col("currency").first(),
            pl.col("currency").n_unique().alias("currencies"),
            *figures,
            pl.col("amount").sum(),
            (pl.col("dpd") > 0).sum().cast(pl.Int64).alias("loans_overdue"),
            pl.col("days_to_due").min(),
            pl.col("loan_id").filter(pl.col("dpd") > 0).alias("overdue_loans"),
        )
        .join(worst, on="borrower_id", how="left")
        .sort("borrower_id")
    )


def case_frame(
    as_of: date, borrowers: list[int], *, holds: list[Hold] | None = None, plans: bool = True
) -> pl.DataFrame:
    """Case-history columns per borrower (see STATE_COLUMNS): promises, contacts, holds, plans.

    ``holds`` are ``active_holds(as_of, borrowers)`` when the caller has read them;
    ``plans=False`` leaves out ``has_plan``, which needs the kernel's replay of every loan with
    a plan (one case's field-visit facts do not read it)."""
    base = pl.DataFrame({"borrower_id": borrowers}, schema={"borrower_id": pl.Int64})
    open_cases = Case.objects.filter(closed_on__isnull=True)
    listed = len(borrowers) <= LARGE_IN
    if listed:
        open_cases = open_cases.filter(borrower_id__in=borrowers)
    cases = pl.DataFrame(
        list(
            open_cases.values_list(
                "id", "borrower_id", "opened_on", "status", "stage", "owner", "stage_since"
            )
        ),
        schema={
            "case_pk": pl.Int64,
            "borrower_id": pl.Int64,
            "opened_on": pl.Date,
            "status": pl.String,
            "case_stage": pl.String,
            "case_owner": pl.String,
            "stage_since": pl.Date,
        },
        orient="row",
    )
    if not listed:  # the whole book's open cases: the frame's borrowers only
        cases = cases.join(base, on="borrower_id", how="semi")
    case_ids = cases["case_pk"].to_list()
    promised = Promise.objects.filter(made_on__lte=as_of)
    promised_rows = pl.DataFrame(
        list(
            (
                promised.filter(case_id__in=case_ids)
                if len(case_ids) <= LARGE_IN
                # every open case's, then the frame's cases only (a join, not an IN list)
                else promised.filter(case__closed_on__isnull=True)
            ).values_list("case_id", "case__borrower_id", "status")
        ),
        schema={"case_pk": pl.Int64, "borrower_id": pl.Int64, "pstatus": pl.String},
        orient="row",
    )
    if len(case_ids) > LARGE_IN:
        promised_rows = promised_rows.join(cases.select("case_pk"), on="case_pk", how="semi")
    promises = promised_rows.group_by("borrower_id").agg(
        (pl.col("pstatus") == Promise.Status.BROKEN).sum().cast(pl.Int64).alias("broken_promises"),
        (pl.col("pstatus") == Promise.Status.KEPT).sum().cast(pl.Int64).alias("promises_kept"),
        (pl.col("pstatus") == Promise.Status.PENDING).any().alias("active_promise"),
    )
    contacts = _contact_columns(as_of, cases)
    held = _hold_columns(as_of, borrowers, holds)
    frame = (
        base.join(cases, on="borrower_id", how="left")
        .join(promises, on="borrower_id", how="left")
        .join(contacts, on="borrower_id", how="left")
        .join(held, on="borrower_id", how="left")
    )
    flags = ["active_promise", "on_hold"]
    if plans:
        in_plan = _borrowers_in_plan(as_of, borrowers)
        has_plan = pl.DataFrame(
            {"borrower_id": in_plan, "has_plan": [True] * len(in_plan)},
            schema={"borrower_id": pl.Int64, "has_plan": pl.Boolean},
        )
        frame = frame.join(has_plan, on="borrower_id", how="left")
        flags.append("has_plan")
    return frame.with_columns(
        pl.col("broken_promises", "promises_kept", "right_party_contacts").fill_null(0),
        pl.col("complaints_open", "disputes_open").fill_null(0),
        pl.col(*flags).fill_null(False),
        (pl.col("status") == Case.Status.PLACED).fill_null(False).alias("placed"),
    )


def _borrowers_in_plan(as_of: date, borrowers: list[int]) -> list[int]:
    """Borrowers with a repayment plan *active* on ``as_of`` — approved, started, and neither
    broken nor completed, which only the kernel's replay knows (few loans: cheap)."""
    among = Loan.objects.all()
    if len(borrowers) <= LARGE_IN:
        among = among.filter(borrower_id__in=borrowers)
    wanted = set(borrowers)
    loans = selectors.loans_with_concessions(among, plans_only=True, started_by=as_of)
    return sorted(
        {
            loan.borrower_id
            for loan in loans.select_related("product", "schedule")
            if loan.borrower_id in wanted and selectors.loan_state(loan, as_of)[1].plan_active
        }
    )


def _contact_columns(as_of: date, cases: pl.DataFrame) -> pl.DataFrame:
    """Right-party contacts, days since the last one, and days unreachable (失联).

    ``days_since_contact`` counts from the last right-party contact, or from the case opening if
    there was none. ``unreachable_days`` is that same count when every attempt since then failed
    (no answer, wrong number) and at least one was made; otherwise 0.
    """
    case_ids = cases["case_pk"].to_list()
    tried = ContactAttempt.objects.filter(at__date__lte=as_of)
    if len(case_ids) <= LARGE_IN:
        tried = tried.filter(case_id__in=case_ids)
    else:  # every open case's, then the frame's cases only (a join, not an IN list)
        tried = tried.filter(case__closed_on__isnull=True)
    wanted = set(case_ids)
    rows = tried.values_list("case_id", "case__borrower_id", "at", "outcome")
    attempts = pl.DataFrame(
        [(b, at.date(), outcome) for case_id, b, at, outcome in rows if case_id in wanted],
        schema={"borrower_id": pl.Int64, "on": pl.Date, "outcome": pl.String},
        orient="row",
    )
    reached = pl.col("outcome").is_in(list(REACHED))
    per = attempts.group_by("borrower_id").agg(
        reached.sum().cast(pl.Int64).alias("right_party_contacts"),
        pl.col("on").filter(reached).max().alias("last_rpc"),
    )
    joined = cases.select("borrower_id", "opened_on").join(per, on="borrower_id", how="left")
    anchor = pl.coalesce(pl.col("last_rpc"), pl.col("opened_on"))
    failed_since = (
        attempts.join(joined.select("borrower_id", anchor.alias("anchor")), on="borrower_id")
        .filter(pl.col("on") >= pl.col("anchor"))
        .group_by("borrower_id")
        .agg(
            pl.col("outcome").is_in(list(FAILED)).all().alias("all_failed"),
            pl.len().alias("tries"),
        )
    )
    days = (pl.lit(as_of) - anchor).dt.total_days()
    return (
        joined.join(failed_since, on="borrower_id", how="left")
        .with_columns(
            days.alias("days_since_contact"),
            pl.when(pl.col("all_failed").fill_null(False) & (pl.col("tries") > 0))
            .then(days)
            .otherwise(0)
            .alias("unreachable_days"),
        )
        .select("borrower_id", "right_party_contacts", "days_since_contact", "unreachable_days")
    )


def active_holds(as_of: date, borrowers: list[int]) -> list[Hold]:
    """Holds in force on ``as_of`` for ``borrowers`` (back-dated ones included)."""
    holds = Hold.objects.filter(starts_on__lte=as_of, ends_on__gte=as_of).exclude(
        released_on__lte=as_of
    )
    if len(borrowers) <= LARGE_IN:
        return list(holds.filter(borrower_id__in=borrowers))
    wanted = set(borrowers)
    return [hold for hold in holds if hold.borrower_id in wanted]


def _hold_columns(
    as_of: date, borrowers: list[int], holds: list[Hold] | None = None
) -> pl.DataFrame:
    if holds is None:
        holds = active_holds(as_of, borrowers)
    rows = [(h.borrower_id, h.reason, not h.channels) for h in holds]
    holds = pl.DataFrame(
        rows,
        schema={"borrower_id": pl.Int64, "reason": pl.String, "full": pl.Boolean},
        orient="row",
    )
    return holds.group_by("borrower_id").agg(
        (pl.col("reason") == Hold.Reason.COMPLAINT).sum().cast(pl.Int64).alias("complaints_open"),
        (pl.col("reason") == Hold.Reason.DISPUTE).sum().cast(pl.Int64).alias("disputes_open"),
        pl.col("full").any().alias("on_hold"),
    )
