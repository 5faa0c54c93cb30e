from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.kernel.calendar import (
    ALL_DAYS,
    MAX_SHIFT_DAYS,
    WEEKENDS,
    BusinessCalendar,
    BusinessDayConvention,
    InvalidCalendar,
    add_months,
    days_in_month,
    parse_convention,
    parse_date,
)
from arrears.kernel.errors import InvalidDate, InvalidTerms

ONE_DAY = timedelta(days=1)
CONVENTIONS = list(BusinessDayConvention)


def last_day_of_month(year: int, month: int) -> int:
    """Oracle independent of the stdlib calendar module: the day before the next 1st."""
    first_of_next = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return (first_of_next - ONE_DAY).day


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


# --- anchoring --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "february_due"),
    [(2023, date(2023, 2, 28)), (2024, date(2024, 2, 29)), (2100, date(2100, 2, 28))],
)
def test_a_loan_drawn_on_jan_31_falls_due_at_february_end_then_march_31(year, february_due):
    anchor = date(year, 1, 31)
    due_dates = [add_months(anchor, k) for k in range(1, 13)]
    assert due_dates[0] == february_due
    assert due_dates[1] == date(year, 3, 31)
    assert due_dates[2] == date(year, 4, 30)
    assert due_dates[3] == date(year, 5, 31)
    assert due_dates[11] == date(year + 1, 1, 31)


def test_anchoring_never_drifts_after_a_short_month():
    anchor = date(2024, 1, 30)
    assert add_months(anchor, 1) == date(2024, 2, 29)
    assert add_months(anchor, 2) == date(2024, 3, 30)  # not Mar 29, as chaining would give
    assert add_months(add_months(anchor, 1), 1) == date(2024, 3, 29)  # why we never chain


anchors = st.dates(min_value=date(1, 1, 1), max_value=date(9949, 12, 31))


@given(anchor=anchors, k=st.integers(min_value=0, max_value=600))
def test_add_months_lands_k_months_later_on_the_anchor_day_clamped_to_month_end(anchor, k):
    due = add_months(anchor, k)
    assert month_index(due) - month_index(anchor) == k
    assert due.day == min(anchor.day, last_day_of_month(due.year, due.month))
    assert due.day == min(anchor.day, days_in_month(due.year, due.month))
    assert add_months(due, 0) == due


@given(
    anchor=st.dates(min_value=date(51, 1, 1), max_value=date(9949, 12, 31)),
    k=st.integers(min_value=-600, max_value=600),
)
def test_add_months_backwards_mirrors_forwards(anchor, k):
    due = add_months(anchor, k)
    assert month_index(due) - month_index(anchor) == k
    assert due.day == min(anchor.day, last_day_of_month(due.year, due.month))


@given(year=st.integers(min_value=1, max_value=9999), month=st.integers(1, 12))
def test_days_in_month_matches_the_day_before_the_next_first(year, month):
    if (year, month) != (9999, 12):
        assert days_in_month(year, month) == last_day_of_month(year, month)


@pytest.mark.parametrize(("anchor", "months"), [(date(9999, 12, 1), 1), (date(1, 1, 31), -1)])
def test_add_months_outside_the_calendar_is_a_typed_error(anchor, months):
    with pytest.raises(InvalidDate, match="outside the supported range"):
        add_months(anchor, months)


@pytest.mark.parametrize(("year", "month"), [(2024, 0), (2024, 13), (0, 1), (10000, 1)])
def test_days_in_month_refuses_impossible_months(year, month):
    with pytest.raises(InvalidDate):
        days_in_month(year, month)


# --- parsing ----------------------------------------------------------------------------


def test_parse_date_reads_iso_dates():
    assert parse_date("2024-02-29") == date(2024, 2, 29)
    assert parse_date(" 2024-10-01\n") == date(2024, 10, 1)


@pytest.mark.parametrize("text", ["2023-02-29", "2024-13-01", "20241001", "2024-W40-2", "", "x"])
def test_parse_date_names_the_field_and_the_bad_value(text):
    with pytest.raises(InvalidDate) as caught:
        parse_date(text, field_name="due_date")
    assert caught.value.message.startswith(f"due_date: {text!r} is not a valid date")
    assert caught.value.code == "calendar-invalid-date"


def test_parse_date_refuses_a_non_string():
    with pytest.raises(InvalidDate):
        parse_date(20241001)  # type: ignore[arg-type]


