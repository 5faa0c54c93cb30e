"""Allocation of cases to collectors (分案): pure, deterministic, vectorised.

``allocate`` decides, for one as-of date, which collector works each case of a batch. It reads two
frames and returns one; no clock, no database, no randomness. Rows are sorted first, so shuffling
either input gives the same answer.

The rule, in order:

1. **Release.** A case leaves its collector when the collector is not in the collectors frame
   ("collector unknown"), the case has no team ("case has no team"), the collector works another
   team ("collector in another team"), is unavailable ("collector unavailable"), or the case changed
   bucket and the stage says ``reallocate_on_bucket_change`` ("bucket changed").
2. **Sticky window.** Otherwise a case stays while ``as_of < assigned_on + sticky_days``. After the
   window, ``round_robin`` and ``capacity`` keep it (a settled case is not churned), while
   ``priority`` releases it ("sticky window ended") to be re-ranked with the new cases: periodic
   rotation (轮换分案), so the team's capacity always goes to the highest-priority cases. A case
   with a collector but no ``assigned_on`` counts as past its window.
3. **Capacity is a hard limit** for every method: a collector whose kept cases exceed
   ``capacity - load`` keeps the highest-priority ones and sheds the rest ("collector over
   capacity"); nobody is ever handed a case beyond ``capacity``.
4. **Hand-out.** Released and unassigned cases go out per team in queue order (priority
   descending, case id ascending) to the team's available collectors with free capacity
   (``capacity - load - kept``):

   * ``round_robin`` deals one case per collector in collector id order, skipping full
     collectors. Each day's deal starts at position ``as_of.toordinal() mod k`` among the k
     collectors with room, so the extra case of an uneven deal does not always go to the lowest id.
   * ``capacity`` and ``priority`` give each case to the collector with the most free capacity
     at that moment, ties to the lowest collector id (water-filling). They agree on a fresh
     batch and differ only in step 2.

   Cases left when the team is full stay unassigned ("no capacity", or "no available collector
   in team" when nobody in the team is available).

Both hand-outs are computed without a per-case loop: each collector offers numbered slots (its
k-th slot is taken in round k for round robin, or at free level ``free - k`` for capacity), the
slots are sorted, and the i-th case in queue order takes the i-th slot — exactly the sequence the
per-case greedy loop produces (``tests/strategy/test_allocation.py`` holds it to such a loop).
"""

from __future__ import annotations

from datetime import date
from typing import Final

import numpy as np
import polars as pl

from arrears.strategy.model import Allocation, Stage, StrategyError

IntArray = np.ndarray[tuple[int], np.dtype[np.int64]]

CASES_SCHEMA: Final[dict[str, type[pl.DataType]]] = {
    "case_id": pl.Int64,
    "team": pl.String,
    "priority": pl.Int64,
    "collector_id": pl.Int64,
    "assigned_on": pl.Date,
    "bucket_changed": pl.Boolean,
}
"""The columns ``allocate`` reads from the cases frame (nulls allowed except in ``case_id``)."""

COLLECTORS_SCHEMA: Final[dict[str, type[pl.DataType]]] = {
    "collector_id": pl.Int64,
    "team": pl.String,
    "capacity": pl.Int64,
    "available": pl.Boolean,
    "load": pl.Int64,
}
"""The columns ``allocate`` reads from the collectors frame (no nulls; capacity, load >= 0)."""

RESULT_SCHEMA: Final[dict[str, type[pl.DataType]]] = {
    "case_id": pl.Int64,
    "collector_id": pl.Int64,
    "assigned_on": pl.Date,
    "action": pl.String,
    "reason": pl.String,
}

_HOW: Final[dict[str, str]] = {
    "round_robin": "round robin",
    "capacity": "most free capacity",
    "priority": "priority order to most free capacity",
}


