"""The daily workflow: turn a day's ledger state into cases, stage moves and work items.

Order, for one ``as_of`` (after the daily run has stored the day's loan states):

1. pending promises are judged: kept as soon as the promised amount has arrived, partially kept
   or broken only on the first run *after* the end of their due date plus
   ``ARREARS_PROMISE_GRACE_DAYS`` (a promise due 06-05 is judged broken by the 06-06 run, never
   by the 06-05 one); broken promises feed the entry conditions (``broken_promises``);
2. borrowers newly in arrears get a case; cases whose borrower has cured are resolved;
3. the active strategy assigns each borrower a stage and a variant (one vectorised pass);
4. each case's status follows from holds, plans, promises and stage; every change is an event
   carrying its cause — the strategy version and the entry condition, or the record that moved it.
   A case following an approved repayment plan keeps its stage and owner (its collector follows
   the plan) and gets no treatments until the plan ends;
5. due treatments become work items keyed by the *contact*, not by the rule that asked for it:
   (borrower, channel, template, day) — see :func:`contact_key`; the strategy version is recorded
   on the item. Holds and active promises *suppress* items (recorded, never silently dropped);
6. call-owning stages allocate cases to collectors (分案).

Everything runs in one transaction and every write is keyed, so re-running a day adds nothing
and a crash midway leaves the day as it was. A day earlier than the latest evaluated one is not
re-evaluated (cases have moved on since); the ledger states still are.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import polars as pl
from django.conf import settings
from django.db import transaction
from django.db.models import Max, QuerySet

from arrears import errorcodes
from arrears.collections import bulk, events, strategies
from arrears.collections.allocation import allocate_cases
from arrears.collections.frames import active_holds, borrower_frame, case_frame, loan_frame
from arrears.collections.models import Case, CaseEvent, Hold, Promise, StrategyVersion, WorkItem
from arrears.formatting import format_money
from arrears.kernel.errors import ArrearsError
from arrears.kernel.money import Money
from arrears.ledger import selectors
from arrears.strategy.evaluate import assign_stages, treatments_due, variant_of
from arrears.strategy.model import STATE_COLUMNS, Strategy
from arrears.strategy.priority import priority_scores

#: Channels an active promise quiets: reminders and calls, not placements or letters (a case
#: following a repayment plan gets no treatments at all).
REMINDER_CHANNELS = frozenset({"sms", "voice", "email", "in_app", "call_task"})
#: Stages whose cases are with an agency or lawyers, and the stage of a requested field visit.
PLACED_STAGES = frozenset({"external", "legal"})
FIELD_STAGES = frozenset({"field_visit"})

errorcodes.define(
    {
        "workflow-replay-failed": (
            "borrower %(borrower)s: the loans could not be replayed for %(day)s: %(detail)s"
        ),
    }
)


class WorkflowError(ArrearsError):
    """The workflow could not evaluate a borrower (the ledger refused to replay a loan)."""

    code = "workflow-replay-failed"


def contact_key(borrower_id: int, channel: str, template: str, day: date) -> str:
    """The identity of one contact: what reaches the person, on which day.

    ``borrower<id>:<channel>:<template>:<day>`` — the borrower (the person, whichever case or
    stage asked), the channel, the template (the step: what the message or task says) and the
    day the cadence asks for it. The stage, the treatment's position and the strategy version
    are deliberately *not* part of it: publishing a new version and re-running the day must
    not contact anyone again (issue 9), and a version is recorded on the work item instead.
    Work items and their outbox messages (``wi:<key>``) share this key, so the unique
    constraints of both tables enforce "once per person, channel, step and day".

    Example (also a test): ``contact_key(7, "sms", "overdue_reminder", date(2026, 2, 16))`` is
    ``"borrower7:sms:overdue_reminder:2026-02-16"``.
    """
    return f"borrower{borrower_id}:{channel}:{template}:{day.isoformat()}"


def money_text(minor: int, currency: str) -> str:
    """An amount as a stored cause shows it: ``CN¥50.00``, never raw minor units."""
    return format_money(Money(int(minor), currency), "en")


def promise_grace_days() -> int:
    """Days after its due date a promise still counts as kept (``ARREARS_PROMISE_GRACE_DAYS``)."""
    return int(getattr(settings, "ARREARS_PROMISE_GRACE_DAYS", 0))


@dataclass
class WorkflowSummary:
    as_of: date
    strategy: str = ""
    evaluated: int = 0
    opened: int = 0
    resolved: int = 0
    stage_changes: int = 0
    status_changes: int = 0
    promises_judged: int = 0
    work_created: int = 0
    work_suppressed: int = 0
    assigned: int = 0
    skipped: str = ""
    per_stage: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        if self.skipped:
            return f"{self.as_of}: workflow skipped: {self.skipped}"
        stages = " ".join(f"{k}={v}" for k, v in sorted(self.per_stage.items()))
        return (
            f"{self.as_of}: {self.strategy}: {self.evaluated} borrowers, {self.opened} opened, "
            f"{self.resolved} resolved, {self.stage_changes} stage moves, "
            f"{self.promises_judged} promises judged, {self.work_created} work items "
            f"({self.work_suppressed} suppressed), {self.assigned} assigned [{stages}]"
        )


def judge_promises(as_of: date, borrowers: Collection[int] | None, label: str) -> int:
    """Judge pending promises on ``as_of``; returns how many were judged.

    A promise is *kept* as soon as payments with value dates from the day it was made to the
    end of its due date plus the grace (``ARREARS_PROMISE_GRACE_DAYS``, default 0) reach its
    amount less the tolerance — possibly early. Otherwise it stays pending through that last
    day, and the first run after it judges it *partially kept* (something arrived) or
    *broken*: a promise due 06-05 is kept by a payment on 06-05, and judged broken by the
    06-06 run, never by the 06-05 one (the borrower still had the day to pay).

    Three statements whatever the count: the pending promises, their borrowers' payments
    (summed per promise here, as ``ledger.selectors.paid_between`` sums them for one), one
    prepared UPDATE for the judged ones; their events go through :func:`events.record_day`.
    """
    pending = Promise.objects.filter(status=Promise.Status.PENDING, made_on__lte=as_of)
    if borrowers is not None:
        pending = pending.filter(case__borrower_id__in=list(borrowers))
    promises = list(
        pending.order_by("id").values_list(
            "id",
            "case_id",
            "case__borrower_id",
            "case__currency",
            "made_on",
            "due_date",
            "amount_minor",
            "tolerance_minor",
        )
    )
    if not promises:
        return 0
    grace = timedelta(days=promise_grace_days())
    paid_by = _payments_of({p[2] for p in promises}, min(p[4] for p in promises), as_of)
    judged: list[tuple[str, int, date, int]] = []
    changes: list[events.DayEvent] = []
    for pk, case_id, borrower_id, currency, made_on, due_date, amount, tolerance in promises:
        deadline = due_date + grace
        last = min(as_of, deadline)
        paid = sum(value for on, value in paid_by.get(borrower_id, ()) if made_on <= on <= last)
        if paid >= amount - tolerance:
            status = Promise.Status.KEPT
        elif as_of <= deadline:
            continue  # the borrower still has until the end of the deadline
        elif paid > 0:
            status = Promise.Status.PARTIAL
        else:
            status = Promise.Status.BROKEN
        judged.append((status, paid, as_of, pk))
        after = f" + {grace.days} day(s) grace" if grace else ""
        changes.append(
            events.DayEvent(
                case_id,
                CaseEvent.Kind.PROMISE,
                Promise.Status.PENDING,
                status,
                f"promise #{pk} of {money_text(amount, currency)} due {due_date}{after}: "
                f"paid {money_text(paid, currency)} (tolerance {money_text(tolerance, currency)})",
            )
        )
    bulk.update_rows(Promise, ["status", "paid_minor", "resolved_on"], judged)
    events.record_day(changes, as_of, strategy=label)
    return len(judged)


def _payments_of(
    borrowers: Collection[int], first: date, as_of: date
) -> dict[int, list[tuple[date, int]]]:
    """Borrower → (value date, amount) of the cash on their loans from ``first`` to ``as_of``,
    as known on ``as_of`` (reversed by then: left out) — ``selectors.paid_between``'s rows."""
    from arrears.ledger.models import Payment

    rows = (
        Payment.objects.filter(
            loan__borrower_id__in=list(borrowers), value_date__gte=first, value_date__lte=as_of
        )
        .exclude(reversed_on__lte=as_of)
        .values_list("loan__borrower_id", "value_date", "amount_minor")
    )
    found: dict[int, list[tuple[date, int]]] = {}
    for borrower_id, value_date, amount in rows:
        found.setdefault(borrower_id, []).append((value_date, amount))
    return found


