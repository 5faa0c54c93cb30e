"""Queue priority: exact integer weighted sums, nulls as 0, a total and input-independent order."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.strategy.loader import load_default
from arrears.strategy.model import NUMERIC_COLUMNS, Stage, Strategy, StrategyError
from arrears.strategy.priority import INT64_MAX, priority_scores, queue_order

STAGES = (Stage("internal", "dpd >= 1", "team"),)
COLUMNS = sorted(NUMERIC_COLUMNS)


def _strategy(weights: dict[str, int]) -> Strategy:
    return Strategy("p", 1, STAGES, priority=weights)


def test_the_article_example_scores_as_written() -> None:
    strategy = _strategy({"dpd": 1000, "total_due": 1})
    cases = pl.DataFrame({"case_id": [1], "dpd": [30], "total_due": [50_000]})
    assert priority_scores(strategy, cases).to_list() == [80_000]


def test_null_values_count_as_zero_and_unweighted_columns_are_not_needed() -> None:
    strategy = _strategy({"dpd": 10, "broken_promises": 7, "amount": 0})
    cases = pl.DataFrame(
        {"dpd": [None, 2, 3], "broken_promises": [1, None, 2]},
        schema={"dpd": pl.Int64, "broken_promises": pl.Int32},
    )
    scores = priority_scores(strategy, cases)
    assert scores.dtype == pl.Int64
    assert scores.name == "priority"
    assert scores.to_list() == [7, 20, 44]


def test_no_weights_score_every_case_zero() -> None:
    cases = pl.DataFrame({"case_id": [1, 2]})
    assert priority_scores(_strategy({}), cases).to_list() == [0, 0]
    assert priority_scores(_strategy({}), cases.clear()).to_list() == []


@settings(max_examples=150, deadline=None)
@given(
    weights=st.dictionaries(
        st.sampled_from(COLUMNS), st.integers(-(10**6), 10**6), min_size=1, max_size=5
    ),
    rows=st.lists(
        st.dictionaries(
            st.sampled_from(COLUMNS), st.none() | st.integers(-(10**12), 10**12), max_size=8
        ),
        max_size=20,
    ),
)
def test_scores_equal_the_exact_python_sum(
    weights: dict[str, int], rows: list[dict[str, int | None]]
) -> None:
    cases = pl.DataFrame(
        [{c: row.get(c) for c in COLUMNS} for row in rows], schema=dict.fromkeys(COLUMNS, pl.Int64)
    )
    expected = [sum(w * (row.get(c) or 0) for c, w in weights.items()) for row in rows]
    assert priority_scores(_strategy(weights), cases).to_list() == expected


def test_weights_that_could_overflow_int64_are_refused_not_wrapped() -> None:
    cases = pl.DataFrame({"total_due": [INT64_MAX // 2 + 1]})
    with pytest.raises(StrategyError) as info:
        priority_scores(_strategy({"total_due": 2}), cases)
    assert info.value.code == "strategy-priority-overflow"
    just_fits = pl.DataFrame({"total_due": [INT64_MAX // 2, -(INT64_MAX // 2)]})
    assert priority_scores(_strategy({"total_due": 2}), just_fits).to_list() == [
        INT64_MAX - 1,
        -(INT64_MAX - 1),
    ]


def test_missing_or_non_integer_columns_are_named() -> None:
    with pytest.raises(StrategyError, match="lacks column") as info:
        priority_scores(_strategy({"dpd": 1}), pl.DataFrame({"case_id": [1]}))
    assert info.value.code == "strategy-missing-column"
    with pytest.raises(StrategyError, match="'total_due' must be an integer column, got Float64"):
        priority_scores(_strategy({"total_due": 1}), pl.DataFrame({"total_due": [1.5]}))


def test_the_queue_is_priority_descending_then_case_id_ascending() -> None:
    strategy = _strategy({"dpd": 1})
    cases = pl.DataFrame({"case_id": [5, 3, 9, 1, 7], "dpd": [10, 20, 10, None, 20]})
    assert queue_order(strategy, cases).select("case_id", "priority").rows() == [
        (3, 20),
        (7, 20),
        (5, 10),
        (9, 10),
        (1, 0),
    ]


@settings(max_examples=50, deadline=None)
@given(
    dpd=st.lists(st.integers(0, 5), min_size=1, max_size=30),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_queue_does_not_depend_on_input_row_order(dpd: list[int], seed: int) -> None:
    cases = pl.DataFrame({"case_id": range(len(dpd)), "dpd": dpd})
    shuffled = cases.sample(fraction=1.0, shuffle=True, seed=seed)
    strategy = _strategy({"dpd": 3})
    assert queue_order(strategy, shuffled).rows() == queue_order(strategy, cases).rows()


def test_the_default_weights_rank_a_broken_promise_above_a_small_balance() -> None:
    strategy = load_default()
    cases = pl.DataFrame(
        {
            "case_id": [1, 2],
            "total_due": [60_000, 10_000],
            "dpd": [20, 20],
            "broken_promises": [0, 1],
            "days_since_contact": [3, 3],
        }
    )
    assert queue_order(strategy, cases)["case_id"].to_list() == [2, 1]
