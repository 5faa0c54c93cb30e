"""Case allocation (分案): sticky cases, releases, capacity, and agreement with a per-case loop.

The vectorised hand-outs are held to ``_oracle``, a deliberately naive loop over cases written
from the rule in ``arrears.strategy.allocation``'s docstring.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.strategy.allocation import (
    CASES_SCHEMA,
    COLLECTORS_SCHEMA,
    RESULT_SCHEMA,
    allocate,
    allocate_stage,
)
from arrears.strategy.loader import load_default
from arrears.strategy.model import StrategyError

AS_OF = date(2026, 12, 1)
METHODS = ("round_robin", "capacity", "priority")
Row = dict[str, Any]


def _cases(*rows: Row) -> pl.DataFrame:
    base: Row = {
        "team": "a",
        "priority": 0,
        "collector_id": None,
        "assigned_on": None,
        "bucket_changed": False,
    }
    return pl.DataFrame([{**base, **row} for row in rows], schema=CASES_SCHEMA)


def _collectors(*rows: Row) -> pl.DataFrame:
    base: Row = {"team": "a", "capacity": 100, "available": True, "load": 0}
    return pl.DataFrame([{**base, **row} for row in rows], schema=COLLECTORS_SCHEMA)


def _by_case(out: pl.DataFrame) -> dict[int, tuple[Any, ...]]:
    return {row[0]: row[1:] for row in out.rows()}


# --- the naive oracle -------------------------------------------------------------------------


def _oracle(
    cases: list[Row],
    collectors: list[Row],
    *,
    as_of: date,
    method: str,
    sticky_days: int,
    reallocate: bool,
) -> dict[int, tuple[int | None, date | None, str]]:
    """One case at a time, exactly as the rule reads."""
    staff = {c["collector_id"]: c for c in collectors}
    queue = sorted(cases, key=lambda c: (-(c["priority"] or 0), c["case_id"]))
    used: Counter[int] = Counter()
    kept: dict[int, int] = {}
    pool: list[Row] = []
    for case in queue:
        cid = case["collector_id"]
        if cid is None:
            pool.append(case)
            continue
        who = staff.get(cid)
        released = (
            who is None
            or case["team"] is None
            or who["team"] != case["team"]
            or not who["available"]
            or (bool(case["bucket_changed"]) and reallocate)
        )
        start = case["assigned_on"]
        within = start is not None and as_of < start + timedelta(days=sticky_days)
        if method == "priority" and not within:
            released = True
        if not released and who is not None and used[cid] < max(who["capacity"] - who["load"], 0):
            kept[case["case_id"]] = cid
            used[cid] += 1
        else:
            pool.append(case)
    free = {
        c["collector_id"]: max(c["capacity"] - c["load"] - used[c["collector_id"]], 0)
        for c in collectors
        if c["available"]
    }
    given_to: dict[int, int] = {}
    for team in sorted({c["team"] for c in pool if c["team"] is not None}):
        ids = sorted(i for i in free if staff[i]["team"] == team and free[i] > 0)
        if not ids:
            continue
        pointer = as_of.toordinal() % len(ids)
        for case in (c for c in pool if c["team"] == team):
            if method == "round_robin":
                for step in range(len(ids)):
                    candidate = ids[(pointer + step) % len(ids)]
                    if free[candidate] > 0:
                        given_to[case["case_id"]] = candidate
                        free[candidate] -= 1
                        pointer = (pointer + step + 1) % len(ids)
                        break
            else:
                room = [i for i in ids if free[i] > 0]
                if room:
                    best = max(room, key=lambda i: (free[i], -i))
                    given_to[case["case_id"]] = best
                    free[best] -= 1
    out: dict[int, tuple[int | None, date | None, str]] = {}
    for case in cases:
        before, case_id = case["collector_id"], case["case_id"]
        after = kept.get(case_id, given_to.get(case_id))
        if after is None:
            out[case_id] = (None, None, "unassigned")
        elif after == before:
            out[case_id] = (after, case["assigned_on"], "kept")
        else:
            out[case_id] = (after, as_of, "assigned" if before is None else "reassigned")
    return out


#: The strategies a portfolio draws from, built once: a strategy built inside the draw (``st.none()
#: | …``, a ``.map`` with a new lambda) is a new object each time, and Hypothesis validates each
#: new one on its first draw — that was most of a portfolio's cost, thousands of times a run.
_TEAMS = st.sampled_from(["a", "a", "b"])  # mostly one available team: ties, shared capacity
_AVAILABLE = st.sampled_from([True, True, True, False])
_CASE_TEAMS = st.sampled_from(["a", "a", "b", None])
_PRIORITIES = st.none() | st.integers(-3, 3)
_ASSIGNED_ON = st.none() | st.integers(0, 12).map(lambda d: AS_OF - timedelta(d))
_BUCKET_CHANGED = st.none() | st.booleans()


@st.composite
def _portfolios(draw: st.DrawFn) -> tuple[list[Row], list[Row]]:
    n_staff = draw(st.integers(0, 6))
    collectors = [
        {
            "collector_id": 10 + i,
            "team": draw(_TEAMS),
            "capacity": draw(st.integers(0, 6)),
            "available": draw(_AVAILABLE),
            "load": draw(st.integers(0, 3)),
        }
        for i in range(n_staff)
    ]
    known = [c["collector_id"] for c in collectors]
    assigned_to = st.none() | st.sampled_from([*known, 99])
    n_cases = draw(st.integers(0, 30))
    case_ids = draw(
        st.lists(st.integers(1, 10_000), min_size=n_cases, max_size=n_cases, unique=True)
    )
    cases = [
        {
            "case_id": case_id,
            "team": draw(_CASE_TEAMS),
            "priority": draw(_PRIORITIES),
            "collector_id": draw(assigned_to),
            "assigned_on": draw(_ASSIGNED_ON),
            "bucket_changed": draw(_BUCKET_CHANGED),
        }
        for case_id in case_ids
    ]
    return cases, collectors


#: Each example builds a portfolio of up to dozens of collectors and cases and allocates it
#: (twice, for the comparisons); 100 a run keeps the three properties near five seconds each.
_settings = settings(max_examples=100, deadline=None)


@_settings
@given(
    portfolio=_portfolios(),
    method=st.sampled_from(METHODS),
    sticky_days=st.integers(0, 10),
    reallocate=st.booleans(),
)
@pytest.mark.slow
def test_allocate_agrees_with_the_per_case_loop(
    portfolio: tuple[list[Row], list[Row]], method: str, sticky_days: int, reallocate: bool
) -> None:
    cases, collectors = portfolio
    out = allocate(
        pl.DataFrame(cases, schema=CASES_SCHEMA),
        pl.DataFrame(collectors, schema=COLLECTORS_SCHEMA),
        as_of=AS_OF,
        method=method,
        sticky_days=sticky_days,
        reallocate_on_bucket_change=reallocate,
    )
    expected = _oracle(
        cases,
        collectors,
        as_of=AS_OF,
        method=method,
        sticky_days=sticky_days,
        reallocate=reallocate,
    )
    assert out["case_id"].to_list() == sorted(expected)
    assert {k: v[:3] for k, v in _by_case(out).items()} == expected


@pytest.mark.slow
@_settings
@given(portfolio=_portfolios(), method=st.sampled_from(METHODS), sticky_days=st.integers(0, 10))
def test_no_collector_ever_goes_above_capacity_or_works_for_another_team(
    portfolio: tuple[list[Row], list[Row]], method: str, sticky_days: int
) -> None:
    cases, collectors = portfolio
    out = allocate(
        pl.DataFrame(cases, schema=CASES_SCHEMA),
        pl.DataFrame(collectors, schema=COLLECTORS_SCHEMA),
        as_of=AS_OF,
        method=method,
        sticky_days=sticky_days,
    )
    counts = Counter(out["collector_id"].drop_nulls().to_list())
    team_of = {c["case_id"]: c["team"] for c in cases}
    for who in collectors:
        got = counts[who["collector_id"]]
        assert got <= max(who["capacity"] - who["load"], 0)
        if not who["available"]:
            assert got == 0
    staff = {c["collector_id"]: c for c in collectors}
    for case_id, collector_id, assigned_on, action, reason in out.rows():
        assert reason
        if collector_id is not None:
            assert staff[collector_id]["team"] == team_of[case_id]
            assert assigned_on is not None or action == "kept"  # kept: date left as it was
        else:
            assert action == "unassigned" and assigned_on is None


@_settings
@given(
    portfolio=_portfolios(),
    method=st.sampled_from(METHODS),
    seed=st.integers(0, 2**32 - 1),
)
@pytest.mark.slow
def test_shuffled_input_rows_give_the_same_output(
    portfolio: tuple[list[Row], list[Row]], method: str, seed: int
) -> None:
    cases = pl.DataFrame(portfolio[0], schema=CASES_SCHEMA)
    collectors = pl.DataFrame(portfolio[1], schema=COLLECTORS_SCHEMA)
    first = allocate(cases, collectors, as_of=AS_OF, method=method)
    again = allocate(cases, collectors, as_of=AS_OF, method=method)
    shuffled = allocate(
        cases.sample(fraction=1.0, shuffle=True, seed=seed),
        collectors.sample(fraction=1.0, shuffle=True, seed=seed),
        as_of=AS_OF,
        method=method,
    )
    assert first.equals(again)
    assert first.equals(shuffled)


@settings(max_examples=100, deadline=None)
@given(
    n_cases=st.integers(0, 200),
    n_staff=st.integers(1, 12),
    day=st.integers(0, 30),
)
def test_round_robin_deals_evenly(n_cases: int, n_staff: int, day: int) -> None:
    cases = _cases(*({"case_id": i, "priority": i % 7} for i in range(n_cases)))
    staff = _collectors(*({"collector_id": 100 + i, "capacity": 500} for i in range(n_staff)))
    out = allocate(cases, staff, as_of=AS_OF + timedelta(day), method="round_robin", sticky_days=7)
    counts = Counter(out["collector_id"].to_list())
    per = [counts[100 + i] for i in range(n_staff)]
    assert max(per) - min(per) <= 1
    assert sum(per) == n_cases
    assert set(out["action"].to_list()) <= {"assigned"}


def test_round_robin_deals_in_queue_order_and_id_order() -> None:
    as_of = date(2026, 12, 3)  # ordinal % 3 == 0: the deal starts at the lowest id
    assert as_of.toordinal() % 3 == 0
    cases = _cases(*({"case_id": i, "priority": 10 - i} for i in range(1, 6)))
    staff = _collectors({"collector_id": 7}, {"collector_id": 3}, {"collector_id": 5})
    out = allocate(cases, staff, as_of=as_of, method="round_robin")
    assert out["collector_id"].to_list() == [3, 5, 7, 3, 5]
    assert out["reason"].to_list() == ["round robin"] * 5
    next_day = allocate(cases, staff, as_of=as_of + timedelta(1), method="round_robin")
    assert next_day["collector_id"].to_list() == [5, 7, 3, 5, 7]


def test_round_robin_skips_a_full_collector() -> None:
    cases = _cases(*({"case_id": i} for i in range(1, 7)))
    staff = _collectors(
        {"collector_id": 1, "capacity": 1}, {"collector_id": 2}, {"collector_id": 3}
    )
    out = allocate(cases, staff, as_of=date(2026, 12, 3), method="round_robin")
    assert out["collector_id"].to_list() == [1, 2, 3, 2, 3, 2]


def test_capacity_fills_the_emptiest_collector_first_ties_to_the_lowest_id() -> None:
    cases = _cases(*({"case_id": i, "priority": 10 - i} for i in range(1, 5)))
    staff = _collectors(
        {"collector_id": 1, "capacity": 5},
        {"collector_id": 2, "capacity": 3},
        {"collector_id": 3, "capacity": 4, "load": 1},
    )
    out = allocate(cases, staff, as_of=AS_OF, method="capacity")
    assert out["collector_id"].to_list() == [1, 1, 1, 2]
    assert out["action"].to_list() == ["assigned"] * 4
    assert out["assigned_on"].to_list() == [AS_OF] * 4
    assert out["reason"].to_list() == ["most free capacity"] * 4


def test_cases_beyond_the_team_capacity_wait_unassigned_lowest_priority_first() -> None:
    cases = _cases(
        {"case_id": 1, "priority": 5},
        {"case_id": 2, "priority": 50},
        {"case_id": 3, "priority": 20},
        {"case_id": 4, "team": "b"},
    )
    staff = _collectors({"collector_id": 1, "capacity": 3, "load": 1})
    for method in METHODS:
        out = allocate(cases, staff, as_of=AS_OF, method=method)
        assert _by_case(out) == {
            1: (None, None, "unassigned", "no capacity"),
            2: (1, AS_OF, "assigned", out["reason"][1]),
            3: (1, AS_OF, "assigned", out["reason"][2]),
            4: (None, None, "unassigned", "no available collector in team"),
        }


def test_a_fresh_assignment_is_sticky_until_the_end_of_its_window() -> None:
    cases = _cases(
        {"case_id": 1, "collector_id": 1, "assigned_on": date(2026, 11, 29)},
        {"case_id": 2, "collector_id": 1, "assigned_on": date(2026, 11, 24)},
    )
    staff = _collectors({"collector_id": 1}, {"collector_id": 2})
    for method in METHODS:
        out = allocate(cases, staff, as_of=AS_OF, method=method, sticky_days=7)
        assert out.row(0) == (1, 1, date(2026, 11, 29), "kept", "sticky until 2026-12-05")
    # Case 2's window ended on 2026-11-30: round robin and capacity keep it anyway ...
    for method in ("round_robin", "capacity"):
        out = allocate(cases, staff, as_of=AS_OF, method=method, sticky_days=7)
        assert out.row(1) == (
            2,
            1,
            date(2026, 11, 24),
            "kept",
            "kept: collector still available in team",
        )
    # ... while priority re-ranks it: collector 2 has the most room now.
    out = allocate(cases, staff, as_of=AS_OF, method="priority", sticky_days=7)
    assert out.row(1) == (
        2,
        2,
        AS_OF,
        "reassigned",
        "sticky window ended; priority order to most free capacity",
    )


def test_priority_rebalancing_gives_scarce_capacity_to_the_higher_priority_case() -> None:
    settled = {"case_id": 1, "priority": 10, "collector_id": 1, "assigned_on": date(2026, 11, 1)}
    urgent = {"case_id": 2, "priority": 90}
    staff = _collectors({"collector_id": 1, "capacity": 1})
    kept = allocate(_cases(settled, urgent), staff, as_of=AS_OF, method="capacity")
    assert kept["action"].to_list() == ["kept", "unassigned"]
    rebalanced = allocate(_cases(settled, urgent), staff, as_of=AS_OF, method="priority")
    assert _by_case(rebalanced) == {
        1: (None, None, "unassigned", "sticky window ended; no capacity"),
        2: (1, AS_OF, "assigned", "priority order to most free capacity"),
    }


def test_a_released_case_handed_back_to_its_collector_is_kept_with_its_date() -> None:
    case = {"case_id": 1, "collector_id": 1, "assigned_on": date(2026, 11, 1)}
    out = allocate(_cases(case), _collectors({"collector_id": 1}), as_of=AS_OF, method="priority")
    assert out.row(0) == (
        1,
        1,
        date(2026, 11, 1),
        "kept",
        "sticky window ended; handed back to the same collector by "
        "priority order to most free capacity",
    )


@pytest.mark.parametrize("method", METHODS)
def test_an_unavailable_collector_releases_even_a_sticky_case(method: str) -> None:
    cases = _cases({"case_id": 1, "collector_id": 1, "assigned_on": AS_OF - timedelta(1)})
    staff = _collectors({"collector_id": 1, "available": False}, {"collector_id": 2})
    out = allocate(cases, staff, as_of=AS_OF, method=method, sticky_days=30)
    (row,) = out.rows()
    assert row[:4] == (1, 2, AS_OF, "reassigned")
    assert row[4].startswith("collector unavailable; ")
    alone = allocate(cases, staff.head(1), as_of=AS_OF, method=method)
    assert alone.row(0) == (
        1,
        None,
        None,
        "unassigned",
        "collector unavailable; no available collector in team",
    )


def test_a_collector_of_another_team_or_unknown_releases_the_case() -> None:
    cases = _cases(
        {"case_id": 1, "collector_id": 1, "assigned_on": AS_OF},
        {"case_id": 2, "collector_id": 404, "assigned_on": AS_OF},
        {"case_id": 3, "collector_id": 2, "assigned_on": AS_OF, "team": None},
    )
    staff = _collectors({"collector_id": 1, "team": "b"}, {"collector_id": 2})
    out = allocate(cases, staff, as_of=AS_OF, method="capacity")
    assert _by_case(out) == {
        1: (2, AS_OF, "reassigned", "collector in another team; most free capacity"),
        2: (2, AS_OF, "reassigned", "collector unknown; most free capacity"),
        3: (None, None, "unassigned", "case has no team"),
    }


@pytest.mark.parametrize("method", METHODS)
def test_a_bucket_change_reallocates_only_when_the_stage_says_so(method: str) -> None:
    cases = _cases(
        {"case_id": 1, "collector_id": 1, "assigned_on": AS_OF, "bucket_changed": True},
        {"case_id": 2, "collector_id": 1, "assigned_on": AS_OF, "priority": 9},
    )
    # Collector 2 has more room, so a released case moves there.
    staff = _collectors({"collector_id": 1}, {"collector_id": 2, "capacity": 500})
    moved = allocate(cases, staff, as_of=AS_OF, method=method, reallocate_on_bucket_change=True)
    assert moved.row(0)[:4] == (1, 2, AS_OF, "reassigned")
    assert moved.row(0)[4].startswith("bucket changed; ")
    assert moved.row(1)[3] == "kept"
    stays = allocate(cases, staff, as_of=AS_OF, method=method, reallocate_on_bucket_change=False)
    assert stays["action"].to_list() == ["kept", "kept"]
    assert stays["reason"].to_list() == ["sticky until 2026-12-07"] * 2


def test_a_collector_over_capacity_keeps_the_highest_priority_cases() -> None:
    start = AS_OF - timedelta(1)
    cases = _cases(
        *(
            {"case_id": i, "priority": p, "collector_id": 1, "assigned_on": start}
            for i, p in [(1, 5), (2, 30), (3, 10), (4, 10)]
        )
    )
    staff = _collectors({"collector_id": 1, "capacity": 4, "load": 2}, {"collector_id": 2})
    out = allocate(cases, staff, as_of=AS_OF, method="capacity", sticky_days=7)
    assert _by_case(out) == {
        1: (2, AS_OF, "reassigned", "collector over capacity; most free capacity"),
        2: (1, start, "kept", "sticky until 2026-12-06"),
        3: (1, start, "kept", "sticky until 2026-12-06"),
        4: (2, AS_OF, "reassigned", "collector over capacity; most free capacity"),
    }


def test_empty_inputs_give_an_empty_result_with_the_result_schema() -> None:
    out = allocate(_cases(), _collectors(), as_of=AS_OF, method="capacity")
    assert out.schema == pl.Schema(RESULT_SCHEMA)
    out = allocate(_cases({"case_id": 1}), _collectors(), as_of=AS_OF, method="round_robin")
    assert out.rows() == [(1, None, None, "unassigned", "no available collector in team")]
    assert out.schema == pl.Schema(RESULT_SCHEMA)


def test_input_dtypes_are_coerced_where_lossless_and_refused_otherwise() -> None:
    cases = pl.DataFrame(
        {
            "case_id": pl.Series([1], dtype=pl.Int32),
            "team": pl.Series(["a"], dtype=pl.Categorical),
            "priority": [None],
            "collector_id": [None],
            "assigned_on": [None],
            "bucket_changed": [None],
        }
    )
    out = allocate(cases, _collectors({"collector_id": 1}), as_of=AS_OF, method="capacity")
    assert out.row(0) == (1, 1, AS_OF, "assigned", "most free capacity")
    with pytest.raises(StrategyError, match="'priority' must be Int64, got Float64") as info:
        allocate(
            cases.with_columns(pl.lit(1.5).alias("priority")),
            _collectors(),
            as_of=AS_OF,
            method="capacity",
        )
    assert info.value.code == "strategy-missing-column"


@pytest.mark.parametrize(
    ("cases", "collectors", "message"),
    [
        (
            _cases({"case_id": 1}, {"case_id": 1}),
            _collectors(),
            "case_id must be unique and not null",
        ),
        (
            _cases({"case_id": 1}),
            _collectors({"collector_id": 1}, {"collector_id": 1}),
            "collector_id must be unique and not null",
        ),
        (_cases(), _collectors({"collector_id": 1, "load": -1}), "load must not be negative"),
        (
            _cases(),
            _collectors({"collector_id": 1, "available": None}),
            "available must not be null",
        ),
    ],
)
def test_inputs_without_a_single_right_answer_are_refused(
    cases: pl.DataFrame, collectors: pl.DataFrame, message: str
) -> None:
    with pytest.raises(StrategyError, match=message) as info:
        allocate(cases, collectors, as_of=AS_OF, method="capacity")
    assert info.value.code == "strategy-bad-allocation"


def test_missing_columns_and_bad_parameters_are_named() -> None:
    with pytest.raises(StrategyError, match=r"cases frame lacks column.* bucket_changed"):
        allocate(_cases().drop("bucket_changed"), _collectors(), as_of=AS_OF, method="capacity")
    with pytest.raises(StrategyError, match="unknown method 'lottery'"):
        allocate(_cases(), _collectors(), as_of=AS_OF, method="lottery")
    with pytest.raises(StrategyError, match="sticky_days must be >= 0"):
        allocate(_cases(), _collectors(), as_of=AS_OF, method="capacity", sticky_days=-1)


def test_allocate_stage_reads_the_stage_block() -> None:
    strategy = load_default()
    internal = strategy.stage("internal")
    cases = _cases({"case_id": 1, "team": internal.owner})
    staff = _collectors({"collector_id": 1, "team": internal.owner})
    out = allocate_stage(internal, cases, staff, as_of=AS_OF)
    assert out["action"].to_list() == ["assigned"]
    with pytest.raises(StrategyError, match="stage 'reminder' has no allocation block"):
        allocate_stage(strategy.stage("reminder"), cases, staff, as_of=AS_OF)


def test_a_large_team_stays_within_capacity_and_agrees_with_a_second_run() -> None:
    n = 200_000
    cases = pl.DataFrame(
        {
            "case_id": range(n),
            "team": ["a", "b"] * (n // 2),
            "priority": [(i * 7919) % 1000 for i in range(n)],
            "collector_id": [None if i % 3 else 1000 + i % 40 for i in range(n)],
            "assigned_on": [AS_OF - timedelta(i % 15) for i in range(n)],
            "bucket_changed": [i % 50 == 0 for i in range(n)],
        },
        schema=CASES_SCHEMA,
    )
    staff = _collectors(
        *(
            {
                "collector_id": 1000 + i,
                "team": "ab"[i % 2],
                "capacity": 3000 + 50 * i,
                "available": i % 9 != 0,
                "load": 10 * i,
            }
            for i in range(40)
        )
    )
    for method in METHODS:
        out = allocate(cases, staff, as_of=AS_OF, method=method)
        assert out.height == n
        loads = dict(out.group_by("collector_id").len().drop_nulls().rows())
        for row in staff.iter_rows(named=True):
            limit = max(row["capacity"] - row["load"], 0) if row["available"] else 0
            assert loads.get(row["collector_id"], 0) <= limit
        assert out.equals(allocate(cases, staff, as_of=AS_OF, method=method))