def test_conventions_parse_from_configuration_text():
    assert parse_convention("Modified-Following") is BusinessDayConvention.MODIFIED_FOLLOWING
    with pytest.raises(InvalidTerms) as caught:
        parse_convention("nearest", field_name="products[0].convention")
    assert "products[0].convention: 'nearest'" in caught.value.message
    assert "modified-following" in caught.value.message


# --- business days ----------------------------------------------------------------------


def test_weekends_calendar_knows_saturday_and_sunday():
    friday, saturday, sunday, monday = (date(2024, 6, d) for d in (7, 8, 9, 10))
    assert WEEKENDS.is_business_day(friday)
    assert not WEEKENDS.is_business_day(saturday)
    assert not WEEKENDS.is_business_day(sunday)
    assert WEEKENDS.shift(saturday, BusinessDayConvention.FOLLOWING) == monday
    assert WEEKENDS.shift(sunday, BusinessDayConvention.PRECEDING) == friday
    assert ALL_DAYS.shift(saturday, BusinessDayConvention.FOLLOWING) == saturday


def test_a_make_up_working_day_beats_the_weekend_and_the_holiday_list():
    saturday = date(2024, 10, 12)
    calendar = BusinessCalendar(holidays={saturday}, extra_workdays={saturday})
    assert calendar.is_business_day(saturday)


def test_modified_following_steps_back_at_month_end():
    calendar = BusinessCalendar(holidays={date(2024, 5, 31)})  # a Friday; Jun 1–2 weekend
    assert calendar.shift(date(2024, 5, 31), "following") == date(2024, 6, 3)
    assert calendar.shift(date(2024, 5, 31), "modified-following") == date(2024, 5, 30)


def test_modified_following_in_a_month_without_business_days_moves_later():
    june = {date(2024, 6, 1) + timedelta(days=n) for n in range(30)}
    calendar = BusinessCalendar(holidays=june)
    assert calendar.shift(date(2024, 6, 12), "modified-following") == date(2024, 7, 1)


def test_a_calendar_holds_frozensets_so_it_is_a_hashable_value():
    calendar = BusinessCalendar(name="x", holidays=[date(2024, 1, 1)], weekend=[6])
    assert calendar.holidays == frozenset({date(2024, 1, 1)})
    assert calendar.weekend == frozenset({6})
    assert hash(calendar) == hash(
        BusinessCalendar(name="x", holidays={date(2024, 1, 1)}, weekend={6})
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"holidays": {datetime(2024, 10, 1, 0, 0)}},
        {"extra_workdays": {"2024-10-12"}},
        {"weekend": {7}},
        {"weekend": {True}},
        {"weekend": set(range(7))},
    ],
)
def test_unusable_calendar_data_is_refused_when_the_calendar_is_built(kwargs):
    with pytest.raises(InvalidCalendar) as caught:
        BusinessCalendar(name="broken", **kwargs)
    assert "'broken'" in caught.value.message
    assert caught.value.code == "calendar-invalid"


def test_a_calendar_with_a_year_of_holidays_fails_loudly_instead_of_looping():
    start = date(2024, 1, 1)
    closed = BusinessCalendar(
        name="closed", holidays={start + timedelta(days=n) for n in range(2 * MAX_SHIFT_DAYS)}
    )
    with pytest.raises(InvalidCalendar, match="no business day within"):
        closed.following(start)
    with pytest.raises(InvalidCalendar):
        closed.shift(start + timedelta(days=40), BusinessDayConvention.MODIFIED_FOLLOWING)


def test_shifting_past_the_ends_of_the_calendar_is_a_typed_error():
    last, first = date(9999, 12, 31), date(1, 1, 1)
    with pytest.raises(InvalidCalendar):
        BusinessCalendar(holidays={last}).following(last)
    with pytest.raises(InvalidCalendar):
        BusinessCalendar(holidays={first}).preceding(first)
    with pytest.raises(InvalidCalendar):
        WEEKENDS.add_business_days(last, 1)
    assert WEEKENDS.preceding(date(1, 1, 7)) == date(1, 1, 5)  # Jan 1 of year 1 was a Monday


def test_add_business_days_skips_weekends_and_holidays():
    calendar = BusinessCalendar(holidays={date(2024, 6, 10)})
    friday = date(2024, 6, 7)
    assert calendar.add_business_days(friday, 0) == friday
    assert calendar.add_business_days(friday, 1) == date(2024, 6, 11)
    assert calendar.add_business_days(date(2024, 6, 11), -1) == friday


# --- properties over random calendars ---------------------------------------------------