def _coerce(frame: pl.DataFrame, schema: dict[str, type[pl.DataType]], what: str) -> pl.DataFrame:
    """Select ``schema``'s columns cast to its dtypes; a missing or wrongly typed one is named."""
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise StrategyError(
            f"allocate: the {what} frame lacks column(s) {', '.join(missing)}",
            code="strategy-missing-column",
        )
    columns: list[pl.Expr] = []
    for name, target in schema.items():
        dtype = frame.schema[name]
        fits = (
            dtype == target
            or dtype == pl.Null
            or (target == pl.Int64 and dtype.is_integer())
            or (target == pl.String and isinstance(dtype, pl.Categorical | pl.Enum))
        )
        if not fits:
            raise StrategyError(
                f"allocate: {what} column {name!r} must be {target}, got {dtype}",
                code="strategy-missing-column",
            )
        columns.append(pl.col(name).cast(target, strict=True))
    try:
        return frame.select(columns)
    except pl.exceptions.PolarsError as exc:  # e.g. a UInt64 id beyond int64
        raise StrategyError(f"allocate: {what}: {exc}", code="strategy-missing-column") from exc


def _check(cases: pl.DataFrame, collectors: pl.DataFrame) -> None:
    """Refuse inputs that have no single right answer: null or repeated ids, negative figures."""
    problems = []
    if cases["case_id"].null_count() or cases["case_id"].n_unique() != cases.height:
        problems.append("case_id must be unique and not null")
    ids = collectors["collector_id"]
    if ids.null_count() or ids.n_unique() != collectors.height:
        problems.append("collector_id must be unique and not null")
    for name in ("team", "capacity", "available", "load"):
        if collectors[name].null_count():
            problems.append(f"collectors' {name} must not be null")
    for name in ("capacity", "load"):
        if collectors.height and (collectors[name].min() or 0) < 0:  # type: ignore[operator]
            problems.append(f"collectors' {name} must not be negative")
    if problems:
        raise StrategyError(f"allocate: {'; '.join(problems)}", code="strategy-bad-allocation")


def _rows_within(take: IntArray) -> tuple[IntArray, IntArray]:
    """For slot counts per collector, each slot's collector index and its rank 0.. within it."""
    owner = np.repeat(np.arange(take.size, dtype=np.int64), take)
    starts = np.cumsum(take) - take
    rank = np.arange(owner.size, dtype=np.int64) - np.repeat(starts, take)
    return owner, rank


def _most_free_first(ids: IntArray, free: IntArray, n: int) -> IntArray:
    """The collectors given to the first ``min(n, sum(free))`` cases, greedily by most free.

    Collector i's slots have levels ``free[i], free[i] - 1, ..., 1`` (its free capacity when the
    slot is taken); the greedy loop takes slots by level descending, ties by id. Only the top
    ``n`` slots are built: the cut level ``L`` is the smallest with ``sum(max(free - L, 0)) <= n``
    (binary search), and the ``r`` slots still needed at level ``L`` go to the lowest ids.
    """
    total = int(free.sum())
    if n >= total:
        take = free.copy()
    else:
        low, high = 0, int(free.max())
        while low < high:
            mid = (low + high) // 2
            if int(np.maximum(free - mid, 0).sum()) <= n:
                high = mid
            else:
                low = mid + 1
        take = np.maximum(free - low, 0)
        rest = n - int(take.sum())
        take[np.flatnonzero(free >= low)[:rest]] += 1
    owner, rank = _rows_within(take)
    level = free[owner] - rank
    order = np.lexsort((owner, -level))
    return ids[owner[order]]


def _round_robin(ids: IntArray, free: IntArray, n: int, start: int) -> IntArray:
    """The collectors given to the first ``min(n, sum(free))`` cases, dealt in turn.

    Collector i's k-th slot is taken in round k, at its position in the deal (id order rotated
    by ``start``); a full collector has no slot in later rounds, i.e. it is skipped. ``R`` is the
    last round that fits whole (``sum(min(free, R)) <= n``); the remainder is dealt in round
    ``R`` in position order.
    """
    position = (np.arange(ids.size, dtype=np.int64) - start) % ids.size
    total = int(free.sum())
    if n >= total:
        take = free.copy()
    else:
        low, high = 0, int(free.max())
        while low < high:
            mid = (low + high + 1) // 2
            if int(np.minimum(free, mid).sum()) <= n:
                low = mid
            else:
                high = mid - 1
        take = np.minimum(free, low)
        rest = n - int(take.sum())
        eligible = np.flatnonzero(free > low)
        eligible = eligible[np.argsort(position[eligible], kind="stable")]
        take[eligible[:rest]] += 1
    owner, rank = _rows_within(take)
    order = np.lexsort((position[owner], rank))
    return ids[owner[order]]


