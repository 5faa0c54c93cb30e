"""Penalty flows reconciled to ``explain``: per month, what the report says was assessed,
collected and waived equals what ``explain`` itemises (accrual periods, payments' allocation
lines, waived amounts) at the month's two ends, and assessed − collected − waived equals the
change in outstanding penalty."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from arrears.kernel.explain import explain
from arrears.ledger import models, selectors
from arrears.reports.base import ReportParams
from arrears.reports.library import penalty_flows
from arrears.reports.library.penalty_flows import KINDS
from tests.reports.test_ledger_states import recorded_book

pytestmark = pytest.mark.django_db
PERIOD = ReportParams(as_of=date(2026, 8, 31), start=date(2026, 3, 1), end=date(2026, 8, 20))


def _itemised(as_of: date) -> dict[str, dict[str, int]]:
    """Σ over every loan of ``explain``'s lines, per kind (penalty, compound)."""
    out = {kind: {"accrued": 0, "paid": 0, "waived": 0, "outstanding": 0} for kind in KINDS}
    for loan in models.Loan.objects.filter(start_date__lte=as_of):
        data = explain(*selectors.loan_state(loan, as_of))
        for kind in KINDS:
            _add(out[kind], data, kind)
    return out


def _add(out: dict[str, int], data: dict[str, Any], kind: str) -> None:
    for i in data["instalments"]:
        out["accrued"] += i[kind]["due"]["minor"]
        out["waived"] += i[kind]["waived"]["minor"]
    out["paid"] += sum(
        line["amount"]["minor"]
        for payment in data["payments"]
        for line in payment["allocated"]
        if line["component"] == kind
    )
    out["outstanding"] += data["totals"][f"{kind}_outstanding"]["minor"]


def test_assessed_collected_and_waived_reconcile_to_explain_month_by_month() -> None:
    recorded_book(12)
    result = penalty_flows.compute(PERIOD)
    itemised: dict[date, dict[str, dict[str, int]]] = {}
    for kind in KINDS:
        table = result.table(kind)
        assert len(table.rows) == 6  # 28 Feb → 31 Mar … 31 Jul → 20 Aug
        assert table.rows[-1][1] == PERIOD.end
        seen_money = False
        for row in table.rows:
            opening, closing, currency = row[0], row[1], row[2]
            start, assessed, collected, waived, end = (int(c) for c in row[3:])  # type: ignore[call-overload]
            assert currency == "CNY"
            for day in (opening, closing):
                if day not in itemised:
                    itemised[day] = _itemised(day)  # type: ignore[index,arg-type]
            before, after = itemised[opening][kind], itemised[closing][kind]  # type: ignore[index]
            assert assessed == after["accrued"] - before["accrued"]
            assert collected == after["paid"] - before["paid"]
            assert waived == after["waived"] - before["waived"]
            assert (start, end) == (before["outstanding"], after["outstanding"])
            assert assessed - collected - waived == end - start
            seen_money = seen_money or bool(assessed and collected)
        if kind == "penalty":
            assert seen_money  # the book has penalty accruing and paid
            assert any(row[6] for row in table.rows)  # and a penalty waiver in the period