WINDOW_START = date(2023, 11, 1)
WINDOW_END = date(2024, 5, 31)
window_days = st.dates(min_value=WINDOW_START, max_value=WINDOW_END)
# Half of the dates fall in the last week of a month, where modified-following has work to do.
target_days = st.one_of(
    st.dates(min_value=date(2024, 1, 1), max_value=date(2024, 3, 31)),
    st.builds(
        lambda month, back: date(2024, month, days_in_month(2024, month)) - timedelta(days=back),
        st.integers(1, 3),
        st.integers(0, 6),
    ),
)


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    """Random weekends (never all seven days) and random, sometimes dense, holiday sets."""
    weekend = draw(st.frozensets(st.integers(0, 6), max_size=6))
    holidays = draw(st.frozensets(window_days, max_size=120))
    extra = draw(st.frozensets(window_days, max_size=10))
    return BusinessCalendar(name="random", holidays=holidays, extra_workdays=extra, weekend=weekend)


def oracle_business_day(calendar: BusinessCalendar, day: date) -> bool:
    if day in calendar.extra_workdays:
        return True
    return day.weekday() not in calendar.weekend and day not in calendar.holidays


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def month_has_business_day(calendar: BusinessCalendar, day: date) -> bool:
    first = day.replace(day=1)
    last = day.replace(day=days_in_month(day.year, day.month))
    return any(oracle_business_day(calendar, d) for d in days_between(first, last))


@settings(max_examples=200)
@given(calendar=calendars(), day=target_days)
def test_is_business_day_follows_its_definition(calendar, day):
    assert calendar.is_business_day(day) == oracle_business_day(calendar, day)


@settings(max_examples=200)
@given(
    calendar=calendars(),
    day=target_days,
    convention=st.sampled_from([c for c in CONVENTIONS if c is not BusinessDayConvention.NONE]),
)
def test_every_shift_but_none_lands_on_a_business_day(calendar, day, convention):
    assert oracle_business_day(calendar, calendar.shift(day, convention))


@settings(max_examples=200)
@given(calendar=calendars(), day=target_days)
def test_following_is_the_first_business_day_on_or_after(calendar, day):
    moved = calendar.shift(day, BusinessDayConvention.FOLLOWING)
    assert moved >= day
    assert not any(oracle_business_day(calendar, d) for d in days_between(day, moved)[:-1])


@settings(max_examples=200)
@given(calendar=calendars(), day=target_days)
def test_preceding_is_the_last_business_day_on_or_before(calendar, day):
    moved = calendar.shift(day, BusinessDayConvention.PRECEDING)
    assert moved <= day
    assert not any(oracle_business_day(calendar, d) for d in days_between(moved, day)[1:])


@settings(max_examples=200)
@given(calendar=calendars(), day=target_days)
def test_modified_following_never_leaves_the_month(calendar, day):
    moved = calendar.shift(day, BusinessDayConvention.MODIFIED_FOLLOWING)
    following = calendar.following(day)
    if month_has_business_day(calendar, day):
        assert (moved.year, moved.month) == (day.year, day.month)
        expected = following if following.month == day.month else calendar.preceding(day)
        assert moved == expected
    else:
        assert moved == following


@settings(max_examples=200)
@given(calendar=calendars(), day=target_days)
def test_none_is_the_identity(calendar, day):
    assert calendar.shift(day, BusinessDayConvention.NONE) == day
    assert calendar.shift(day, "none") == day


@settings(max_examples=200)
@given(calendar=calendars(), day=target_days, convention=st.sampled_from(CONVENTIONS))
def test_a_business_day_is_never_moved(calendar, day, convention):
    if oracle_business_day(calendar, day):
        assert calendar.shift(day, convention) == day


@settings(max_examples=200)
@given(calendar=calendars(), day=target_days, convention=st.sampled_from(CONVENTIONS))
def test_shifting_twice_changes_nothing_more(calendar, day, convention):
    once = calendar.shift(day, convention)
    assert calendar.shift(once, convention) == once
    assert calendar.shift(day, convention.value) == once


@settings(max_examples=200)
@given(calendar=calendars(), day=target_days, count=st.integers(min_value=-15, max_value=15))
def test_add_business_days_counts_exactly_count_business_days(calendar, day, count):
    moved = calendar.add_business_days(day, count)
    if count == 0:
        assert moved == day
        return
    assert oracle_business_day(calendar, moved)
    if count > 0:
        assert sum(oracle_business_day(calendar, d) for d in days_between(day, moved)[1:]) == count
    else:
        counted = sum(oracle_business_day(calendar, d) for d in days_between(moved, day)[:-1])
        assert counted == -count
    if oracle_business_day(calendar, day):
        assert calendar.add_business_days(moved, -count) == day