def strategy_frame(as_of: date, borrowers: pl.DataFrame, cases: pl.DataFrame) -> pl.DataFrame:
    """Join ledger and case columns into the frame the strategy reads (every STATE_COLUMN)."""
    frame = borrowers.join(cases, on="borrower_id", how="left").with_columns(
        pl.col("has_plan").alias("in_plan"),
        pl.col("days_since_contact").fill_null(0),
        pl.col("unreachable_days").fill_null(0),
        pl.col("days_to_due").fill_null(9999),
    )
    missing = [c for c in STATE_COLUMNS if c not in frame.columns]
    if missing:  # pragma: no cover - a new STATE_COLUMN must be wired here first
        raise RuntimeError(f"workflow frame lacks strategy columns {missing}")
    offset = pl.when(pl.col("dpd") > 0).then(pl.col("dpd")).otherwise(-pl.col("days_to_due"))
    return frame.with_columns(pl.col("borrower_id").alias("case_id"), offset.alias("offset"))


def _plan_keeps_stage(assigned: pl.DataFrame, label: str) -> pl.DataFrame:
    """A case following an approved repayment plan stays in its stage, with its owner.

    The plan, not the ladder, drives such a case: days past due follow the plan's schedule, so
    the ladder would move it (to ``pre_due`` three days before an original due date, to
    ``reminder`` inside the plan's grace) and allocation would take it from the collector who
    negotiated the plan — out of both the collector's and the lead's queue. Keeping the stage
    keeps the owner and the collector; the ladder resumes when the plan ends (completed or
    broken). A case without a stage yet keeps whatever the strategy says.
    """
    keep = (
        pl.col("in_plan")
        & pl.col("case_stage").is_not_null()
        & (pl.col("case_stage") != "")
        & pl.col("case_owner").is_not_null()
    )
    why = pl.format(
        "{}: stage '{}' kept because a repayment plan is in force", pl.lit(label), "case_stage"
    )
    return assigned.with_columns(
        pl.when(keep).then(pl.col("case_stage")).otherwise(pl.col("stage")).alias("stage"),
        pl.when(keep).then(pl.col("case_owner")).otherwise(pl.col("owner")).alias("owner"),
        pl.when(keep).then(why).otherwise(pl.col("reason")).alias("reason"),
    )


