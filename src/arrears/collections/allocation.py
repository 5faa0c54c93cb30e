"""Allocation of cases to collectors (分案), wired to the pure allocator in ``arrears.strategy``.

The database side only gathers the frames the allocator needs (open cases of a call-owning
stage, the team's collectors with their current load) and writes back what it decided, with an
``assigned`` event per change. Which collector gets which case is decided by
``arrears.strategy.allocation.allocate`` from the stage's ``allocation`` block.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

import polars as pl
from django.db.models import Count, Q

from arrears.collections import bulk, events
from arrears.collections.models import Case, CaseEvent, Collector
from arrears.strategy.allocation import allocate
from arrears.strategy.model import Strategy

_OPEN = Q(closed_on__isnull=True)


def _collectors(owner: str, exclude_cases: list[int]) -> pl.DataFrame:
    """The collectors of every team working ``owner``, with their load outside this batch."""
    rows = (
        Collector.objects.filter(team__owner=owner)
        .annotate(
            others=Count(
                "cases", filter=Q(cases__closed_on__isnull=True) & ~Q(cases__id__in=exclude_cases)
            )
        )
        .values_list("id", "team__owner", "capacity", "available", "others")
    )
    return pl.DataFrame(
        list(rows),
        schema={
            "collector_id": pl.Int64,
            "team": pl.String,
            "capacity": pl.Int64,
            "available": pl.Boolean,
            "load": pl.Int64,
        },
        orient="row",
    )


def allocate_cases(
    as_of: date,
    strategy: Strategy,
    label: str,
    moved: Collection[int],
    subset: Collection[int] | None = None,
) -> int:
    """Allocate the open cases of every stage that has an ``allocation`` block; returns how
    many cases got a (new) collector or lost one. ``subset`` (borrower ids) limits the work
    to those borrowers after a change; their cases still count against the others' load."""
    changed = _release_unallocated(as_of, strategy, label, subset)
    allocated = [stage for stage in strategy.stages if stage.allocation is not None]
    # every allocated stage's open cases in one read (allocating one stage changes only its
    # own cases); the collectors' loads are read per stage, after the stages before it
    cases = Case.objects.filter(_OPEN, stage__in=[stage.name for stage in allocated])
    if subset is not None:
        cases = cases.filter(borrower_id__in=list(subset))
    per_stage: dict[str, list[tuple[object, ...]]] = {}
    fields = ("id", "priority", "collector_id", "assigned_on")
    for stage_name, *row in cases.values_list("stage", *fields):
        per_stage.setdefault(stage_name, []).append(tuple(row))
    for stage in allocated:
        rule = stage.allocation
        assert rule is not None
        rows = per_stage.get(stage.name)
        if not rows:
            continue
        frame = pl.DataFrame(
            rows,
            schema={
                "case_id": pl.Int64,
                "priority": pl.Int64,
                "collector_id": pl.Int64,
                "assigned_on": pl.Date,
            },
            orient="row",
        ).with_columns(
            pl.lit(stage.owner).alias("team"),
            pl.col("case_id").is_in(list(moved)).alias("bucket_changed"),
        )
        collectors = _collectors(stage.owner, frame["case_id"].to_list())
        decided = allocate(
            frame,
            collectors,
            as_of=as_of,
            method=rule.method,
            sticky_days=rule.sticky_days,
            reallocate_on_bucket_change=rule.reallocate_on_bucket_change,
        )
        changed += _apply(as_of, decided, label)
    return changed


def _release_unallocated(
    as_of: date, strategy: Strategy, label: str, subset: Collection[int] | None
) -> int:
    """Cases that moved to a stage no collector works (an agency's, say) leave their collector.

    One read, the ``assigned`` events in bulk, one UPDATE per thousands of cases."""
    manual = [s.name for s in strategy.stages if s.allocation is not None]
    held = Case.objects.filter(_OPEN, collector__isnull=False).exclude(stage__in=manual)
    if subset is not None:
        held = held.filter(borrower_id__in=list(subset))
    rows = list(held.values_list("id", "stage", "collector__user__username"))
    events.record_day(
        (
            events.DayEvent(
                case_id,
                CaseEvent.Kind.ASSIGNED,
                username or "",
                "",
                f"released: stage {stage!r} is not worked by collectors",
            )
            for case_id, stage, username in rows
        ),
        as_of,
        strategy=label,
    )
    ids = [row[0] for row in rows]
    for part in bulk.chunks(ids):
        Case.objects.filter(id__in=list(part)).update(collector=None, assigned_on=None)
    return len(ids)


def _apply(as_of: date, decided: pl.DataFrame, label: str) -> int:
    """Write the allocator's changes: an ``assigned`` event each (in bulk) and the cases'
    collector and date (one prepared UPDATE)."""
    changes = decided.filter(pl.col("action") != "kept")
    ids = changes["case_id"].to_list()
    current: dict[int, int | None] = {}
    for part in bulk.chunks(ids):
        current.update(Case.objects.filter(id__in=list(part)).values_list("id", "collector_id"))
    names = dict(Collector.objects.values_list("id", "user__username"))
    moves: list[events.DayEvent] = []
    updates: list[tuple[object, ...]] = []
    for row in changes.iter_rows(named=True):
        case_id = row["case_id"]
        collector_id = current[case_id]
        before = names.get(collector_id, "") if collector_id else ""
        after = names.get(row["collector_id"], "") if row["collector_id"] else ""
        if collector_id == row["collector_id"]:
            continue
        moves.append(
            events.DayEvent(
                case_id,
                CaseEvent.Kind.ASSIGNED,
                before,
                after,
                f"{row['action']}: {row['reason']}",
            )
        )
        updates.append((row["collector_id"], row["assigned_on"], case_id))
    events.record_day(moves, as_of, strategy=label)
    bulk.update_rows(Case, ["collector", "assigned_on"], updates)
    return len(updates)
