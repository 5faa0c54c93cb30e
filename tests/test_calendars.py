import logging
from datetime import date, timedelta

import chinese_calendar
import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.calendars import (
    CALENDAR_NAMES,
    by_name,
    china,
    china_supported_years,
    us_federal,
)
from arrears.kernel.calendar import (
    ALL_DAYS,
    BusinessDayConvention,
    InvalidCalendar,
    UnknownCalendar,
)

FOLLOWING = BusinessDayConvention.FOLLOWING
SUPPORTED = china_supported_years()
# Comfortably past whatever a future chinesecalendar release will cover.
UNCOVERED_YEAR = SUPPORTED.stop + 20


# --- China ------------------------------------------------------------------------------
# Each fact below was checked against chinesecalendar 1.11.0 (the source of truth) and the
# State Council's 2024 notice; the tests assert both so a data change shows up as such.


@pytest.mark.parametrize(
    ("day", "works", "why"),
    [
        (date(2024, 10, 1), False, "National Day, a Tuesday"),
        (date(2024, 10, 7), False, "last day of the National Day holiday, a Monday"),
        (date(2024, 10, 8), True, "first working day after National Day"),
        (date(2024, 9, 29), True, "Sunday make-up working day before National Day"),
        (date(2024, 10, 12), True, "Saturday make-up working day after National Day"),
        (date(2024, 2, 4), True, "Sunday make-up working day before Spring Festival"),
        (date(2024, 2, 12), False, "Spring Festival, a Monday"),
        (date(2024, 2, 18), True, "Sunday make-up working day after Spring Festival"),
        (date(2024, 10, 13), False, "an ordinary Sunday"),
    ],
)
def test_china_knows_statutory_holidays_and_make_up_working_days(day, works, why):
    assert chinese_calendar.is_workday(day) is works, f"package data changed: {why}"
    assert china(range(2024, 2025)).is_business_day(day) is works, why


def test_china_puts_holidays_and_make_up_days_in_the_right_sets():
    calendar = china(range(2024, 2025))
    assert date(2024, 10, 1) in calendar.holidays
    assert date(2024, 10, 12) in calendar.extra_workdays
    assert date(2024, 2, 4) in calendar.extra_workdays
    assert date(2024, 10, 1) not in calendar.extra_workdays


def test_a_due_date_on_national_day_moves_to_october_8_under_following():
    calendar = china(range(2024, 2025))
    assert calendar.shift(date(2024, 10, 1), FOLLOWING) == date(2024, 10, 8)
    assert calendar.shift(date(2024, 10, 1), "modified-following") == date(2024, 10, 8)
    assert calendar.shift(date(2024, 10, 1), "preceding") == date(2024, 9, 30)


def test_a_new_year_holiday_is_seen_only_when_the_next_year_is_included():
    day = date(2025, 12, 31)  # a Wednesday working day; 2026-01-01 and 01-02 are holidays
    assert china(range(2025, 2026)).add_business_days(day, 1) == date(2026, 1, 1)  # weekends
    assert china(range(2025, 2027)).add_business_days(day, 1) == date(2026, 1, 4)  # 调休 Sunday


def test_china_agrees_with_the_package_on_every_day_it_covers():
    calendar = china(SUPPORTED)
    day, last = date(SUPPORTED.start, 1, 1), date(SUPPORTED.stop - 1, 12, 31)
    disagreements = []
    while day <= last:
        if calendar.is_business_day(day) is not chinese_calendar.is_workday(day):
            disagreements.append(day)
        day += timedelta(days=1)
    assert disagreements == []


supported_days = st.dates(
    min_value=date(SUPPORTED.start, 1, 1), max_value=date(SUPPORTED.stop - 1, 12, 20)
)


@settings(max_examples=200)
@given(day=supported_days, convention=st.sampled_from(list(BusinessDayConvention)))
def test_a_shifted_chinese_due_date_is_a_chinese_working_day(day, convention):
    # All covered years, not just the day's own: a late-December date can shift into January.
    moved = china(SUPPORTED).shift(day, convention)
    if convention is BusinessDayConvention.NONE:
        assert moved == day
    else:
        assert chinese_calendar.is_workday(moved)
        assert abs((moved - day).days) <= 10  # the longest Chinese holiday run is 9 days