def _hand_out(pool: pl.DataFrame, room: pl.DataFrame, *, method: str, as_of: date) -> pl.DataFrame:
    """``case_id`` → ``new_collector`` for the pool (sorted by team, then queue order)."""
    chosen = np.full(pool.height, -1, dtype=np.int64)
    teams = pool["team"].to_numpy()
    bounds = np.flatnonzero(teams[1:] != teams[:-1]) + 1 if pool.height else np.array([], int)
    starts = [0, *bounds.tolist()]
    ends = [*bounds.tolist(), pool.height]
    by_team = {key[0]: frame for key, frame in room.partition_by("team", as_dict=True).items()}
    for begin, end in zip(starts, ends, strict=True):
        if begin == end:
            continue
        staff = by_team.get(teams[begin])
        if staff is None:
            continue
        ids = staff["collector_id"].to_numpy().astype(np.int64)
        free = staff["free"].to_numpy().astype(np.int64)
        n = end - begin
        if method == "round_robin":
            got = _round_robin(ids, free, n, as_of.toordinal() % ids.size)
        else:
            got = _most_free_first(ids, free, n)
        chosen[begin : begin + got.size] = got
    return pl.DataFrame({"case_id": pool["case_id"], "new_collector": chosen}).with_columns(
        pl.when(pl.col("new_collector") >= 0).then(pl.col("new_collector")).alias("new_collector")
    )


