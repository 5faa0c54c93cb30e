"""Dates for lending: month-end anchored due dates and business-day shifting.

Two separate ideas live here. *Anchoring* decides the nominal due date of period k from the
drawdown date without drift (Jan 31 → Feb 28/29 → Mar 31, never Mar 28). *Shifting* moves a
nominal date that falls on a non-business day under a named convention. Holiday data is passed
in as plain sets of dates (see :mod:`arrears.calendars` for China and US federal calendars), so
this module stays pure and testable with any calendar.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from arrears.kernel.errors import InvalidDate


def days_in_month(year: int, month: int) -> int:
    return _stdlib_calendar.monthrange(year, month)[1]


def add_months(anchor: date, months: int) -> date:
    """The date ``months`` after ``anchor`` on the anchor's day of month, clamped to month end.

    Always computed from the original anchor, never chained, so the day never drifts:
    ``add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)`` and
    ``add_months(date(2024, 1, 31), 2) == date(2024, 3, 31)``.
    """
    index = anchor.year * 12 + (anchor.month - 1) + months
    year, month0 = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise InvalidDate(f"{months} months after {anchor} is outside the supported range")
    month = month0 + 1
    return date(year, month, min(anchor.day, days_in_month(year, month)))


def parse_date(text: str, *, field_name: str = "date") -> date:
    """Parse an ISO date (YYYY-MM-DD) with an error that names the field and the bad value."""
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise InvalidDate(
            f"{field_name}: {text!r} is not a valid date (expected YYYY-MM-DD)"
        ) from None


class BusinessDayConvention(StrEnum):
    """How a due date on a non-business day moves (ISDA names)."""

    NONE = "none"
    FOLLOWING = "following"
    PRECEDING = "preceding"
    MODIFIED_FOLLOWING = "modified-following"


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Which days are business days.

    A day is a business day when it is a working day of the week and not a holiday, or when it
    is an explicit make-up working day (China's 调休 Saturdays and Sundays), which wins over
    both the weekend and the holiday list.
    """

    name: str = "weekends"
    holidays: frozenset[date] = field(default_factory=frozenset)
    extra_workdays: frozenset[date] = field(default_factory=frozenset)
    weekend: frozenset[int] = frozenset({5, 6})  # date.weekday(): Saturday, Sunday

    def is_business_day(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        return day.weekday() not in self.weekend and day not in self.holidays

    def following(self, day: date) -> date:
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day

    def preceding(self, day: date) -> date:
        while not self.is_business_day(day):
            day -= timedelta(days=1)
        return day

    def shift(self, day: date, convention: BusinessDayConvention) -> date:
        """Move ``day`` to a business day under ``convention``.

        ``modified-following`` takes the following business day unless that crosses into the
        next month, in which case it takes the preceding one.
        """
        if convention is BusinessDayConvention.NONE or self.is_business_day(day):
            return day
        if convention is BusinessDayConvention.FOLLOWING:
            return self.following(day)
        if convention is BusinessDayConvention.PRECEDING:
            return self.preceding(day)
        forward = self.following(day)
        return forward if forward.month == day.month else self.preceding(day)


#: Every day is a business day: the calendar to use when shifting is not wanted.
ALL_DAYS = BusinessCalendar(name="all-days", weekend=frozenset())
