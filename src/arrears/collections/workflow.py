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

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import polars as pl
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max

from arrears import errorcodes
from arrears.collections import events, strategies
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


def _event(case: Case, on: date, kind: str, frm: str, to: str, cause: str, strategy: str) -> None:
    """The run's change to ``case``, at most once per case, kind, value and day."""
    key = events.day_key(case, kind, to, on)
    events.record(case, kind, frm, to, cause, None, on, key=key, strategy=strategy)


def judge_promises(as_of: date, borrowers: Collection[int] | None, label: str) -> int:
    """Judge pending promises on ``as_of``; returns how many were judged.

    A promise is *kept* as soon as payments with value dates from the day it was made to the
    end of its due date plus the grace (``ARREARS_PROMISE_GRACE_DAYS``, default 0) reach its
    amount less the tolerance — possibly early. Otherwise it stays pending through that last
    day, and the first run after it judges it *partially kept* (something arrived) or
    *broken*: a promise due 06-05 is kept by a payment on 06-05, and judged broken by the
    06-06 run, never by the 06-05 one (the borrower still had the day to pay).
    """
    pending = Promise.objects.filter(status=Promise.Status.PENDING, made_on__lte=as_of)
    if borrowers is not None:
        pending = pending.filter(case__borrower_id__in=list(borrowers))
    grace = timedelta(days=promise_grace_days())
    judged = 0
    for promise in pending.select_related("case"):
        deadline = promise.due_date + grace
        paid = selectors.paid_between(
            promise.case.borrower_id, promise.made_on, min(as_of, deadline), as_of
        )
        if paid >= promise.amount_minor - promise.tolerance_minor:
            status = Promise.Status.KEPT
        elif as_of <= deadline:
            continue  # the borrower still has until the end of the deadline
        elif paid > 0:
            status = Promise.Status.PARTIAL
        else:
            status = Promise.Status.BROKEN
        Promise.objects.filter(pk=promise.pk).update(
            status=status, paid_minor=paid, resolved_on=as_of
        )
        currency = promise.case.currency
        after = f" + {grace.days} day(s) grace" if grace else ""
        _event(
            promise.case,
            as_of,
            CaseEvent.Kind.PROMISE,
            Promise.Status.PENDING,
            status,
            f"promise #{promise.pk} of {money_text(promise.amount_minor, currency)} due "
            f"{promise.due_date}{after}: paid {money_text(paid, currency)} "
            f"(tolerance {money_text(promise.tolerance_minor, currency)})",
            label,
        )
        judged += 1
    return judged


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
    """Run the workflow for ``as_of`` (all borrowers, or only ``borrowers`` after a change)."""
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
        open_ids = set(
            Case.objects.filter(closed_on__isnull=True).values_list("borrower_id", flat=True)
            if subset is None
            else Case.objects.filter(closed_on__isnull=True, borrower_id__in=subset).values_list(
                "borrower_id", flat=True
            )
        )
        wanted = people.filter(
            (pl.col("dpd") > 0)
            | pl.col("borrower_id").is_in(list(open_ids))
            | (pl.col("days_to_due").is_not_null())
        )
        _open_cases(as_of, wanted, open_ids, label, summary)
        cases = case_frame(as_of, wanted["borrower_id"].to_list())
        frame = strategy_frame(as_of, wanted, cases)
        summary.evaluated = len(frame)
        assigned = _plan_keeps_stage(
            assign_stages(strategy, frame).with_columns(
                variant_of(frame["case_id"], strategy),
                priority_scores(strategy, frame).alias("priority"),
            ),
            label,
        )
        moved = _update_cases(as_of, assigned, record, strategy, summary)
        summary.assigned = allocate_cases(as_of, strategy, label, moved, subset)
        _create_work(as_of, assigned, record, strategy, summary)
    return summary


