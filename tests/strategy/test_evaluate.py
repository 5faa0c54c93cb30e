"""Stage assignment, the champion/challenger split and treatment cadences over whole portfolios."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.strategy.evaluate import _splitmix64, assign_stages, treatments_due, variant_of
from arrears.strategy.loader import load_default, load_strategy
from arrears.strategy.model import (
    STATE_COLUMNS,
    Cadence,
    Stage,
    Strategy,
    StrategyError,
    Treatment,
    Variant,
)

DEFAULT = load_default()

BASE: dict[str, Any] = {
    name: (False if dtype == pl.Boolean else "M0" if dtype == pl.String else 0)
    for name, dtype in STATE_COLUMNS.items()
}
BASE["days_to_due"] = 20
BIG_VISIT = {
    "dpd": 120,
    "total_due": 6_000_000,
    "unreachable_days": 45,
    "broken_promises": 2,
    "complaints_open": 0,
}


def _cases(*rows: dict[str, Any]) -> pl.DataFrame:
    data = [{"case_id": i, **BASE, **row} for i, row in enumerate(rows)]
    return pl.DataFrame(data, schema={"case_id": pl.Int64, **STATE_COLUMNS})


def _stages_of(*rows: dict[str, Any]) -> list[str | None]:
    return assign_stages(DEFAULT, _cases(*rows))["stage"].to_list()


def test_hand_made_cases_land_in_the_article_stages() -> None:
    assert _stages_of(
        {"dpd": 0, "days_to_due": 3},
        {"dpd": 1},
        {"dpd": 15},
        {"dpd": 16},
        {"dpd": 5, "broken_promises": 1},
        {"dpd": 61, "total_due": 50_000},
        {"dpd": 61, "total_due": 49_999},
        {"dpd": 20, "broken_promises": 2},
        {"dpd": 0},
    ) == [
        "pre_due",
        "reminder",
        "reminder",
        "internal",
        "internal",
        "external",
        "internal",
        "external",
        None,
    ]


def test_field_visit_only_when_every_condition_holds() -> None:
    assert _stages_of(BIG_VISIT) == ["field_visit"]
    one_fails = [
        {"dpd": 90},
        {"total_due": 4_999_999},
        {"unreachable_days": 29},
        {"broken_promises": 1},
        {"complaints_open": 1},
    ]
    stages = _stages_of(*({**BIG_VISIT, **change} for change in one_fails))
    assert "field_visit" not in stages
    assert stages == ["external"] * 5


def test_the_reason_names_strategy_version_stage_and_condition() -> None:
    out = assign_stages(DEFAULT, _cases({"dpd": 16}, {"dpd": 0}))
    assert out["reason"].to_list() == [
        "default v1: stage 'internal' because dpd >= 16 OR broken_promises >= 1",
        None,
    ]
    assert out["owner"].to_list() == ["internal_team", None]
    assert out["case_id"].to_list() == [0, 1]


def test_a_null_state_value_counts_as_not_entering() -> None:
    cases = _cases({"dpd": 70}).with_columns(pl.lit(None, dtype=pl.Int64).alias("total_due"))
    assert assign_stages(DEFAULT, cases)["stage"].to_list() == ["internal"]


def test_missing_state_columns_are_named() -> None:
    with pytest.raises(StrategyError, match="lacks column") as info:
        assign_stages(DEFAULT, _cases({"dpd": 1}).drop("unreachable_days"))
    assert "unreachable_days" in info.value.message
    assert info.value.code == "strategy-missing-column"


@settings(max_examples=200)
@given(
    first=st.integers(-10, 40),
    every=st.none() | st.integers(1, 10),
    span=st.none() | st.integers(0, 40),
)
def test_cadence_due_on_matches_a_brute_force_list(
    first: int, every: int | None, span: int | None
) -> None:
    until = None if span is None else first + span
    cadence = Cadence(first, every, until)
    expected: set[int] = set()
    day = first
    while day <= 100 and (until is None or day <= until):
        expected.add(day)
        if every is None:
            break
        day += every
    assert {d for d in range(-20, 101) if cadence.due_on(d)} == expected


def test_day_one_then_every_three_days() -> None:
    cadence = Cadence(1, 3, None)
    assert [d for d in range(0, 12) if cadence.due_on(d)] == [1, 4, 7, 10]


@settings(max_examples=30, deadline=None)
@given(
    first=st.integers(-5, 10),
    every=st.none() | st.integers(1, 5),
    span=st.none() | st.integers(0, 20),
)
def test_treatments_due_agrees_with_due_on_for_every_offset(
    first: int, every: int | None, span: int | None
) -> None:
    cadence = Cadence(first, every, None if span is None else first + span)
    strategy = Strategy(
        "t",
        1,
        (Stage("reminder", "dpd >= 1", "q", (Treatment("sms", "tpl", cadence),)),),
    )
    offsets = list(range(-10, 40))
    assigned = pl.DataFrame(
        {"case_id": range(len(offsets)), "stage": ["reminder"] * len(offsets), "offset": offsets}
    )
    out = treatments_due(strategy, assigned).sort("case_id")
    assert out["due"].to_list() == [cadence.due_on(o) for o in offsets]


def test_treatments_due_uses_stage_day_for_stage_day_stages() -> None:
    assigned = pl.DataFrame(
        {
            "case_id": [1, 2, 3, 4],
            "stage": ["reminder", "reminder", "external", None],
            "offset": [4, 5, 70, 0],
            "stage_day": [0, 0, 7, 0],
        }
    )
    out = treatments_due(DEFAULT, assigned).sort("case_id", "treatment")
    assert out.select("case_id", "channel", "day", "due").rows() == [
        (1, "sms", 4, True),
        (1, "voice", 4, False),
        (2, "sms", 5, False),
        (2, "voice", 5, False),
        (3, "placement", 7, False),
        (3, "letter", 7, True),
    ]


def test_splitmix64_matches_the_published_first_output_for_seed_zero() -> None:
    # SplitMix64 with state 0 yields 0xE220A8397B1DCDAF (reference C implementation, Vigna).
    assert int(_splitmix64(np.array([0], dtype=np.uint64))[0]) == 0xE220A8397B1DCDAF


def _split(version: int, shares: tuple[int, int]) -> Strategy:
    return Strategy(
        "cc",
        version,
        (Stage("reminder", "dpd >= 1", "q"),),
        (Variant("champion", shares[0]), Variant("challenger", shares[1])),
    )


def test_variant_split_is_stable_across_calls_and_versions_and_respects_shares() -> None:
    ids = pl.Series("case_id", range(100_000), dtype=pl.Int64)
    first = variant_of(ids, _split(1, (70, 30)))
    assert first.to_list() == variant_of(ids, _split(1, (70, 30))).to_list()
    assert first.to_list() == variant_of(ids, _split(2, (70, 30))).to_list()
    challenger = (first == "challenger").mean()
    assert isinstance(challenger, float)
    assert 0.28 <= challenger <= 0.32
    # Growing the challenger only moves champions into it, never the other way.
    wider = variant_of(ids, _split(1, (60, 40)))
    assert not ((first == "challenger") & (wider == "champion")).any()


def test_variant_split_depends_on_the_strategy_name() -> None:
    ids = pl.Series("case_id", range(1000), dtype=pl.Int64)
    other = Strategy("other", 1, _split(1, (50, 50)).stages, _split(1, (50, 50)).variants)
    assert variant_of(ids, _split(1, (50, 50))).to_list() != variant_of(ids, other).to_list()


def test_string_case_ids_split_stably() -> None:
    ids = pl.Series("case_id", [f"C{i}" for i in range(2000)])
    a = variant_of(ids, _split(1, (50, 50)))
    assert a.to_list() == variant_of(ids, _split(5, (50, 50))).to_list()
    assert 0.4 <= (a == "champion").mean() <= 0.6  # type: ignore[operator]


def test_a_strategy_from_text_with_variants_splits_by_them() -> None:
    text = (
        "name: x\nversion: 1\nvariants:\n  - {name: a, share: 100}\n"
        "stages:\n  - {name: reminder, owner: q, entry: dpd >= 1, treatments: []}\n"
    )
    out = variant_of(pl.Series([1, 2, 3]), load_strategy(text))
    assert out.to_list() == ["a", "a", "a"]


def test_assign_stages_on_a_million_cases() -> None:
    n = 1_000_000
    rng = np.random.default_rng(7)
    cases = pl.DataFrame(
        {
            "case_id": np.arange(n, dtype=np.int64),
            **{
                k: pl.Series([BASE[k]] * 1, dtype=d).extend_constant(BASE[k], n - 1)
                for k, d in STATE_COLUMNS.items()
            },
        }
    ).with_columns(
        pl.Series("dpd", rng.integers(0, 200, n)),
        pl.Series("total_due", rng.integers(0, 10_000_000, n)),
        pl.Series("broken_promises", rng.integers(0, 4, n)),
        pl.Series("unreachable_days", rng.integers(0, 60, n)),
        pl.Series("days_to_due", rng.integers(0, 30, n)),
    )
    start = time.perf_counter()
    out = assign_stages(DEFAULT, cases)
    elapsed = time.perf_counter() - start
    print(f"\nassign_stages: {n:,} cases in {elapsed:.2f}s")
    assert out.height == n
    counts = dict(out.group_by("stage").len().rows())
    assert set(counts) <= {None, *(s.name for s in DEFAULT.stages)}
    assert counts.get("field_visit", 0) > 0
