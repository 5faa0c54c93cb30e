"""Champion/challenger: cases split by a stable hash, and the report compares the arms."""

from __future__ import annotations

from datetime import date
from io import StringIO

import polars as pl
import pytest
from django.core.management import call_command

from arrears.collections import strategies
from arrears.collections.models import Case
from arrears.collections.reports import compare_variants
from arrears.collections.workflow import evaluate_day
from arrears.daily.services import day_run
from arrears.formatting import format_money
from arrears.ledger import services as ledger
from arrears.strategy.evaluate import variant_of
from tests import factories

DAY = date(2026, 2, 20)
SPLIT = """variants:
  - name: champion
    share: 50
  - name: challenger
    share: 50
"""


@pytest.mark.django_db
def test_cases_split_between_arms_and_the_report_counts_each() -> None:
    text = strategies.default_source().replace("version: 1", "version: 1\n" + SPLIT, 1)
    text = text.replace("variants:\n  - name: champion\n    share: 100\n", "", 1)
    record = strategies.publish(text, source_name="split.yaml")
    _, strategy = strategies.active()
    assert [v.name for v in strategy.variants] == ["champion", "challenger"]
    product = factories.product()
    for n in range(20):
        owner = factories.borrower(f"B{n}", phone=None)
        loan = factories.loan(f"L{n}", owner, product)
        if n % 4 == 0:  # a quarter pay what they owe before the run: cured on the day
            ledger.record_payment(
                loan=loan, ref=f"P{n}", value_date=DAY, amount_minor=120_000, currency="CNY"
            )
    day_run(as_of=date(2026, 2, 16), engine="reference")
    evaluate_day(date(2026, 2, 16))
    day_run(as_of=DAY, engine="reference")
    evaluate_day(DAY)
    cases = list(Case.objects.values_list("borrower_id", "variant", "status"))
    assert len(cases) == 20 and {v for _, v, _ in cases} == {"champion", "challenger"}
    expected = variant_of(pl.Series([b for b, _, _ in cases]), strategy).to_list()
    assert [v for _, v, _ in cases] == expected  # the recorded arm is the stable hash
    rows = {r.variant: r for r in compare_variants(date(2026, 2, 1), DAY)}
    for arm, figures in rows.items():
        mine = [s for _, v, s in cases if v == arm]
        assert figures.cases == len(mine)
        assert figures.resolved == mine.count("resolved")
    assert sum(r.resolved for r in rows.values()) == 5
    assert sum(m.minor for r in rows.values() for m in r.collected) == 5 * 120_000
    assert {m.currency for r in rows.values() for m in r.collected} == {"CNY"}
    out = StringIO()
    call_command("report", "variants", "--from", "2026-02-01", "--to", str(DAY), stdout=out)
    assert "champion" in out.getvalue() and "challenger" in out.getvalue()
    for arm, figures in rows.items():  # money with its currency, never raw minor units
        line = next(x for x in out.getvalue().splitlines() if x.startswith(arm))
        shown = " + ".join(format_money(m, "en") for m in figures.collected) or "-"
        assert shown in line and (not figures.collected or "CN¥" in line)
        assert all(str(m.minor) not in line.split() for m in figures.collected)
    assert record.version == 1