def _open_cases(
    as_of: date, people: pl.DataFrame, open_ids: set[int], label: str, summary: WorkflowSummary
) -> None:
    """Open a case for every borrower newly in arrears (dpd > 0, no open case).

    A borrower whose debt was written off gets no new case automatically: recovery after a
    write-off is a separate decision, not the ladder starting again the next morning.
    """
    delinquent = people.filter(pl.col("dpd") > 0)
    written_off = set(
        Case.objects.filter(
            status=Case.Status.WRITTEN_OFF,
            borrower_id__in=delinquent["borrower_id"].to_list(),
        ).values_list("borrower_id", flat=True)
    )
    for row in delinquent.iter_rows(named=True):
        if row["borrower_id"] in open_ids or row["borrower_id"] in written_off:
            continue
        case = Case.objects.create(
            borrower_id=row["borrower_id"], currency=row["currency"], opened_on=as_of
        )
        _event(
            case,
            as_of,
            CaseEvent.Kind.OPENED,
            "",
            Case.Status.OPEN,
            f"{row['loans_overdue']} loan(s) overdue, dpd {row['dpd']}, "
            f"total due {money_text(row['total_due'], row['currency'])}",
            label,
        )
        open_ids.add(row["borrower_id"])
        summary.opened += 1


def _update_cases(
    as_of: date,
    assigned: pl.DataFrame,
    record: StrategyVersion,
    strategy: Strategy,
    summary: WorkflowSummary,
) -> set[int]:
    """Resolve cured cases; move stages and statuses, each with an event naming its cause.

    Returns the cases whose bucket changed today (allocation may hand them to another team).
    """
    moved: set[int] = set()
    touched: list[Case] = []
    label = strategies.label(record)
    cases = {
        c.borrower_id: c
        for c in Case.objects.filter(
            closed_on__isnull=True, borrower_id__in=assigned["borrower_id"].to_list()
        )
    }
    for row in assigned.iter_rows(named=True):
        case = cases.get(row["borrower_id"])
        if case is None:
            continue
        stage = row["stage"]
        if row["dpd"] == 0 and not row["in_plan"]:
            _resolve(case, as_of, row, label)
            summary.resolved += 1
            continue
        if stage is not None and stage != case.stage:
            _event(
                case,
                as_of,
                CaseEvent.Kind.STAGE,
                case.stage,
                stage,
                row["reason"],
                label,
            )
            case.stage, case.stage_since, case.owner = stage, as_of, row["owner"]
            summary.stage_changes += 1
        status, why = _status(row, stage)
        before = case.status
        if case.status == Case.Status.IN_PLAN and status != Case.Status.IN_PLAN:
            why = f"{plan_outcome(case.borrower_id, as_of)}; {why}"
        if status != case.status:
            _event(case, as_of, CaseEvent.Kind.STATUS, case.status, status, why, label)
            case.status = status
            summary.status_changes += 1
        entering_or_leaving_plan = Case.Status.IN_PLAN in (before, status)
        if case.bucket and case.bucket != row["bucket"] and not entering_or_leaving_plan:
            moved.add(case.pk)  # a plan changes the bucket, not who should work the case
        case.strategy = record
        case.variant = row["variant"]
        case.dpd, case.bucket, case.total_due_minor = row["dpd"], row["bucket"], row["total_due"]
        case.priority = row["priority"]
        case.evaluated_on = as_of
        touched.append(case)
        if stage is not None:
            summary.per_stage[stage] = summary.per_stage.get(stage, 0) + 1
    _save_cases(touched)
    return moved