def _status(row: dict[str, object], stage: str | None) -> tuple[str, str]:
    """A case's status from what holds it, and why."""
    if row["on_hold"]:
        return Case.Status.ON_HOLD, "a hold is in force"
    if row["in_plan"]:
        return Case.Status.IN_PLAN, "an approved repayment plan is in force"
    if row["active_promise"]:
        return Case.Status.PROMISED, "a promise to pay is pending"
    if stage in FIELD_STAGES:
        return Case.Status.FIELD, f"stage {stage!r} requests a field visit"
    if stage in PLACED_STAGES:
        return Case.Status.PLACED, f"stage {stage!r} is worked by an external agency"
    return Case.Status.OPEN, "in arrears, no hold, plan or promise"


def _latest_evaluated() -> date | None:
    latest: date | None = Case.objects.aggregate(latest=Max("evaluated_on"))["latest"]
    return latest


def evaluate_day(as_of: date, *, borrowers: Iterable[int] | None = None) -> WorkflowSummary:
    """Run the workflow for ``as_of`` (all borrowers, or only ``borrowers`` after a change).

    The book is read in a few bulk queries into Polars frames, the decisions are made on the
    frames, and only what changed is written, in bulk: a re-run of the day finds every case,
    event and work item already as it should be and writes nothing.
    """
    subset = None if borrowers is None else sorted(set(borrowers))
    summary = WorkflowSummary(as_of=as_of)
    latest = _latest_evaluated()
    if subset is None and latest is not None and latest > as_of:
        summary.skipped = f"cases were already evaluated up to {latest}"
        return summary
    record, strategy = strategies.active()
    label = strategies.label(record)
    summary.strategy = label
    with transaction.atomic():
        summary.promises_judged = judge_promises(as_of, subset, label)
        loans = loan_frame(as_of, subset)
        people = borrower_frame(loans)
        open_ids = set(_open_cases_query(subset).values_list("borrower_id", flat=True))
        wanted = people.filter(
            (pl.col("dpd") > 0)
            | pl.col("borrower_id").is_in(list(open_ids))
            | (pl.col("days_to_due").is_not_null())
        )
        _open_cases(as_of, wanted, open_ids, label, summary)
        borrower_ids = wanted["borrower_id"].to_list()
        # one read of the day's holds: for the frame's columns and for suppressing work
        holds = active_holds(as_of, borrower_ids)
        cases = case_frame(as_of, borrower_ids, holds=holds)
        frame = strategy_frame(as_of, wanted, cases)
        summary.evaluated = len(frame)
        assigned = _plan_keeps_stage(
            assign_stages(strategy, frame).with_columns(
                variant_of(frame["case_id"], strategy),
                priority_scores(strategy, frame).alias("priority"),
            ),
            label,
        )
        moved = _update_cases(as_of, assigned, record, strategy, summary, subset)
        summary.assigned = allocate_cases(as_of, strategy, label, moved, subset)
        _create_work(as_of, assigned, record, strategy, summary, subset, holds)
    return summary


