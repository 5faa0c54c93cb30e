"""Contact intensity: attempts, right-party contacts and promises per case and per collector;
a contact logged after the report's date for a day inside its period does not count."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from tests.reports.eventbook import PHONES, at, clock, make_book, rows, run

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("audit", [True, False], ids=["audit", "no-audit"])
def test_per_collector_per_case_and_the_as_of_rule(settings: Any, audit: bool) -> None:
    settings.ARREARS_AUDIT = audit  # the recording instant is the row's own, chain or not
    book = make_book()
    book.call(0, "ann", 3)
    book.call(0, "ann", 4, "rpc")
    book.call(1, "ann", 5, "promise")
    book.promise(1, "ann", made=5, due=12, amount=50_000)
    book.call(2, "bob", 6, "rpc")
    book.call(2, "bob", 9)
    book.call(3, "amy", 10, "rpc", agency=book.agency)
    with clock(30, 23, 59):
        then = run("contact_intensity", "2026-11-30")
    people = rows(then, "by_collector")
    assert {
        k: (v["worked"], v["attempts"], v["right_party"], v["promises"]) for k, v in people.items()
    } == {
        "amy": (1, 1, 1, 0),
        "ann": (2, 3, 2, 1),
        "bob": (1, 2, 1, 0),
    }
    assert Decimal(people["ann"]["attempts_per_case"]) == Decimal("1.5")
    assert Decimal(people["bob"]["right_party_rate"]) == Decimal("0.5")
    book_row = next(iter(rows(then, "book").values()))
    assert (book_row["cases"], book_row["worked"], book_row["attempts"]) == (4, 4, 6)
    assert Decimal(book_row["right_party_per_case"]) == Decimal("1")  # 4 of 4 cases
    assert rows(then, "by_channel")["call"]["attempts"] == 6
    shown = json.dumps(then, ensure_ascii=False)  # names, never numbers or references
    assert not any(phone in shown for phone in PHONES) and "B-0" not in shown
    # logged on 2 December for 20 November, and a call on 1 December: not in November's report
    book.call(2, "bob", 2, "rpc", month=12, at=at(20, 11))
    with clock(2, 15, month=12):
        assert run("contact_intensity", "2026-11-30") == then
        later = rows(run("contact_intensity", "2026-12-02"), "by_collector")
    assert (later["bob"]["attempts"], later["bob"]["right_party"]) == (3, 2)
