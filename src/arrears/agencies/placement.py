"""The day's placements (委外): recall what must come back, then place what is eligible.

:func:`place_day` is the ``agencies`` step of the day pipeline (``collections.dayflow``, after
the workflow has put cases in their stages and before the outbox). In one transaction:

1. **Recall** every live placement that must end, with the first reason that applies:
   ``case_closed`` (the case was resolved), ``stage_left`` (its stage no longer places with
   agencies), ``complaint`` (a complaint or dispute hold, or any full hold, is in force),
   ``agency_ended`` (the agency's contract or licence ended before the day), ``term_end``
   (its last day has passed).
2. **Place** every open case of a stage with a ``placement`` block, eligible by the block's
   condition over the day's state columns, without a live placement — including cases just
   recalled at term end — with an agency chosen by ``arrears.agencies.allocation`` among the
   active agencies whose contract and licence are valid on the day and which have free
   capacity (and, when the block says so, not the agency the case was last placed with). A
   term never runs past the agency's contract or licence.

Each placement and recall: the ``Placement`` row (keyed ``placement:<case>:<day>``), a case
event, the borrower's notice in the outbox; a placement also completes the case's pending
``placement`` work item and releases any collector. Re-running the day finds everything done
and changes nothing. :func:`recall` is the supervisor's recall on request.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import polars as pl
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from arrears import errorcodes
from arrears.agencies import notices
from arrears.agencies.allocation import Candidate, CaseToPlace, choose, performance
from arrears.agencies.commission import recovered
from arrears.agencies.models import Agency, Placement
from arrears.collections import events, strategies
from arrears.collections.frames import active_holds, borrower_frame, case_frame, loan_frame
from arrears.collections.models import Case, CaseEvent, Collector, Hold, WorkItem
from arrears.kernel.errors import ArrearsError
from arrears.strategy.model import Placement as PlacementRule

errorcodes.define(
    {
        "placement-recall-not-supervisor": (
            "only a team lead, a manager or a superuser may recall a placement"
        ),
        "placement-already-recalled": "placement %(placement)s was already recalled on %(day)s",
        "placement-recall-note-required": "say why the placement is recalled",
        "placement-recall-note-too-long": "the note is longer than %(most)s characters",
        "placement-recall-unknown-reason": "%(reason)s is not a recall reason",
    }
)

NOTE_MAX = 400
#: How far back weighted allocation looks at an agency's recovery rate.
PERFORMANCE_DAYS = 90


class PlacementError(ArrearsError):
    """A placement cannot be changed as asked."""

    code = "placement-invalid"


def _event(case: Case, day: date, placement: Placement, what: str, cause: str, by: Any) -> None:
    """The case's idempotent record of a placement or recall (one per placement and event)."""
    code = placement.agency.code
    placed = what == "placed"
    agency = f"agency {code}"
    events.record(
        case,
        CaseEvent.Kind.PLACEMENT,
        "" if placed else agency,
        agency if placed else "",
        cause,
        by,
        day,
        key=f"{case.pk}:placement:{placement.pk}:{what}",
        strategy=placement.strategy,
    )


def _placing_stages() -> tuple[str, dict[str, PlacementRule]]:
    record, strategy = strategies.active()
    rules = {s.name: s.placement for s in strategy.stages if s.placement is not None}
    return strategies.label(record), rules


def _held_borrowers(day: date, borrowers: list[int]) -> dict[int, str]:
    """Borrowers with a complaint or dispute hold, or a hold on every channel, in force."""
    held: dict[int, str] = {}
    for hold in active_holds(day, borrowers):
        if hold.reason in (Hold.Reason.COMPLAINT, Hold.Reason.DISPUTE) or not hold.channels:
            held.setdefault(hold.borrower_id, f"hold #{hold.pk} ({hold.reason}) in force")
    return held


def _recall_reason(
    placement: Placement, day: date, rules: Mapping[str, PlacementRule], held: dict[int, str]
) -> tuple[str, str]:
    case, agency = placement.case, placement.agency
    reasons = Placement.RecallReason
    if case.closed_on is not None:
        return reasons.CASE_CLOSED, f"case closed on {case.closed_on} ({case.resolution})"
    if case.stage not in rules:
        return reasons.STAGE_LEFT, f"case moved to stage {case.stage!r}"
    if case.borrower_id in held:
        return reasons.COMPLAINT, held[case.borrower_id]
    if agency.contract_ends < day or agency.licence_valid_to < day:
        return reasons.AGENCY_ENDED, (
            f"agency contract to {agency.contract_ends}, licence to {agency.licence_valid_to}"
        )
    if placement.ends_on < day:
        return reasons.TERM_END, f"term ended on {placement.ends_on}"
    return "", ""