def allocate(
    cases: pl.DataFrame,
    collectors: pl.DataFrame,
    *,
    as_of: date,
    method: str,
    sticky_days: int = 7,
    reallocate_on_bucket_change: bool = True,
) -> pl.DataFrame:
    """Decide each case's collector on ``as_of``; see the module docstring for the rule.

    ``cases``: ``case_id``, ``team`` (the stage owner), ``priority``, ``collector_id`` (null =
    unassigned), ``assigned_on``, ``bucket_changed``. ``collectors``: ``collector_id``, ``team``,
    ``capacity`` (max open cases), ``available``, ``load`` (open cases outside this frame).
    Returns one row per case, sorted by ``case_id``: ``collector_id`` (null = unassigned),
    ``assigned_on`` (``as_of`` when newly given, unchanged when kept), ``action`` (``kept``,
    ``assigned``, ``reassigned`` or ``unassigned``) and a plain-text ``reason``.
    Invariant: for every collector, cases returned to it ≤ ``max(capacity - load, 0)``, and 0
    when unavailable.
    """
    Allocation(method, sticky_days, reallocate_on_bucket_change)  # validates the parameters
    frame = _coerce(cases, CASES_SCHEMA, "cases")
    staff = _coerce(collectors, COLLECTORS_SCHEMA, "collectors").sort("collector_id")
    _check(frame, staff)
    if frame.height == 0:
        return pl.DataFrame(schema=RESULT_SCHEMA)

    collector = pl.col("collector_id")
    window_end = pl.col("assigned_on") + pl.duration(days=sticky_days)
    within = (pl.lit(as_of, dtype=pl.Date) < window_end).fill_null(False)
    release = (
        pl.when(collector.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(pl.col("c_team").is_null())
        .then(pl.lit("collector unknown"))
        .when(pl.col("team").is_null())
        .then(pl.lit("case has no team"))
        .when(pl.col("c_team") != pl.col("team"))
        .then(pl.lit("collector in another team"))
        .when(~pl.col("available"))
        .then(pl.lit("collector unavailable"))
        .when(pl.col("bucket_changed") & pl.lit(reallocate_on_bucket_change))
        .then(pl.lit("bucket changed"))
        .when(~within & pl.lit(method == "priority"))
        .then(pl.lit("sticky window ended"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    candidate = collector.is_not_null() & pl.col("release").is_null()
    # Queue order first: every later step ("keep the best", "hand out in order") relies on it.
    # eager steps: on a day's few cases the lazy plan's optimiser cost more than the steps
    ranked = (
        frame.with_columns(
            pl.col("priority").fill_null(0), pl.col("bucket_changed").fill_null(False)
        )
        .sort(["priority", "case_id"], descending=[True, False])
        .join(
            staff.select(
                "collector_id",
                pl.col("team").alias("c_team"),
                "capacity",
                "available",
                "load",
            ),
            on="collector_id",
            how="left",
            maintain_order="left",
        )
        .with_columns(release.alias("release"), within.alias("within"))
        .with_columns(
            pl.int_range(pl.len(), dtype=pl.Int64).over(collector, candidate).alias("seat"),
            (pl.col("capacity") - pl.col("load")).clip(lower_bound=0).alias("allowance"),
        )
        .with_columns(
            (candidate & (pl.col("seat") < pl.col("allowance"))).alias("kept"),
            pl.when(candidate & (pl.col("seat") >= pl.col("allowance")))
            .then(pl.lit("collector over capacity"))
            .otherwise(pl.col("release"))
            .alias("release"),
        )
        .drop("seat", "allowance", "capacity", "load", "available", "c_team")
    )

    kept_per = ranked.filter(pl.col("kept")).group_by("collector_id").len("kept_count")
    room = (
        staff.join(kept_per, on="collector_id", how="left")
        .filter(pl.col("available"))
        .with_columns(
            (pl.col("capacity") - pl.col("load") - pl.col("kept_count").fill_null(0))
            .clip(lower_bound=0)
            .alias("free")
        )
    )
    staffed_teams = room.select(pl.col("team").unique())["team"]
    pool = ranked.filter(~pl.col("kept") & pl.col("team").is_not_null()).sort(
        "team", maintain_order=True
    )
    given = _hand_out(
        pool.select("case_id", "team"),
        room.filter(pl.col("free") > 0).select("collector_id", "team", "free"),
        method=method,
        as_of=as_of,
    )

    after = pl.when(pl.col("kept")).then(collector).otherwise(pl.col("new_collector"))
    last_day = (pl.col("assigned_on") + pl.duration(days=sticky_days - 1)).dt.to_string("%Y-%m-%d")
    how = pl.lit(_HOW[method])
    prefix = pl.col("release") + pl.lit("; ")
    why_empty = (
        pl.when(pl.col("team").is_null())
        .then(pl.lit("case has no team"))
        .when(pl.col("team").is_in(staffed_teams.implode()))
        .then(pl.lit("no capacity"))
        .otherwise(pl.lit("no available collector in team"))
    )
    action = (
        pl.when(pl.col("after").is_null())
        .then(pl.lit("unassigned"))
        .when(collector.is_null())
        .then(pl.lit("assigned"))
        .when(pl.col("after") == collector)
        .then(pl.lit("kept"))
        .otherwise(pl.lit("reassigned"))
    )
    reason = (
        pl.when(pl.col("kept") & pl.col("within"))
        .then(pl.lit("sticky until ") + last_day)
        .when(pl.col("kept"))
        .then(pl.lit("kept: collector still available in team"))
        .when(pl.col("action") == "kept")
        .then(prefix + pl.lit("handed back to the same collector by ") + how)
        .when(pl.col("action") == "assigned")
        .then(how)
        .when(pl.col("action") == "reassigned")
        .then(prefix + how)
        .when(pl.col("release").is_null() | (pl.col("release") == "case has no team"))
        .then(why_empty)
        .otherwise(prefix + why_empty)
    )
    return (
        ranked.join(given, on="case_id", how="left")
        .with_columns(after.alias("after"))
        .with_columns(action.alias("action"))
        .select(
            "case_id",
            pl.col("after").alias("collector_id"),
            pl.when(pl.col("action") == "kept")
            .then(pl.col("assigned_on"))
            .when(pl.col("after").is_not_null())
            .then(pl.lit(as_of, dtype=pl.Date))
            .otherwise(pl.lit(None, dtype=pl.Date))
            .alias("assigned_on"),
            "action",
            reason.alias("reason"),
        )
        .sort("case_id")
    )


def allocate_stage(
    stage: Stage, cases: pl.DataFrame, collectors: pl.DataFrame, *, as_of: date
) -> pl.DataFrame:
    """``allocate`` with the stage's ``allocation`` block; a stage without one is a caller error."""
    if stage.allocation is None:
        raise StrategyError(f"stage {stage.name!r} has no allocation block")
    rule = stage.allocation
    return allocate(
        cases,
        collectors,
        as_of=as_of,
        method=rule.method,
        sticky_days=rule.sticky_days,
        reallocate_on_bucket_change=rule.reallocate_on_bucket_change,
    )
