"""The loader accepts the shipped strategy and rejects each kind of mistake with line and reason."""

from __future__ import annotations

import pytest

from arrears.strategy.loader import load_default, load_strategy
from arrears.strategy.model import LADDER, Cadence, StrategyError

GOOD = """\
name: test
version: 3
variants:
  - name: champion
    share: 80
  - name: challenger
    share: 20
stages:
  - name: reminder
    owner: reminders
    entry: dpd >= 1
    treatments:
      - channel: sms
        template: t1
        cadence: {first: 1, every: 3, until: 15}
  - name: internal
    owner: team
    entry: dpd >= 16 OR broken_promises >= 1
    treatments: []
"""


def _error(text: str) -> str:
    with pytest.raises(StrategyError) as info:
        load_strategy(text, source="s.yaml")
    assert info.value.code == "strategy-invalid"
    return info.value.message


def test_default_strategy_loads_with_the_article_ladder_in_order() -> None:
    strategy = load_default()
    assert [s.name for s in strategy.stages] == list(LADDER)
    assert strategy.version >= 1
    assert sum(v.share for v in strategy.variants) == 100


def test_a_good_document_becomes_the_expected_strategy() -> None:
    strategy = load_strategy(GOOD)
    assert (strategy.name, strategy.version) == ("test", 3)
    assert [(v.name, v.share) for v in strategy.variants] == [("champion", 80), ("challenger", 20)]
    assert strategy.stage("reminder").treatments[0].cadence == Cadence(1, 3, 15)
    assert strategy.stage("internal").treatments == ()
    assert strategy.stage("internal").reference == "dpd"


def test_variants_default_to_a_single_champion() -> None:
    text = GOOD.replace(GOOD[GOOD.index("variants:") : GOOD.index("stages:")], "")
    assert [(v.name, v.share) for v in load_strategy(text).variants] == [("champion", 100)]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "version: 3\n",
            "version: 3\ncolour: red\n",
            "s.yaml:3: unknown key 'colour' (allowed: name, priority, stages, variants, version)",
        ),
        ("    owner: team\n", "", "s.yaml:16: stage #2: missing key 'owner'"),
        ("version: 3", "version: three", "s.yaml:2: version: expected an integer, got 'three'"),
        ("version: 3", "version: true", "s.yaml:2: version: expected an integer, got 'true'"),
        ("version: 3", "version: 0", "s.yaml:2: version: must be 1 to 1,000,000, got 0"),
        ("name: internal", "name: reminder", "s.yaml:16: stage 'reminder': duplicate stage name"),
        (
            "channel: sms",
            "channel: pigeon",
            "s.yaml:13: stage 'reminder': treatment #1: channel: unknown channel 'pigeon' "
            "(call_task, email, in_app, letter, placement, sms, visit_request, voice)",
        ),
        (
            "every: 3",
            "every: -3",
            "s.yaml:15: stage 'reminder': treatment #1: cadence: every: "
            "must be at least 1 day, got -3",
        ),
        (
            "until: 15",
            "until: 0",
            "s.yaml:15: stage 'reminder': treatment #1: cadence: until: 0 is before first (1)",
        ),
        ("share: 20", "share: 30", "s.yaml:4: variants: shares sum to 110, expected 100"),
        (
            "entry: dpd >= 1\n",
            "entry: dpdd >= 1\n",
            "s.yaml:11: stage 'reminder': entry: unknown column 'dpdd'",
        ),
        (
            "entry: dpd >= 1\n",
            "entry: dpd + 1\n",
            "s.yaml:11: stage 'reminder': entry: "
            "must be a boolean condition, 'dpd + 1' gives Int64",
        ),
        (
            "channel: sms",
            "channel: 5",
            "s.yaml:13: stage 'reminder': treatment #1: channel: "
            "expected a non-empty string, got '5'",
        ),
        ("version: 3\n", "version: 3\nversion: 4\n", "s.yaml:3: duplicate key 'version'"),
        (
            "treatments: []",
            "treatments: {}",
            "s.yaml:19: stage 'internal': treatments: expected a list, got a mapping",
        ),
    ],
)
def test_each_mistake_is_rejected_with_its_line_and_reason(
    old: str, new: str, expected: str
) -> None:
    assert old in GOOD
    assert _error(GOOD.replace(old, new, 1)) == expected


def test_stages_out_of_ladder_order_are_rejected() -> None:
    swapped = GOOD.replace("name: reminder", "name: TMP").replace(
        "name: internal", "name: reminder"
    )
    swapped = swapped.replace("name: TMP", "name: internal")
    assert (
        _error(swapped) == "s.yaml:16: stage 'reminder': out of order: must come before 'internal'"
    )


def test_extra_stage_names_may_go_anywhere() -> None:
    text = GOOD.replace("name: internal", "name: hardship_desk")
    assert [s.name for s in load_strategy(text).stages] == ["reminder", "hardship_desk"]


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("dpd >=", "cannot parse 'dpd >='"),
        ("dpd >= 1; DROP TABLE loans", "cannot parse 'dpd >= 1; DROP TABLE loans'"),
        ("bucket >= 5", "invalid condition 'bucket >= 5'"),
        ("dpd >= 1 AND (SELECT 1)", "cannot parse 'SELECT 1'"),
    ],
)
def test_entries_polars_cannot_parse_or_type_are_rejected(entry: str, reason: str) -> None:
    message = _error(GOOD.replace("entry: dpd >= 1\n", f'entry: "{entry}"\n'))
    assert message.startswith(f"s.yaml:11: stage 'reminder': entry: {reason}")


def test_an_entry_in_a_folded_block_reports_the_line_of_the_block() -> None:
    text = GOOD.replace("entry: dpd >= 1\n", "entry: >-\n      dpd >= 1\n      AND dpdd < 3\n")
    assert _error(text) == "s.yaml:11: stage 'reminder': entry: unknown column 'dpdd'"


def test_broken_yaml_is_rejected_with_its_line() -> None:
    assert _error("name: x\nversion: [1\n").startswith("s.yaml:")


def test_the_source_name_defaults_to_a_placeholder() -> None:
    with pytest.raises(StrategyError, match=r"^<string>:1: "):
        load_strategy("- just a list\n")
