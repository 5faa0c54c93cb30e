"""A stage's agency placement block loads strictly, each mistake named with its line."""

from __future__ import annotations

import pytest

from arrears.strategy.loader import load_default, load_strategy
from arrears.strategy.model import Placement, StrategyError

DOC = """\
name: place
version: 1
stages:
  - name: external
    owner: agency_placement
    entry: dpd >= 61
    treatments: []
    placement:
      eligible: complaints_open = 0 AND NOT on_hold AND total_due >= 50000
      method: champion_challenger
      term_days: 30
      replace_with_other_agency: false
      champion: alpha
      challenger: beta
      challenger_share: 20
"""


def _error(text: str) -> str:
    with pytest.raises(StrategyError) as info:
        load_strategy(text, source="p.yaml")
    return info.value.message


def test_a_placement_block_loads_every_field() -> None:
    placement = load_strategy(DOC).stage("external").placement
    assert placement == Placement(
        "complaints_open = 0 AND NOT on_hold AND total_due >= 50000",
        "champion_challenger",
        30,
        False,
        "alpha",
        "beta",
        20,
    )


def test_the_default_external_stage_places_round_robin_for_thirty_days() -> None:
    external = load_default().stage("external")
    assert external.allocation is None
    assert external.placement is not None
    assert (external.placement.method, external.placement.term_days) == ("round_robin", 30)
    assert external.placement.replace_with_other_agency


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "total_due >= 50000",
            "total_dew >= 50000",
            "p.yaml:9: stage 'external': placement: eligible: unknown column 'total_dew'",
        ),
        (
            "eligible: complaints_open = 0 AND NOT on_hold AND total_due >= 50000",
            "eligible: total_due + 1",
            "p.yaml:9: stage 'external': placement: eligible: must be a boolean condition",
        ),
        (
            "method: champion_challenger",
            "method: lottery",
            "p.yaml:10: stage 'external': placement: method: unknown 'lottery' "
            "(capacity, champion_challenger, round_robin, weighted)",
        ),
        (
            "term_days: 30",
            "term_days: 0",
            "p.yaml:11: stage 'external': placement: term_days: must be 1 to 366, got 0",
        ),
        (
            "challenger: beta",
            "challenger: alpha",
            "p.yaml:14: stage 'external': placement: challenger: must differ from champion",
        ),
        (
            "challenger_share: 20",
            "challenger_share: 100",
            "p.yaml:15: stage 'external': placement: challenger_share: must be 1 to 99, got 100",
        ),
        (
            "      challenger_share: 20\n",
            "",
            "p.yaml:9: stage 'external': placement: champion_challenger needs 'challenger_share'",
        ),
        (
            "method: champion_challenger",
            "method: capacity",
            "p.yaml:13: stage 'external': placement: champion: only for champion_challenger",
        ),
        (
            "replace_with_other_agency: false",
            "replace_with_other_agency: maybe",
            "p.yaml:12: stage 'external': placement: replace_with_other_agency: "
            "expected true or false, got 'maybe'",
        ),
    ],
)
def test_placement_mistakes_are_named_with_their_line(old: str, new: str, expected: str) -> None:
    assert old in DOC
    assert _error(DOC.replace(old, new)).startswith(expected)


def test_a_placement_built_in_code_is_checked_too() -> None:
    with pytest.raises(StrategyError, match="two agency codes"):
        Placement(method="champion_challenger", champion="a", challenger="a", challenger_share=5)
    with pytest.raises(StrategyError, match="term_days"):
        Placement(term_days=400)