def _open_cases_query(subset: Collection[int] | None) -> QuerySet[Case]:
    """The open cases, of ``subset``'s borrowers only when given."""
    query = Case.objects.filter(closed_on__isnull=True)
    return query if subset is None else query.filter(borrower_id__in=list(subset))


def _open_cases(
    as_of: date, people: pl.DataFrame, open_ids: set[int], label: str, summary: WorkflowSummary
) -> None:
    """Open a case for every borrower newly in arrears (dpd > 0, no open case).

    A borrower whose debt was written off gets no new case automatically: recovery after a
    write-off is a separate decision, not the ladder starting again the next morning.
    The cases are inserted in bulk, each with its keyed ``opened`` event.
    """
    newly = people.filter((pl.col("dpd") > 0) & ~pl.col("borrower_id").is_in(list(open_ids)))
    if newly.is_empty():
        return
    # one query for every written-off borrower (few) rather than IN lists of the many new ones
    written_off = set(
        Case.objects.filter(status=Case.Status.WRITTEN_OFF).values_list("borrower_id", flat=True)
    )
    rows = newly.filter(~pl.col("borrower_id").is_in(list(written_off))).select(
        "borrower_id", "currency", "loans_overdue", "dpd", "total_due"
    )
    bulk.insert_rows(
        Case,
        ["borrower", "currency", "opened_on"],
        [(b, c, as_of) for b, c, *_ in rows.iter_rows()],
    )
    # the ids of the open cases opened today: one query, no IN list of the new borrowers
    ids: dict[int, int] = dict(
        Case.objects.filter(closed_on__isnull=True, opened_on=as_of).values_list(
            "borrower_id", "id"
        )
    )
    opened = []
    for borrower_id, currency, overdue, dpd, total_due in rows.iter_rows():
        opened.append(
            events.DayEvent(
                ids[borrower_id],
                CaseEvent.Kind.OPENED,
                "",
                Case.Status.OPEN,
                f"{overdue} loan(s) overdue, dpd {dpd}, "
                f"total due {money_text(total_due, currency)}",
            )
        )
        open_ids.add(borrower_id)
    events.record_day(opened, as_of, strategy=label)
    summary.opened += len(rows)