@given(day=st.dates(min_value=date(UNCOVERED_YEAR, 1, 1), max_value=date(UNCOVERED_YEAR, 12, 31)))
def test_years_the_package_does_not_cover_fall_back_to_weekends(day):
    calendar = china(range(UNCOVERED_YEAR, UNCOVERED_YEAR + 1))
    assert calendar.is_business_day(day) is (day.weekday() < 5)


def test_an_uncovered_year_is_logged_not_raised(caplog):
    early = SUPPORTED.start - 3
    with caplog.at_level(logging.WARNING, logger="arrears.calendars"):
        calendar = china(range(early, SUPPORTED.start + 1))
    assert str(early) in caplog.text
    assert calendar.is_business_day(date(early, 10, 1)) is (date(early, 10, 1).weekday() < 5)
    assert not calendar.is_business_day(date(SUPPORTED.start, 10, 1))  # National Day


def test_calendars_are_cached_per_set_of_years():
    assert china(range(2024, 2026)) is china(range(2024, 2026))
    assert us_federal(range(2026, 2027)) is us_federal(range(2026, 2027))


# --- United States ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "works", "why"),
    [
        (date(2026, 7, 3), False, "Independence Day observed: Jul 4 2026 is a Saturday"),
        (date(2026, 7, 6), True, "the Monday after"),
        (date(2026, 11, 26), False, "Thanksgiving Day"),
        (date(2026, 11, 27), True, "the Friday after Thanksgiving is not a federal holiday"),
        (date(2026, 6, 19), False, "Juneteenth"),
        (date(2026, 10, 12), False, "Columbus Day"),
        (date(2026, 4, 3), True, "Good Friday is a market holiday, not a federal one"),
    ],
)
def test_us_federal_knows_holidays_and_observed_dates(day, works, why):
    federal = holidays.US(years=day.year, observed=True)
    assert (day.weekday() < 5 and day not in federal) is works, f"package data changed: {why}"
    assert us_federal(range(2026, 2027)).is_business_day(day) is works, why


def test_a_due_date_on_independence_day_observed_moves_to_monday():
    calendar = us_federal(range(2026, 2027))
    assert calendar.shift(date(2026, 7, 3), FOLLOWING) == date(2026, 7, 6)
    assert calendar.shift(date(2026, 7, 3), "preceding") == date(2026, 7, 2)


def test_new_years_day_observed_on_december_31_is_a_holiday():
    # Jan 1 2022 was a Saturday, so the holiday was observed on Friday Dec 31 2021.
    assert not us_federal(range(2021, 2022)).is_business_day(date(2021, 12, 31))


@settings(max_examples=100)
@given(day=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)))
def test_us_federal_business_days_are_weekdays_without_a_federal_holiday(day):
    federal = holidays.US(years=day.year, observed=True)
    expected = day.weekday() < 5 and day not in federal
    assert us_federal(range(day.year, day.year + 1)).is_business_day(day) is expected


# --- by name ----------------------------------------------------------------------------


def test_by_name_builds_the_configured_calendar():
    years = range(2024, 2027)
    assert by_name("cn", years) == china(years)
    assert by_name(" US ", years) == us_federal(years)
    assert by_name("none", years) is ALL_DAYS
    assert CALENDAR_NAMES == ("cn", "us", "none")


def test_an_unknown_calendar_name_lists_the_known_ones():
    with pytest.raises(UnknownCalendar) as caught:
        by_name("uk", range(2024, 2025))
    assert caught.value.code == "calendar-unknown"
    assert "'uk'" in caught.value.message
    for name in CALENDAR_NAMES:
        assert name in caught.value.message


@pytest.mark.parametrize("factory", [china, us_federal])
def test_impossible_years_are_refused(factory):
    with pytest.raises(InvalidCalendar, match="0 is outside"):
        factory(range(0, 2))
