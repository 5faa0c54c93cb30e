"""A change recorded after a report's date, back-dated into its period, changes nothing for
that date: a payment's reversal, a placement's recall, a promise replaced, a collector moved
to another team. Each test runs the report as of 30 November, makes the change on 2 December,
runs it again as of 30 November (the same tables) and as of a later day (the change shows).
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from arrears.agencies import placement as placing
from arrears.agencies.models import Placement
from arrears.collections import services
from arrears.collections.models import Case, Collector, Team, TeamMembership
from arrears.ledger import services as ledger
from arrears.ledger.models import Payment
from arrears.reports import history
from arrears.reports.base import ReportParams
from arrears.reports.history import NOBODY
from arrears.reports.library import cure_recovery
from tests.reports.eventbook import at, clock, make_book, rows, run

pytestmark = pytest.mark.django_db

NOVEMBER_END = "2026-11-30"


def outcomes(result: object, table: str = "by_collector") -> dict[str, tuple[int, ...]]:
    return {
        k: (v["kept"], v["partial"], v["broken"], v["pending"], v["cancelled"])
        for k, v in rows(result, table).items()
    }


def test_a_reversal_recorded_later_changes_no_past_date() -> None:
    book = make_book()
    book.promise(0, "ann", made=3, due=10, amount=50_000)
    book.pay(0, "P-0", date(2026, 11, 9), 50_000, at(9))
    with clock(30, 23, 59):
        then = run("promises_kept", NOVEMBER_END)
        cash = history.payments(date(2026, 11, 30))
    assert outcomes(then)["ann"] == (1, 0, 0, 0, 0)
    assert cash["amount"].to_list() == [50_000]
    # the payment bounced: recorded on 2 December, from 20 November
    with clock(2, 9, month=12):
        ledger.reverse_payment(
            payment=Payment.objects.get(ref="P-0"),
            reversed_on=date(2026, 11, 20),
            reversal_ref="R-0",
            reason="bounced",
        )
    with clock(2, 15, month=12):
        assert run("promises_kept", NOVEMBER_END) == then
        assert history.payments(date(2026, 11, 30)).equals(cash)
        later = run("promises_kept", "2026-12-02")
        assert history.payments(date(2026, 12, 2)).is_empty()
    assert outcomes(later)["ann"] == (0, 0, 1, 0, 0)  # nothing paid after all


def test_cure_recovery_cash_keeps_a_later_reversal_out_of_a_past_date() -> None:
    book = make_book()
    book.pay(1, "P-1", date(2026, 11, 9), 30_000, at(9))
    november = ReportParams(as_of=date(2026, 11, 30))
    with clock(30, 23):
        then = cure_recovery._cash(november, date(2026, 10, 31), date(2026, 11, 30))
    with clock(2, 9, month=12):
        ledger.reverse_payment(
            payment=Payment.objects.get(ref="P-1"),
            reversed_on=date(2026, 11, 9),
            reversal_ref="R-1",
            reason="charged back",
        )
    assert Payment.objects.get(ref="P-1").reversed_at == at(2, 9, month=12)
    with clock(2, 15, month=12):
        again = cure_recovery._cash(november, date(2026, 10, 31), date(2026, 11, 30))
        later = cure_recovery._cash(
            ReportParams(as_of=date(2026, 12, 2)), date(2026, 10, 31), date(2026, 11, 30)
        )
    assert then["amount"].to_list() == [30_000] and again.equals(then)
    assert later.is_empty()


def test_a_reversal_without_its_instant_reads_by_its_date() -> None:
    """A reversal from before ``reversed_at`` existed (and not in the audit chain) counts from
    its date, as it always did."""
    book = make_book()
    book.pay(0, "P-0", date(2026, 11, 9), 50_000, at(9))
    Payment.objects.filter(ref="P-0").update(
        reversed_on=date(2026, 11, 20), reversal_ref="R-0", reversed_at=None
    )
    with clock(2, 15, month=12):
        assert history.payments(date(2026, 11, 19))["amount"].to_list() == [50_000]
        assert history.payments(date(2026, 11, 20)).is_empty()


def test_a_recall_back_dated_later_leaves_the_case_placed_as_of_then() -> None:
    book = make_book()
    book.promise(3, "ann", made=10, due=20, amount=40_000)  # on the case Acme holds
    with clock(30, 23, 59):
        then = run("promises_kept", NOVEMBER_END)
        placed = history.placements(date(2026, 11, 30))
    assert rows(then, "by_agency")["acme"]["promises"] == 1
    assert placed["recalled_on"].to_list() == [None]
    with clock(2, 9, month=12):
        placing.recall(
            Placement.objects.get(case=book.cases[3]),
            by=book.users["lea"],
            note="wrong agency",
            on=date(2026, 11, 5),
        )
    with clock(2, 15, month=12):
        assert run("promises_kept", NOVEMBER_END) == then
        assert history.placements(date(2026, 11, 30)).equals(placed)
        later = run("promises_kept", "2026-12-02")
        assert history.placements(date(2026, 12, 2))["recalled_on"].to_list() == [date(2026, 11, 5)]
    assert "acme" not in rows(later, "by_agency")
    assert rows(later, "by_agency")[NOBODY]["promises"] == 1  # not placed on the 10th after all


def test_a_promise_replaced_later_is_not_cancelled_as_of_then() -> None:
    book = make_book()
    old = book.promise(1, "ann", made=3, due=12, amount=100_000)  # nothing paid: broken
    with clock(30, 23, 59):
        then = run("promises_kept", NOVEMBER_END)
    assert outcomes(then)["ann"] == (0, 0, 1, 0, 0)
    # re-negotiated, entered on 2 December as made on 5 November: the old one is cancelled then
    book.promise(1, "ann", made=5, due=20, amount=10_000, recorded=at(2, month=12))
    old.refresh_from_db()
    assert (old.status, old.resolved_on) == ("cancelled", date(2026, 11, 5))
    with clock(2, 15, month=12):
        assert run("promises_kept", NOVEMBER_END) == then
        later = run("promises_kept", "2026-12-02")
    assert outcomes(later)["ann"] == (0, 0, 1, 0, 1)  # the old one cancelled, the new broken


def test_a_collector_moved_later_keeps_their_past_work_in_the_old_team() -> None:
    book = make_book()
    book.promise(0, "ann", made=3, due=10, amount=50_000)
    book.promise(2, "bob", made=4, due=15, amount=80_000)
    with clock(30, 23, 59):
        then = run("promises_kept", NOVEMBER_END)
    assert rows(then, "by_team")["t1"]["promises"] == 2
    with clock(2, 9, month=12):
        two = Team.objects.create(code="t2", name="Team two", owner="team")
        ann = Collector.objects.get(user=book.users["ann"])
        ann.team = two
        ann.save()
    assert TeamMembership.objects.filter(collector=ann).count() == 2
    with clock(3, 11, month=12):  # ann's next promise, made after the move: her new team's
        services.make_promise(
            Case.objects.get(pk=book.cases[1].pk),
            amount_minor=20_000,
            due_date=date(2026, 12, 3),
            made_on=date(2026, 12, 3),
            user=book.users["ann"],
        )
    with clock(3, 15, month=12):
        assert run("promises_kept", NOVEMBER_END) == then
        later = run("promises_kept", "2026-12-03", last="2026-12-03")
    teams = rows(later, "by_team")
    assert (teams["t1"]["promises"], teams["t2"]["promises"]) == (2, 1)


def test_a_team_is_the_one_in_force_at_the_end_of_the_rows_day() -> None:
    book = make_book()
    ann = Collector.objects.get(user=book.users["ann"])
    two = Team.objects.create(code="t2", name="Team two", owner="team")
    with clock(10, 16):
        ann.team = two
        ann.save(update_fields=["team"])
    with clock(10, 17):
        ann.save(update_fields=["capacity"])  # not a move
    assert list(TeamMembership.objects.filter(collector=ann).values_list("team__code")) == [
        ("t1",),
        ("t2",),
    ]
    frame = pl.DataFrame(
        {
            "collector": ["ann", "ann", "ann", "bob", NOBODY, "amy"],
            "day": [date(2026, 11, 9), date(2026, 11, 10), date(2026, 11, 30)]
            + [date(2026, 11, 10)] * 3,
        }
    )
    with clock(30, 23):
        found = history.team_on(
            frame,
            history.teams(date(2026, 11, 30)),
            date(2026, 11, 30),
            day="day",
            person="collector",
        )
        before = history.team_on(
            frame,
            history.teams(date(2026, 11, 9)),
            date(2026, 11, 9),
            day="day",
            person="collector",
        )
    assert found.to_list() == ["t1", "t2", "t2", "t1", NOBODY, NOBODY]
    assert before.to_list() == ["t1", "t1", "t1", "t1", NOBODY, NOBODY]  # the move not known yet