#: What a day's evaluation may change on an open case, in the order of ``_update_cases``' rows.
_CASE_FIELDS = [
    "stage",
    "stage_since",
    "owner",
    "status",
    "strategy",
    "variant",
    "dpd",
    "bucket",
    "total_due_minor",
    "priority",
    "evaluated_on",
]
#: What resolving a case changes.
_RESOLVED_FIELDS = ["status", "resolution", "closed_on", "dpd", "total_due_minor", "evaluated_on"]
#: The open cases' stored columns ``_update_cases`` compares the day's decisions with.
_STORED = {
    "case_pk": pl.Int64,
    "borrower_id": pl.Int64,
    "c_status": pl.String,
    "c_stage": pl.String,
    "c_stage_since": pl.Date,
    "c_owner": pl.String,
    "c_strategy": pl.Int64,
    "c_variant": pl.String,
    "c_dpd": pl.Int64,
    "c_bucket": pl.String,
    "c_total_due": pl.Int64,
    "c_priority": pl.Int64,
    "c_evaluated_on": pl.Date,
}


def _status_expr() -> pl.Expr:
    """:func:`_status`'s first answer, for a whole frame at once."""
    stage = pl.col("stage")
    return (
        pl.when(pl.col("on_hold"))
        .then(pl.lit(Case.Status.ON_HOLD.value))
        .when(pl.col("in_plan"))
        .then(pl.lit(Case.Status.IN_PLAN.value))
        .when(pl.col("active_promise"))
        .then(pl.lit(Case.Status.PROMISED.value))
        .when(stage.is_in(list(FIELD_STAGES)).fill_null(False))
        .then(pl.lit(Case.Status.FIELD.value))
        .when(stage.is_in(list(PLACED_STAGES)).fill_null(False))
        .then(pl.lit(Case.Status.PLACED.value))
        .otherwise(pl.lit(Case.Status.OPEN.value))
    )


