"""Gate decisions by rule and channel, and overrides; a decision recorded after the report's
date does not count."""

from __future__ import annotations

from typing import Any

import pytest

from arrears.contact.models import GateDecision
from arrears.reports.history import NOBODY
from tests.reports.eventbook import at, clock, make_book, rows, run

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("audit", [True, False], ids=["audit", "no-audit"])
def test_decisions_by_rule_and_channel_and_overrides(settings: Any, audit: bool) -> None:
    settings.ARREARS_AUDIT = audit  # the recording instant is the row's own, chain or not
    book = make_book()
    book.call(0, "ann", 3)
    book.call(1, "ann", 3)
    book.call(2, "bob", 4, hour=23, override_reason="the borrower asked to be called late")
    with clock(30, 23, 59):
        then = run("gate_decisions", "2026-11-30")
    stored = GateDecision.objects.filter(at__lt=at(1, 0, month=12))
    stopped = stored.exclude(outcome="allow").get()
    rule = stopped.rules[0]["id"]
    channel = rows(then, "by_channel")["voice"]  # the gate says voice for a call
    assert (channel["decisions"], channel["allowed"], channel["overridden"]) == (3, 2, 1)
    assert channel["deferred"] + channel["denied"] == 1
    by_rule = rows(then, "by_rule")
    assert by_rule[NOBODY]["allowed"] == 2
    assert by_rule[rule]["decisions"] == 1 and by_rule[rule]["overridden"] == 1
    overrides = rows(then, "overrides")
    assert list(overrides) == ["bob"] and overrides["bob"]["overrides"] == 1
    # logged on 2 December for 20 November: its decision is not in November's report as of then
    book.call(3, "ann", 2, month=12, at=at(20, 11))
    with clock(2, 15, month=12):
        assert run("gate_decisions", "2026-11-30") == then
        later = rows(run("gate_decisions", "2026-12-02"), "by_channel")
    assert later["voice"]["decisions"] == 4
