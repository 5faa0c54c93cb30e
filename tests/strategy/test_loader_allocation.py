"""Allocation blocks and priority weights load strictly, each mistake named with its line."""

from __future__ import annotations

import pytest

from arrears.strategy.loader import load_default, load_strategy
from arrears.strategy.model import (
    NUMERIC_COLUMNS,
    STATE_COLUMNS,
    Allocation,
    Stage,
    Strategy,
    StrategyError,
)

DOC = """\
name: alloc
version: 1
priority:
  total_due: 1
  dpd: 100
stages:
  - name: reminder
    owner: reminders
    entry: dpd >= 1
    treatments: []
  - name: internal
    owner: internal_team
    entry: dpd >= 16
    treatments: []
    allocation:
      method: capacity
      sticky_days: 10
      reallocate_on_bucket_change: false
  - name: external
    owner: agencies
    entry: dpd >= 61
    treatments: []
    allocation: {method: round_robin}
"""


def _error(text: str) -> str:
    with pytest.raises(StrategyError) as info:
        load_strategy(text, source="a.yaml")
    assert info.value.code == "strategy-invalid"
    return info.value.message


def test_allocation_blocks_and_priority_weights_load() -> None:
    strategy = load_strategy(DOC)
    assert strategy.stage("reminder").allocation is None
    assert strategy.stage("internal").allocation == Allocation("capacity", 10, False)
    assert strategy.stage("external").allocation == Allocation("round_robin", 7, True)
    assert dict(strategy.priority) == {"total_due": 1, "dpd": 100}


def test_a_strategy_without_priority_has_no_weights() -> None:
    text = DOC.replace("priority:\n  total_due: 1\n  dpd: 100\n", "")
    assert dict(load_strategy(text).priority) == {}


def test_the_default_strategy_allocates_the_stages_people_work() -> None:
    strategy = load_default()
    allocated = {s.name for s in strategy.stages if s.allocation is not None}
    assert "internal" in allocated
    assert "external" not in allocated  # agencies, not collectors: see its placement block
    assert strategy.stage("external").placement is not None
    assert strategy.stage("reminder").allocation is None
    assert strategy.stage("pre_due").allocation is None
    assert set(strategy.priority) <= NUMERIC_COLUMNS
    assert strategy.priority


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "method: capacity",
            "method: lottery",
            "a.yaml:16: stage 'internal': allocation: method: "
            "unknown 'lottery' (capacity, priority, round_robin)",
        ),
        (
            "sticky_days: 10",
            "sticky_days: -1",
            "a.yaml:17: stage 'internal': allocation: sticky_days: must be >= 0, got -1",
        ),
        (
            "sticky_days: 10",
            "sticky_days: ten",
            "a.yaml:17: stage 'internal': allocation: sticky_days: expected an integer, got 'ten'",
        ),
        (
            "reallocate_on_bucket_change: false",
            "reallocate_on_bucket_change: 1",
            "a.yaml:18: stage 'internal': allocation: reallocate_on_bucket_change: "
            "expected true or false, got '1'",
        ),
        (
            "reallocate_on_bucket_change: false",
            "reallocate_on_bucket_change: false\n      colour: red",
            "a.yaml:19: stage 'internal': allocation: unknown key 'colour' "
            "(allowed: method, reallocate_on_bucket_change, sticky_days)",
        ),
        (
            "allocation: {method: round_robin}",
            "allocation: {sticky_days: 3}",
            "a.yaml:23: stage 'external': allocation: missing key 'method'",
        ),
        (
            "allocation: {method: round_robin}",
            "allocation: round_robin",
            "a.yaml:23: stage 'external': allocation: expected a mapping, got 'round_robin'",
        ),
        ("  dpd: 100", "  dpdd: 100", "a.yaml:5: priority: unknown column 'dpdd'"),
        ("  dpd: 100", "  bucket: 100", "a.yaml:5: priority: 'bucket' is not a numeric column"),
        ("  dpd: 100", "  on_hold: 100", "a.yaml:5: priority: 'on_hold' is not a numeric column"),
        ("  dpd: 100", "  dpd: 1.5", "a.yaml:5: priority: dpd: expected an integer, got '1.5'"),
        ("  dpd: 100", "  total_due: 2", "a.yaml:5: priority: duplicate key 'total_due'"),
        (
            "priority:\n  total_due: 1\n  dpd: 100\n",
            "priority: {}\n",
            "a.yaml:3: priority: needs at least one weight (omit the block for none)",
        ),
        (
            "priority:\n  total_due: 1\n  dpd: 100\n",
            "priority: [dpd]\n",
            "a.yaml:3: priority: expected a mapping",
        ),
    ],
)
def test_each_allocation_or_priority_mistake_is_rejected_with_its_line(
    old: str, new: str, expected: str
) -> None:
    assert old in DOC
    assert _error(DOC.replace(old, new, 1)) == expected


def test_negative_and_zero_weights_are_allowed() -> None:
    text = DOC.replace("  dpd: 100", "  dpd: 0\n  promises_kept: -500")
    assert dict(load_strategy(text).priority) == {"total_due": 1, "dpd": 0, "promises_kept": -500}


def test_every_numeric_column_is_an_integer_state_column() -> None:
    assert {c for c, t in STATE_COLUMNS.items() if t == STATE_COLUMNS["dpd"]} == NUMERIC_COLUMNS
    assert "bucket" not in NUMERIC_COLUMNS and "placed" not in NUMERIC_COLUMNS


def test_the_dataclasses_refuse_what_the_loader_refuses() -> None:
    with pytest.raises(StrategyError, match="unknown method 'lottery'"):
        Allocation("lottery")
    with pytest.raises(StrategyError, match="sticky_days must be >= 0"):
        Allocation("capacity", -1)
    stages = (Stage("internal", "dpd >= 1", "team", allocation=Allocation()),)
    with pytest.raises(StrategyError, match="'bucket' is not a numeric state column"):
        Strategy("s", 1, stages, priority={"bucket": 1})
    with pytest.raises(StrategyError, match="weight of 'dpd' must be an integer"):
        Strategy("s", 1, stages, priority={"dpd": 1.5})  # type: ignore[dict-item]


def test_strategy_priority_is_read_only_and_the_strategy_still_hashes() -> None:
    weights = {"dpd": 3}
    strategy = Strategy("s", 1, (Stage("internal", "dpd >= 1", "team"),), priority=weights)
    weights["dpd"] = 4
    assert strategy.priority["dpd"] == 3
    with pytest.raises(TypeError):
        strategy.priority["dpd"] = 5  # type: ignore[index]
    assert hash(strategy) == hash(Strategy("s", 1, strategy.stages, priority={"dpd": 3}))
    assert strategy == Strategy("s", 1, strategy.stages, priority={"dpd": 3})
    assert strategy != Strategy("s", 1, strategy.stages, priority={"dpd": 4})