def _update_cases(
    as_of: date,
    assigned: pl.DataFrame,
    record: StrategyVersion,
    strategy: Strategy,
    summary: WorkflowSummary,
    subset: Collection[int] | None = None,
) -> set[int]:
    """Resolve cured cases; move stages and statuses, each with an event naming its cause.

    Returns the cases whose bucket changed today (allocation may hand them to another team).
    The open cases are read as one frame and compared with the day's decisions there; only the
    cases where something differs are looked at row by row (in Python, no query) and written,
    with one prepared UPDATE for all of them and their events in bulk — so a re-run of an
    unchanged day writes nothing.
    """
    label = strategies.label(record)
    stored = pl.DataFrame(
        list(
            _open_cases_query(subset).values_list(
                "id",
                "borrower_id",
                "status",
                "stage",
                "stage_since",
                "owner",
                "strategy_id",
                "variant",
                "dpd",
                "bucket",
                "total_due_minor",
                "priority",
                "evaluated_on",
            )
        ),
        schema=_STORED,
        orient="row",
    )
    joined = assigned.join(stored, on="borrower_id", how="inner", maintain_order="left")
    resolve = (pl.col("dpd") == 0) & ~pl.col("in_plan")
    moves = pl.col("stage").is_not_null() & (pl.col("stage") != pl.col("c_stage"))
    differs = [
        moves,
        _status_expr() != pl.col("c_status"),
        pl.col("c_strategy").ne_missing(record.pk),
        pl.col("variant").ne_missing(pl.col("c_variant")),
        pl.col("dpd").ne_missing(pl.col("c_dpd")),
        pl.col("bucket").ne_missing(pl.col("c_bucket")),
        pl.col("total_due").ne_missing(pl.col("c_total_due")),
        pl.col("priority").ne_missing(pl.col("c_priority")),
        pl.col("c_evaluated_on").ne_missing(pl.lit(as_of)),
    ]
    joined = joined.with_columns(resolve.alias("_resolve"))
    staying = joined.filter(~pl.col("_resolve") & pl.col("stage").is_not_null())
    for stage, count in staying.group_by("stage").len().iter_rows():
        summary.per_stage[stage] = summary.per_stage.get(stage, 0) + count
    changed = joined.filter(pl.col("_resolve") | pl.any_horizontal(differs))
    moved: set[int] = set()
    changes: list[events.DayEvent] = []
    updates: list[tuple[object, ...]] = []
    resolved: list[tuple[object, ...]] = []
    for row in changed.iter_rows(named=True):
        case_id = row["case_pk"]
        if row["_resolve"]:
            resolved.append(_resolve(case_id, as_of, row, changes))
            summary.resolved += 1
            continue
        stage = row["stage"]
        case_stage, stage_since, owner = row["c_stage"], row["c_stage_since"], row["c_owner"]
        if stage is not None and stage != case_stage:
            changes.append(
                events.DayEvent(case_id, CaseEvent.Kind.STAGE, case_stage, stage, row["reason"])
            )
            case_stage, stage_since, owner = stage, as_of, row["owner"]
            summary.stage_changes += 1
        status, why = _status(row, stage)
        before = row["c_status"]
        if before == Case.Status.IN_PLAN and status != Case.Status.IN_PLAN:
            why = f"{plan_outcome(row['borrower_id'], as_of)}; {why}"
        if status != before:
            changes.append(events.DayEvent(case_id, CaseEvent.Kind.STATUS, before, status, why))
            summary.status_changes += 1
        entering_or_leaving_plan = Case.Status.IN_PLAN in (before, status)
        if row["c_bucket"] and row["c_bucket"] != row["bucket"] and not entering_or_leaving_plan:
            moved.add(case_id)  # a plan changes the bucket, not who should work the case
        updates.append(
            (
                case_stage,
                stage_since,
                owner,
                status,
                record.pk,
                row["variant"],
                row["dpd"],
                row["bucket"],
                row["total_due"],
                row["priority"],
                as_of,
                case_id,
            )
        )
    events.record_day(changes, as_of, strategy=label)
    if resolved:
        ids = [row[-1] for row in resolved]
        for part in bulk.chunks(ids):
            WorkItem.objects.filter(case_id__in=list(part), status=WorkItem.Status.PENDING).update(
                status=WorkItem.Status.CANCELLED, status_reason=f"case resolved on {as_of}"
            )
    bulk.update_rows(Case, _RESOLVED_FIELDS, resolved)
    bulk.update_rows(Case, _CASE_FIELDS, updates)
    return moved


def plan_outcome(borrower_id: int, as_of: date) -> str:
    """How the borrower's latest plan ended, from the kernel's replay: which instalment broke
    it and how much it lacked, or when it completed."""
    from arrears.ledger.models import Loan

    notes = []
    loans = selectors.loans_with_concessions(
        Loan.objects.filter(borrower_id=borrower_id), plans_only=True, started_by=as_of
    )
    for loan in loans.select_related("product", "schedule"):
        plans = selectors.loan_state(loan, as_of)[1].plans
        if not plans:
            continue
        plan = plans[-1]
        if plan.broken_on is not None:
            missed = next((i for i in plan.instalments if not i.covered), None)
            detail = (
                f": instalment {missed.seq} due {missed.due_date} needed "
                f"{money_text(missed.cumulative, loan.currency)} in total, "
                f"{money_text(plan.coverage, loan.currency)} paid (grace {plan.grace_days} days)"
                if missed
                else ""
            )
            notes.append(f"plan {plan.ref} broken on {plan.broken_on}{detail}")
        elif plan.completed_on is not None:
            notes.append(f"plan {plan.ref} completed on {plan.completed_on}")
        else:
            notes.append(f"plan {plan.ref} is {plan.status}")
    return "; ".join(notes) or "no plan in force"


