"""Report params: defaults, bounds and the month of a pack (pure: no database)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.reports.base import ReportParams, ReportSpec
from arrears.reports.params import (
    MAX_PERIOD_DAYS,
    ReportRequestError,
    check_period,
    end_of_day,
    month_params,
    read_params,
)
from tests.reports.conftest import SPEC

NOW = date(2026, 12, 2)
POINT = ReportSpec(name="point", title="p", compute=SPEC.compute)


def test_an_empty_as_of_is_today_and_a_period_is_its_month_so_far() -> None:
    assert read_params(SPEC, "", None, None, now=NOW) == ReportParams(NOW, date(2026, 12, 1), NOW)
    assert read_params(POINT, "2026-11-05", "2026-01-01", "2026-02-01", now=NOW) == (
        ReportParams(date(2026, 11, 5))
    )


@pytest.mark.parametrize(
    ("as_of", "start", "end", "code"),
    [
        ("2026-12-03", None, None, "reports-date-out-of-range"),
        ("1969-12-31", None, None, "reports-date-out-of-range"),
        ("20261201", None, None, "reports-invalid-date"),
        ("2026-11-30", "2026-11-10", "2026-11-01", "reports-period-reversed"),
        ("2026-11-10", "2026-11-01", "2026-11-11", "reports-period-after-as-of"),
        ("2026-11-30", "2020-01-01", "2026-11-30", "reports-period-too-long"),
    ],
)
def test_dates_that_cannot_be_read_are_refused_with_their_code(
    as_of: str, start: str | None, end: str | None, code: str
) -> None:
    with pytest.raises(ReportRequestError) as refused:
        read_params(SPEC, as_of, start, end, now=NOW)
    assert refused.value.code == code


@given(
    st.dates(date(1970, 1, 1), NOW),
    st.integers(0, 4000),
    st.integers(0, 4000),
)
def test_a_period_is_accepted_exactly_when_in_order_and_short_enough(
    as_of: date, back: int, length: int
) -> None:
    end = as_of - timedelta(days=back % 40)
    start = end - timedelta(days=length)
    if start < date(1970, 1, 1):
        return
    ok = length + 1 <= MAX_PERIOD_DAYS
    try:
        check_period(ReportParams(as_of, start, end))
    except ReportRequestError as error:
        assert not ok and error.code == "reports-period-too-long"
    else:
        assert ok


def test_a_month_is_its_first_to_last_day_and_must_have_ended() -> None:
    assert month_params("2026-11", now=NOW) == ReportParams(
        date(2026, 11, 30), date(2026, 11, 1), date(2026, 11, 30)
    )
    assert month_params("2024-02", now=NOW).end == date(2024, 2, 29)
    for text in ("2026-12", "2027-01"):
        with pytest.raises(ReportRequestError):
            month_params(text, now=NOW)
    for text in ("2026-13", "2026-1", "nov", ""):
        with pytest.raises(ReportRequestError) as refused:
            month_params(text, now=NOW)
        assert refused.value.code == "reports-unknown-month"


def test_the_end_of_a_day_is_midnight_after_it_in_the_project_time_zone() -> None:
    end = end_of_day(date(2026, 11, 30))
    assert end.isoformat() == "2026-12-01T00:00:00+08:00"
