"""The eligibility rule: each condition with its value, the alternative, the configuration."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from arrears.collections.models import Hold
from arrears.fieldwork import eligibility
from tests.fieldwork.conftest import Field

FACTS = eligibility.Facts(
    as_of=date(2026, 12, 2),
    state_date=date(2026, 12, 2),
    currency="CNY",
    dpd=120,
    total_due=6_000_000,
    unreachable_days=0,
    remote_attempts=0,
    broken_promises=2,
    complaints_open=0,
    disputes_open=0,
    holds_active=0,
    internal_calls=1,
    stages_worked=("external",),
)
RULE = eligibility.rule()


def test_default_rule_follows_the_article() -> None:
    assert (RULE.min_dpd, RULE.min_total_due, RULE.min_unreachable_days) == (90, 5_000_000, 30)
    assert (RULE.min_remote_attempts, RULE.min_broken_promises) == (10, 2)


def test_eligible_facts_meet_every_required_condition() -> None:
    answer = eligibility.evaluate(FACTS, RULE)
    assert answer.eligible and answer.failing == []
    assert {c.name: c.actual for c in answer.conditions}["dpd"] == 120


@pytest.mark.parametrize(
    ("change", "failing"),
    [
        ({"dpd": 89}, ["dpd"]),
        ({"total_due": 4_999_999}, ["total_due"]),
        ({"broken_promises": 1}, ["unreachable_or_broken_promises"]),
        ({"disputes_open": 1}, ["complaints_or_disputes_open"]),
        ({"holds_active": 1}, ["holds_active"]),
        ({"internal_calls": 0, "stages_worked": ("reminder",)}, ["worked_internally"]),
    ],
)
def test_each_failing_condition_is_named(change: dict[str, Any], failing: list[str]) -> None:
    answer = eligibility.evaluate(replace(FACTS, **change), RULE)
    assert not answer.eligible
    assert answer.failing == failing


def test_unreachable_with_enough_attempts_replaces_broken_promises() -> None:
    unreachable = replace(FACTS, broken_promises=0, unreachable_days=30, remote_attempts=10)
    assert eligibility.evaluate(unreachable, RULE).eligible
    too_few = replace(unreachable, remote_attempts=9)
    answer = eligibility.evaluate(too_few, RULE)
    assert answer.failing == ["unreachable_or_broken_promises"]
    line = {c.name: c for c in answer.conditions}["remote_attempts"]
    assert (line.threshold, line.actual, line.met, line.required) == (10, 9, False, False)


def test_the_rule_is_a_setting(settings: Any) -> None:
    settings.ARREARS_FIELD_VISIT_RULE = {"min_dpd": 180}
    assert not eligibility.evaluate(FACTS, eligibility.rule()).eligible
    settings.ARREARS_FIELD_VISIT_RULE = {"min_dpt": 180}
    with pytest.raises(ValueError, match="min_dpt"):
        eligibility.rule()


def test_facts_come_from_the_ledger_and_the_case(field: Field) -> None:
    facts = eligibility.gather(field.case, field.today)
    assert facts.dpd >= 90 and facts.total_due >= 5_000_000
    assert facts.broken_promises == 0 and "external" in facts.stages_worked
    field.break_promises()
    Hold.objects.create(
        borrower=field.case.borrower,
        reason=Hold.Reason.COMPLAINT,
        starts_on=field.today,
        ends_on=field.today + timedelta(days=5),
    )
    facts = eligibility.gather(field.case, field.today)
    assert (facts.broken_promises, facts.complaints_open, facts.holds_active) == (2, 1, 1)
    answer = eligibility.check(field.case, field.today)
    assert answer.failing == ["complaints_or_disputes_open", "holds_active"]
