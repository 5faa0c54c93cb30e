"""Cure and recovery curves on a small hand-made set of month-end states, where every figure
can be counted by eye, and the report on a generated book."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.reports.base import ReportParams
from arrears.reports.figures import points
from arrears.reports.library import cure_recovery
from arrears.reports.library.cure_recovery import curves, entries, window_start
from arrears.reports.rolls import roll_state
from tests.reports.test_ledger_states import recorded_book

D0, D1, D2, D3 = date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)


def _states() -> pl.DataFrame:
    # loan 1: M0 → M1 → M0 → M0 (cures after one month)
    # loan 2: M0 → M1 → M2 → M3 (rolls on; enters M1 then M2 then M3)
    # loan 3: M0 → M1 → M1 → closed (paid off two months after entry)
    paths = {
        1: [("M0", 0, 1000), ("M1", 5, 1000), ("M0", 0, 900), ("M0", 0, 800)],
        2: [("M0", 0, 2000), ("M1", 10, 2000), ("M2", 40, 2000), ("M3", 70, 2000)],
        3: [("M0", 0, 3000), ("M1", 3, 3000), ("M1", 33, 3000), ("M0", 0, 0)],
    }
    rows = [
        (day, loan, bucket, dpd, payoff, "CNY", date(2025, 12, 1 + loan))
        for loan, path in paths.items()
        for day, (bucket, dpd, payoff) in zip((D0, D1, D2, D3), path, strict=True)
    ]
    frame = pl.DataFrame(
        rows,
        schema=["as_of", "loan_id", "bucket", "dpd", "payoff", "currency", "start_date"],
        orient="row",
    )
    return roll_state(frame)


CASH = pl.DataFrame(
    {
        "loan_id": [1, 3, 3],
        "value_date": [date(2026, 3, 10), date(2026, 3, 5), date(2026, 4, 20)],
        "amount": [500, 1000, 2100],
    }
)


def test_entries_are_rolls_into_a_higher_bucket() -> None:
    found = entries(_states()).sort("loan_id", "entry")
    assert found.select("loan_id", "entry", "bucket").rows() == [
        (1, D1, "M1"),
        (2, D1, "M1"),
        (2, D2, "M2"),
        (2, D3, "M3"),
        (3, D1, "M1"),
    ]
    assert found["from_current"].to_list() == [True, True, False, False, True]


def test_cure_and_recovery_by_bucket_at_entry() -> None:
    long = curves(_states(), CASH, "bucket")
    m1 = {r["months"]: r for r in long.filter(pl.col("bucket") == "M1").iter_rows(named=True)}
    # one month after entering M1 (end of March): loan 1 cured; two months: loans 1 and 3
    assert (m1[1]["loans"], m1[1]["cured"]) == (3, 1)
    assert (m1[2]["loans"], m1[2]["cured"]) == (3, 2)
    assert m1[1]["balance"] == 6000
    assert (m1[1]["recovered"], m1[2]["recovered"]) == (1500, 3600)
    m2 = long.filter(pl.col("bucket") == "M2").rows(named=True)
    assert [(r["months"], r["loans"], r["cured"]) for r in m2] == [(1, 1, 0)]


def test_vintage_cohorts_count_a_loan_once_per_delinquency() -> None:
    long = curves(_states(), CASH, "vintage")
    assert long["loans"].sum() == 3 + 3  # three loans followed one and two months
    assert set(long["vintage"].to_list()) == {"2025-12"}


@pytest.mark.django_db
def test_the_report_draws_a_curve_per_bucket_and_vintage() -> None:
    recorded_book(12)
    result = cure_recovery.compute(
        ReportParams(as_of=date(2026, 9, 30), start=date(2026, 2, 1), end=date(2026, 9, 30))
    )
    keys = [t.key for t in result.tables]
    assert keys[:2] == ["cure_by_bucket", "recovery_by_bucket_CNY"]
    assert "cure_by_vintage" in keys and "vintage_detail" in keys
    detail = result.table("bucket_detail")
    for row in detail.rows:
        assert 0 <= int(row[4]) <= int(row[3])  # type: ignore[call-overload]


@given(st.dates(date(2000, 1, 1), date(2090, 12, 31)), st.integers(0, 800))
def test_the_points_are_the_opening_each_month_end_and_the_last_day(end: date, days: int) -> None:
    start = end - timedelta(days=days)
    read = points(start, end)
    assert read[0] == start - timedelta(days=1) and read[-1] == end
    assert read == sorted(set(read))
    for day in read[1:-1]:
        assert start <= day < end and (day + timedelta(days=1)).day == 1
    assert len(read) - 2 == sum(1 for n in range(days) if (start + timedelta(days=n + 1)).day == 1)
    first = window_start(start, end)
    assert (first <= start and first.day == 1) or first == start
    assert (end.year - first.year) * 12 + end.month - first.month >= 11