def recall_now(placement: Placement, day: date, reason: str, cause: str, by: Any = None) -> None:
    """End a placement now for a system reason (the day step's recalls, a complaint about the
    agency): no permission check — the reason is the authority; people use :func:`recall`."""
    placement.recalled_on, placement.recall_reason = day, reason
    placement.recalled_by, placement.recall_note = by, cause[:NOTE_MAX]
    placement.save(update_fields=["recalled_on", "recall_reason", "recalled_by", "recall_note"])
    _event(
        placement.case,
        day,
        placement,
        "recalled",
        f"recalled from {placement.agency.code} ({reason}): {cause}",
        by,
    )
    notices.queue(placement, "recalled", day)


def recall_due(day: date, rules: Mapping[str, PlacementRule]) -> dict[str, int]:
    """Recall the live placements that must end on ``day``; returns counts by reason."""
    live = list(
        Placement.objects.filter(recalled_on__isnull=True, placed_on__lte=day).select_related(
            "case__borrower", "agency"
        )
    )
    held = _held_borrowers(day, [p.case.borrower_id for p in live])
    counts: dict[str, int] = {}
    for placement in live:
        reason, cause = _recall_reason(placement, day, rules, held)
        if reason:
            recall_now(placement, day, reason, cause)
            counts[reason] = counts.get(reason, 0) + 1
    return counts


def recall(
    placement: Placement,
    *,
    by: Any,
    note: str,
    reason: str = Placement.RecallReason.REQUEST,
    on: date | None = None,
) -> Placement:
    """Recall a placement on request (supervisors only), with the reason written down."""
    from arrears.collections.workflow import business_date

    if not Collector.supervises(by):
        raise errorcodes.refuse(PlacementError, "placement-recall-not-supervisor")
    if reason not in Placement.RecallReason.values:
        raise errorcodes.refuse(
            PlacementError, "placement-recall-unknown-reason", field="reason", reason=reason
        )
    text = note.strip()
    if not text:
        raise errorcodes.refuse(PlacementError, "placement-recall-note-required", field="note")
    if len(text) > NOTE_MAX:
        raise errorcodes.refuse(
            PlacementError, "placement-recall-note-too-long", field="note", most=NOTE_MAX
        )
    day = on or business_date()
    with transaction.atomic():
        locked = (
            Placement.objects.select_for_update()
            .select_related("case__borrower", "agency")
            .get(pk=placement.pk)
        )
        if locked.recalled_on is not None:
            raise errorcodes.refuse(
                PlacementError,
                "placement-already-recalled",
                placement=locked.pk,
                day=locked.recalled_on,
            )
        recall_now(locked, day, reason, text, by)
    return locked


def candidates(day: date, rule: PlacementRule) -> list[Candidate]:
    """Agencies that may take cases on ``day``: active, contract and licence valid, with their
    live placements and (for weighted allocation) their score."""
    agencies = Agency.objects.filter(
        active=True, contract_starts__lte=day, contract_ends__gte=day, licence_valid_to__gte=day
    ).annotate(live=Count("placements", filter=Q(placements__recalled_on__isnull=True)))
    found = []
    for agency in agencies:
        score = agency.weight
        if rule.method == "weighted":
            score *= _performance(agency, day)
        found.append(
            Candidate(agency.pk, agency.code, agency.live, agency.capacity - agency.live, score)
        )
    return found


def _performance(agency: Agency, day: date) -> int:
    """Recovery of the agency's placements made in the last 90 days, as a factor ≥ 100."""
    since = day - timedelta(days=PERFORMANCE_DAYS)
    due = paid = 0
    for placement in Placement.objects.filter(
        agency=agency, placed_on__gte=since, placed_on__lt=day
    ).select_related("case"):
        due += placement.total_due_minor
        paid += recovered(placement, day - timedelta(days=1))
    return performance(paid, due)