def _resolve(
    case_id: int, as_of: date, row: dict[str, Any], changes: list[events.DayEvent]
) -> tuple[object, ...]:
    """The ``closed`` event of a case nothing is overdue on (appended to ``changes``) and its
    row for ``_RESOLVED_FIELDS``: resolved, paid when every loan is paid off, else cured."""
    paid = int(row["payoff"] or 0) == 0
    resolution = Case.Resolution.PAID if paid else Case.Resolution.CURED
    cause = (
        "every loan paid off"
        if paid
        else f"nothing overdue as of {as_of} (dpd 0 on all loans): cured"
    )
    changes.append(
        events.DayEvent(
            case_id, CaseEvent.Kind.CLOSED, row["c_status"], Case.Status.RESOLVED, cause
        )
    )
    return (Case.Status.RESOLVED, resolution, as_of, 0, 0, as_of, case_id)


def _suppression(row: dict[str, object], channel: str, holds: list[Hold]) -> str:
    """Why a due treatment must not go out today ('' when it may)."""
    held_loans = {h.loan_id for h in holds if h.loan_id is not None}
    overdue = set(row["overdue_loans"] or ())  # type: ignore[call-overload]
    for hold in holds:
        if hold.loan_id is not None and not (overdue and overdue <= held_loans):
            continue  # a hold on some loans does not quiet collection of the others
        if not hold.channels or channel in hold.channels:
            return f"hold #{hold.pk} ({hold.reason}) until {hold.ends_on}"
    if channel in REMINDER_CHANNELS and row["active_promise"]:
        return "a promise to pay is pending"
    return ""


def _create_work(
    as_of: date,
    assigned: pl.DataFrame,
    record: StrategyVersion,
    strategy: Strategy,
    summary: WorkflowSummary,
    subset: Collection[int] | None = None,
    in_force: list[Hold] | None = None,
) -> None:
    """A work item for every treatment due today, keyed by :func:`contact_key` so a re-run —
    under this strategy version or a later one — adds nothing. Cases following a repayment
    plan get none (the plan drives them; see :func:`_plan_keeps_stage`).

    Due treatments come from one frame; their keys are looked up in bulk and only the items
    not stored yet are built (with their suppression) and inserted in bulk. ``in_force``: the
    holds in force on ``as_of`` for (at least) the borrowers of ``assigned``, when the caller
    has read them (``evaluate_day`` has, for the case frame); read here otherwise."""
    label = strategies.label(record)
    cases = pl.DataFrame(
        list(
            _open_cases_query(subset).values_list(
                "borrower_id", "id", "stage_since", "collector_id", "priority"
            )
        ),
        schema={
            "borrower_id": pl.Int64,
            "case_pk": pl.Int64,
            "stage_since": pl.Date,
            "collector_id": pl.Int64,
            "case_priority": pl.Int64,
        },
        orient="row",
    )
    stage_day = (
        assigned.select("borrower_id")
        .join(cases, on="borrower_id", how="left", maintain_order="left")
        .select((pl.lit(as_of) - pl.col("stage_since")).dt.total_days().fill_null(0))
        .to_series()
        .alias("stage_day")
    )
    due = treatments_due(strategy, assigned.with_columns(stage_day))
    due = due.filter(pl.col("due")).join(
        assigned.filter(~pl.col("in_plan")).select("case_id"), on="case_id", how="semi"
    )
    due = due.join(
        assigned.select(
            "case_id",
            "borrower_id",
            "reason",
            "variant",
            "owner",
            "in_plan",
            "active_promise",
            "overdue_loans",
            "dpd",
        ),
        on="case_id",
    )
    due = due.join(
        cases.select("borrower_id", "case_pk", "collector_id", "case_priority"),
        on="borrower_id",
        how="left",
        maintain_order="left",
    ).filter(~((pl.col("dpd") > 0) & pl.col("case_pk").is_null()))  # resolved today
    keys = [
        contact_key(b, c, t, as_of)
        for b, c, t in due.select("borrower_id", "channel", "template").iter_rows()
    ]
    # two treatments of one stage asking for the same contact: one contact
    due = due.with_columns(pl.Series("key", keys, dtype=pl.String)).unique(
        subset="key", keep="first", maintain_order=True
    )
    existing = bulk.existing(WorkItem, "key", due["key"].to_list())
    due = due.filter(~pl.col("key").is_in(list(existing)))
    holds: dict[int, list[Hold]] = {}
    if in_force is None:
        in_force = active_holds(as_of, due["borrower_id"].unique().to_list())
    for hold in in_force:
        holds.setdefault(hold.borrower_id, []).append(hold)
    fresh = []
    suppressed = 0
    for row in due.iter_rows(named=True):
        why_not = _suppression(row, row["channel"], holds.get(row["borrower_id"], []))
        suppressed += bool(why_not)
        fresh.append(
            (
                row["key"],
                row["case_pk"],
                row["borrower_id"],
                as_of,
                row["stage"],
                row["treatment"],
                row["channel"],
                row["template"],
                row["owner"],
                row["collector_id"],
                WorkItem.Status.SUPPRESSED if why_not else WorkItem.Status.PENDING,
                why_not,
                f"{row['reason']}; cadence day {row['day']}",
                label,
                row["variant"],
                row["case_priority"] if row["case_pk"] is not None else 0,
            )
        )
    bulk.insert_rows(WorkItem, _WORK_FIELDS, fresh)
    summary.work_created = len(fresh)
    summary.work_suppressed = suppressed