def _save_cases(cases: list[Case]) -> None:
    """Write the day's case fields with one prepared UPDATE executed for every case.

    Django's ``bulk_update`` builds a CASE expression per field and row, which costs seconds
    per few thousand cases; ``executemany`` of one statement is linear and cheap on both
    SQLite and PostgreSQL.
    """
    fields = [Case._meta.get_field(name) for name in _CASE_FIELDS]
    sets = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
    sql = f"UPDATE {connection.ops.quote_name(Case._meta.db_table)} SET {sets} WHERE id = %s"
    rows = [
        [f.get_db_prep_save(getattr(case, f.attname), connection) for f in fields] + [case.pk]
        for case in cases
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            cursor.executemany(sql, rows[start : start + 5000])


#: What a day's evaluation may change on an open case (one bulk UPDATE per thousand cases).
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


def plan_outcome(borrower_id: int, as_of: date) -> str:
    """How the borrower's latest plan ended, from the kernel's replay: which instalment broke
    it and how much it lacked, or when it completed."""
    from arrears.ledger import selectors
    from arrears.ledger.models import Loan

    notes = []
    loans = selectors.loans_with_concessions(
        Loan.objects.filter(borrower_id=borrower_id), plans_only=True, started_by=as_of
    )
    for loan in loans.select_related("product"):
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


def _resolve(case: Case, as_of: date, row: dict[str, object], label: str) -> None:
    paid = int(row["payoff"] or 0) == 0  # type: ignore[call-overload]
    resolution = Case.Resolution.PAID if paid else Case.Resolution.CURED
    cause = (
        "every loan paid off"
        if paid
        else f"nothing overdue as of {as_of} (dpd 0 on all loans): cured"
    )
    _event(case, as_of, CaseEvent.Kind.CLOSED, case.status, Case.Status.RESOLVED, cause, label)
    WorkItem.objects.filter(case=case, status=WorkItem.Status.PENDING).update(
        status=WorkItem.Status.CANCELLED, status_reason=f"case resolved on {as_of}"
    )
    case.status, case.resolution, case.closed_on = Case.Status.RESOLVED, resolution, as_of
    case.dpd, case.total_due_minor, case.evaluated_on = 0, 0, as_of
    case.save()


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
) -> None:
    """A work item for every treatment due today, keyed by :func:`contact_key` so a re-run —
    under this strategy version or a later one — adds nothing. Cases following a repayment
    plan get none (the plan drives them; see :func:`_plan_keeps_stage`)."""
    label = strategies.label(record)
    cases = {
        c.borrower_id: c
        for c in Case.objects.filter(borrower_id__in=assigned["borrower_id"].to_list()).filter(
            closed_on__isnull=True
        )
    }
    stage_day = [
        (as_of - cases[b].stage_since).days
        if b in cases and cases[b].stage_since is not None
        else 0
        for b in assigned["borrower_id"].to_list()
    ]
    due = treatments_due(strategy, assigned.with_columns(pl.Series("stage_day", stage_day)))
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
    holds: dict[int, list[Hold]] = {}
    for hold in active_holds(as_of, due["borrower_id"].unique().to_list()):
        holds.setdefault(hold.borrower_id, []).append(hold)
    items = []
    keys: set[str] = set()
    for row in due.iter_rows(named=True):
        case = cases.get(row["borrower_id"])
        if row["dpd"] > 0 and case is None:
            continue  # resolved today
        key = contact_key(row["borrower_id"], row["channel"], row["template"], as_of)
        if key in keys:
            continue  # two treatments of one stage asking for the same contact: one contact
        keys.add(key)
        why_not = _suppression(row, row["channel"], holds.get(row["borrower_id"], []))
        items.append(
            WorkItem(
                key=key,
                case=case,
                borrower_id=row["borrower_id"],
                due_on=as_of,
                stage=row["stage"],
                treatment=row["treatment"],
                channel=row["channel"],
                template=row["template"],
                owner=row["owner"],
                collector=case.collector if case is not None else None,
                status=WorkItem.Status.SUPPRESSED if why_not else WorkItem.Status.PENDING,
                status_reason=why_not,
                reason=f"{row['reason']}; cadence day {row['day']}",
                strategy=label,
                variant=row["variant"],
                priority=case.priority if case is not None else 0,
            )
        )
    existing = set(
        WorkItem.objects.filter(key__in=[i.key for i in items]).values_list("key", flat=True)
    )
    fresh = [i for i in items if i.key not in existing]
    WorkItem.objects.bulk_create(fresh, ignore_conflicts=True, batch_size=2000)
    summary.work_created = len(fresh)
    summary.work_suppressed = sum(1 for i in fresh if i.status == WorkItem.Status.SUPPRESSED)


def business_date() -> date:
    """The date the workflow stands on: the latest evaluated day, else today's local date."""
    from django.utils import timezone

    return _latest_evaluated() or timezone.localdate()


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