def _eligible(day: date, stage: str, rule: PlacementRule) -> pl.DataFrame:
    """Open cases of ``stage`` without a live placement for which the rule's condition holds,
    in queue order (priority, then case id)."""
    from arrears.collections.workflow import strategy_frame

    waiting = Case.objects.filter(closed_on__isnull=True, stage=stage).exclude(
        pk__in=Placement.objects.filter(recalled_on__isnull=True).values("case_id")
    )
    rows = list(waiting.values_list("id", "borrower_id", "priority"))
    if not rows:
        return pl.DataFrame(schema={"case_pk": pl.Int64, "borrower_id": pl.Int64})
    borrowers = [b for _, b, _ in rows]
    # the states read by a subquery of the same cases, not tens of thousands of id parameters
    people = borrower_frame(loan_frame(day, waiting.values("borrower_id")))
    frame = strategy_frame(day, people, case_frame(day, borrowers))
    ok = frame.filter(rule.condition().fill_null(False)).select("borrower_id")
    queue = pl.DataFrame(
        rows,
        schema={"case_pk": pl.Int64, "borrower_id": pl.Int64, "priority": pl.Int64},
        orient="row",
    )
    return queue.join(ok, on="borrower_id", how="semi").sort(
        ["priority", "case_pk"], descending=[True, False]
    )


def _last_agencies(case_ids: list[int]) -> dict[int, int]:
    """Each case's most recent placement's agency."""
    last: dict[int, int] = {}
    for case_id, agency_id in (
        Placement.objects.filter(case_id__in=case_ids)
        .order_by("placed_on", "id")
        .values_list("case_id", "agency_id")
    ):
        last[case_id] = agency_id
    return last


def _last_round_robin_code() -> str:
    last = (
        Placement.objects.filter(method="round_robin")
        .order_by("-placed_on", "-id")
        .values_list("agency__code", flat=True)
        .first()
    )
    return last or ""


def place(day: date, stage: str, rule: PlacementRule, label: str) -> int:
    """Place the stage's eligible cases on ``day``; returns how many were placed."""
    queue = _eligible(day, stage, rule)
    if queue.is_empty():
        return 0
    ids = queue["case_pk"].to_list()
    avoid = _last_agencies(ids) if rule.replace_with_other_agency else {}
    cases = [
        CaseToPlace(row["case_pk"], row["borrower_id"], avoid.get(row["case_pk"]))
        for row in queue.iter_rows(named=True)
    ]
    picks = choose(
        cases,
        candidates(day, rule),
        rule,
        last_code=_last_round_robin_code(),
        salt=f"{label.split(' v')[0]}:placement",
    )
    agencies = Agency.objects.in_bulk([p.agency_id for p in picks])
    by_case = Case.objects.select_related("borrower").in_bulk([p.case_id for p in picks])
    placed = 0
    for pick in picks:
        if _create(day, by_case[pick.case_id], agencies[pick.agency_id], rule, pick.arm, label):
            placed += 1
    return placed


def _create(
    day: date, case: Case, agency: Agency, rule: PlacementRule, arm: str, label: str
) -> bool:
    ends = min(
        day + timedelta(days=rule.term_days - 1), agency.contract_ends, agency.licence_valid_to
    )
    item = (
        WorkItem.objects.filter(case=case, channel="placement", status=WorkItem.Status.PENDING)
        .order_by("due_on", "id")
        .first()
    )
    placement, created = Placement.objects.get_or_create(
        key=f"placement:{case.pk}:{day.isoformat()}",
        defaults={
            "case": case,
            "agency": agency,
            "placed_on": day,
            "ends_on": ends,
            "bucket": case.bucket,
            "dpd": case.dpd,
            "total_due_minor": case.total_due_minor,
            "currency": case.currency,
            "method": rule.method,
            "arm": arm,
            "strategy": label,
            "work_item": item,
        },
    )
    if not created:
        return False
    if item is not None:
        WorkItem.objects.filter(pk=item.pk).update(
            status=WorkItem.Status.DONE, completed_at=timezone.now()
        )
    if case.collector_id is not None:
        Case.objects.filter(pk=case.pk).update(collector=None, assigned_on=None)
    how = f"{rule.method}" + (f" ({arm})" if arm else "")
    _event(
        case,
        day,
        placement,
        "placed",
        f"placed with {agency.code} until {ends} by {how} under {label}",
        None,
    )
    notices.queue(placement, "placed", day)
    return True


def place_day(day: date) -> str:
    """The day step: recall, then place (idempotent). Returns a one-line summary."""
    label, rules = _placing_stages()
    with transaction.atomic():
        recalled = recall_due(day, rules)
        placed = sum(place(day, stage, rule, label) for stage, rule in rules.items())
    why = ", ".join(f"{k}={v}" for k, v in sorted(recalled.items()))
    total = sum(recalled.values())
    return f"{day}: agencies: {placed} placed, {total} recalled" + (f" ({why})" if why else "")