#: The columns ``_create_work`` writes for a work item, in its rows' order.
_WORK_FIELDS = [
    "key",
    "case",
    "borrower",
    "due_on",
    "stage",
    "treatment",
    "channel",
    "template",
    "owner",
    "collector",
    "status",
    "status_reason",
    "reason",
    "strategy",
    "variant",
    "priority",
]


def business_date() -> date:
    """The date the workflow stands on: the latest evaluated day, else today's local date
    (inside :func:`one_business_date`, the date read when it began)."""
    from django.utils import timezone

    pinned = _PINNED_DAY.get()
    if pinned is not None:
        return pinned
    return _latest_evaluated() or timezone.localdate()


#: The business date of the request being served, while :func:`one_business_date` holds it.
_PINNED_DAY: ContextVar[date | None] = ContextVar("arrears_business_date", default=None)


@contextmanager
def one_business_date() -> Iterator[date]:
    """Read the business date once and answer it to every :func:`business_date` call inside.

    Why: one case page asked for it five times (the page, its two concession forms, the
    gate's holds, the field-visit panel), each a ``MAX`` over every case. Nothing a page
    does moves it — only a day's evaluation does, and a re-evaluation of one borrower
    evaluates it as of this same date — so the answer inside is the one each call would
    have read, and the parts of the page cannot disagree about the day.
    """
    day = business_date()
    token = _PINNED_DAY.set(day)
    try:
        yield day
    finally:
        _PINNED_DAY.reset(token)


def reevaluate(borrower_id: int, as_of: date | None = None) -> WorkflowSummary:
    """Recompute one borrower's loans and case now, after a payment, promise, hold or plan.

    The borrower's stored loan states for the day are replaced from the kernel first, so the
    case sees the change at once instead of at the next daily run.
    """
    from arrears.daily.engines import reference_states
    from arrears.daily.store import replace_loans
    from arrears.ledger.models import Loan

    day = as_of or business_date()
    if not Case.objects.filter(borrower_id=borrower_id, closed_on__isnull=True).exists():
        return WorkflowSummary(as_of=day, skipped="no open case; the next daily run decides")
    states, errors = reference_states(
        Loan.objects.filter(borrower_id=borrower_id, start_date__lte=day), day
    )
    if errors:
        raise errorcodes.refuse(
            WorkflowError,
            "workflow-replay-failed",
            borrower=borrower_id,
            day=day,
            detail=errors[0]["message"],
        )
    if len(states):
        replace_loans(day, states)
    return evaluate_day(day, borrowers=[borrower_id])
