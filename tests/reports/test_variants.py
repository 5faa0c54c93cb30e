"""Champion/challenger: cases split by a stable hash, and the ``variants`` report compares the
arms with confidence intervals, as of a date (moved from the collections app's old
``compare_variants``)."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import polars as pl
import pytest
import time_machine
from django.core.management import call_command

from arrears.collections import strategies
from arrears.collections.models import Case
from arrears.collections.workflow import evaluate_day
from arrears.daily.services import day_run
from arrears.ledger import services as ledger
from arrears.ledger.models import Loan
from arrears.reports import intervals
from arrears.strategy.evaluate import variant_of
from tests import factories
from tests.reports.eventbook import rows, run

DAY = date(2026, 2, 20)
LATER = date(2026, 2, 25)
SPLIT = """variants:
  - name: champion
    share: 50
  - name: challenger
    share: 50
"""


def _on(day: date, hour: int = 9) -> time_machine.travel:
    return time_machine.travel(
        datetime.combine(day, time(hour), tzinfo=ZoneInfo("Asia/Shanghai")), tick=False
    )


def _run_day(day: date) -> None:
    with _on(day):
        day_run(as_of=day, engine="reference")
        evaluate_day(day)


@pytest.mark.django_db
def test_cases_split_between_arms_and_the_report_compares_them() -> None:
    with _on(date(2026, 1, 10)):
        text = strategies.default_source().replace("version: 1", "version: 1\n" + SPLIT, 1)
        text = text.replace("variants:\n  - name: champion\n    share: 100\n", "", 1)
        strategies.publish(text, source_name="split.yaml")
        _, strategy = strategies.active()
        assert [v.name for v in strategy.variants] == ["champion", "challenger"]
        product = factories.product()
        loans = []
        for n in range(20):
            owner = factories.borrower(f"B{n}", phone=None)
            loans.append(factories.loan(f"L{n}", owner, product))
    with _on(DAY, 8):
        for n in range(0, 20, 4):  # a quarter pay what they owe before the run: cured
            ledger.record_payment(
                loan=loans[n], ref=f"P{n}", value_date=DAY, amount_minor=120_000, currency="CNY"
            )
    _run_day(date(2026, 2, 16))
    _run_day(DAY)
    cases = list(Case.objects.values_list("borrower_id", "variant", "status"))
    assert len(cases) == 20 and {v for _, v, _ in cases} == {"champion", "challenger"}
    expected = variant_of(pl.Series([b for b, _, _ in cases]), strategy).to_list()
    assert [v for _, v, _ in cases] == expected  # the recorded arm is the stable hash
    with _on(DAY, 23):
        then = run("variants", str(DAY), "2026-02-01", str(DAY))
        table = StringIO()
        call_command("report", "variants", "--from", "2026-02-01", "--to", str(DAY), stdout=table)
    arms = rows(then, "arms")
    for arm, figures in arms.items():
        mine = [s for _, v, s in cases if v == arm]
        assert figures["cases"] == len(mine)
        assert figures["resolved"] == mine.count("resolved")
        rate = Decimal(figures["resolution_rate"])
        assert Decimal(figures["resolution_low"]) <= rate <= Decimal(figures["resolution_high"])
        found = intervals.wilson(figures["resolved"], figures["cases"])
        assert found is not None and Decimal(figures["resolution_low"]) == found.low
    assert sum(a["resolved"] for a in arms.values()) == 5
    collected = next(t for t in then["tables"] if t["key"] == "collected")["rows"]
    assert sum(r[3] for r in collected) == 5 * 120_000 and {r[1] for r in collected} == {"CNY"}
    (resolution, _kept) = [r for r in rows_of(then, "differences") if r[0] == "challenger"]
    champion, challenger = arms["champion"], arms["challenger"]
    interval = intervals.newcombe(
        challenger["resolved"], challenger["cases"], champion["resolved"], champion["cases"]
    )
    assert interval is not None
    assert (Decimal(resolution[5]), Decimal(resolution[6])) == (interval.low, interval.high)
    assert resolution[7] in ("higher", "lower", "no clear difference")
    printed = table.getvalue()  # money with its currency, never raw minor units
    assert "champion" in printed and "challenger" in printed and "CN¥" in printed
    # a challenger case's borrower pays everything on the 25th: resolved as of then, not before
    arm_of = {b: v for b, v, _ in cases}
    payer = next(
        loan for n, loan in enumerate(loans) if n % 4 and arm_of[loan.borrower_id] == "challenger"
    )
    with _on(LATER, 8):
        ledger.record_payment(
            loan=Loan.objects.get(pk=payer.pk),
            ref="P-late",
            value_date=LATER,
            amount_minor=2_000_000,
            currency="CNY",
        )
    _run_day(LATER)
    with _on(LATER, 23):
        assert run("variants", str(DAY), "2026-02-01", str(DAY)) == then
        later = rows(run("variants", str(LATER), "2026-02-01", str(DAY)), "arms")
    assert later["challenger"]["resolved"] == challenger["resolved"] + 1


def rows_of(result: dict[str, object], key: str) -> list[list[object]]:
    tables = result["tables"]
    assert isinstance(tables, list)
    return next(t for t in tables if t["key"] == key)["rows"]
