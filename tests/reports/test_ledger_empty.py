"""The ledger reports on an empty ledger: every table empty, nothing fails (the pack and the
browser test render every registered report on whatever the database holds)."""

from __future__ import annotations

from datetime import date

import pytest

from arrears.reports.base import ReportParams, load_all

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name", ["bucket_inventory", "roll_rates", "cure_recovery", "penalty_flows"]
)
def test_an_empty_ledger_gives_empty_tables(name: str) -> None:
    spec = load_all()[name]
    params = ReportParams(as_of=date(2026, 11, 30), start=date(2026, 9, 1), end=date(2026, 11, 30))
    result = spec.compute(params if spec.period else ReportParams(as_of=params.as_of))
    assert result.tables and all(not any(row[-1] for row in t.rows) for t in result.tables)
