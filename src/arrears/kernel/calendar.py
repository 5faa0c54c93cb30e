"""Dates for lending: month-end anchored due dates and business-day shifting.

Two separate ideas live here. *Anchoring* decides the nominal due date of period k from the
drawdown date without drift (Jan 31 → Feb 28/29 → Mar 31, never Mar 28). *Shifting* moves a
nominal date that falls on a non-business day under a named convention. Holiday data is passed
in as plain sets of dates (see :mod:`arrears.calendars` for China and US federal calendars), so
this module stays pure and testable with any calendar.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from arrears.kernel.errors import ArrearsError, InvalidDate, InvalidTerms


class InvalidCalendar(ArrearsError):
    """A calendar whose data cannot be used (a datetime among the holidays, a weekday number
    outside 0–6), or one with no business day where one is needed."""

    code = "calendar-invalid"


class UnknownCalendar(ArrearsError):
    """A calendar name that no factory knows (see :func:`arrears.calendars.by_name`)."""

    code = "calendar-unknown"


#: How far a shift may search for a business day before the calendar is declared unusable.
#: Real calendars never have more than ~10 consecutive non-business days; a year of them means
#: the calendar data is wrong, and failing loudly beats looping until ``date.max``.
MAX_SHIFT_DAYS = 366

_ONE_DAY = timedelta(days=1)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def days_in_month(year: int, month: int) -> int:
    """Number of days in ``month`` of ``year`` (February follows the Gregorian leap rule)."""
    if not 1 <= month <= 12:
        raise InvalidDate(f"month must be 1–12, got {month}")
    if not 1 <= year <= 9999:
        raise InvalidDate(f"year must be 1–9999, got {year}")
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
    """Parse an ISO date (YYYY-MM-DD) with an error that names the field and the bad value.

    Only the extended calendar form is accepted: Python 3.11's ``fromisoformat`` would also take
    ``20241001`` or ``2024-W40-2``, which in an import file are far more likely typos than
    intent.
    """
    if not isinstance(text, str) or not _ISO_DATE.fullmatch(text.strip()):
        raise InvalidDate(f"{field_name}: {text!r} is not a valid date (expected YYYY-MM-DD)")
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidDate(
            f"{field_name}: {text!r} is not a valid date (expected YYYY-MM-DD)"
        ) from None


class BusinessDayConvention(StrEnum):
    """How a due date on a non-business day moves (ISDA names)."""

    NONE = "none"
    FOLLOWING = "following"
    PRECEDING = "preceding"
    MODIFIED_FOLLOWING = "modified-following"


def parse_convention(text: str, *, field_name: str = "convention") -> BusinessDayConvention:
    """Read a convention from configuration, naming the field and the allowed values on error."""
    try:
        return BusinessDayConvention(text.strip().lower() if isinstance(text, str) else text)
    except ValueError:
        allowed = ", ".join(c.value for c in BusinessDayConvention)
        raise InvalidTerms(
            f"{field_name}: {text!r} is not a convention (expected {allowed})"
        ) from None


def _date_set(values: Iterable[date], what: str, calendar_name: str) -> frozenset[date]:
    days = frozenset(values)
    for day in days:
        # A datetime equals no date, so one in the set would silently never match.
        if isinstance(day, datetime) or not isinstance(day, date):
            raise InvalidCalendar(
                f"calendar {calendar_name!r}: {what} must hold dates, got {day!r}"
            )
    return days


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Which days are business days.

    A day is a business day when it is a working day of the week and not a holiday, or when it
    is an explicit make-up working day (China's 调休 Saturdays and Sundays), which wins over
    both the weekend and the holiday list. Any iterable of dates is accepted and stored as a
    frozenset, so calendars are hashable values.
    """

    name: str = "weekends"
    holidays: frozenset[date] = field(default_factory=frozenset)
    extra_workdays: frozenset[date] = field(default_factory=frozenset)
    weekend: frozenset[int] = frozenset({5, 6})  # date.weekday(): Saturday, Sunday

    def __post_init__(self) -> None:
        holidays = _date_set(self.holidays, "holidays", self.name)
        extra = _date_set(self.extra_workdays, "extra_workdays", self.name)
        weekend = frozenset(self.weekend)
        for weekday in weekend:
            if type(weekday) is not int or not 0 <= weekday <= 6:
                raise InvalidCalendar(
                    f"calendar {self.name!r}: weekend days are date.weekday() numbers 0–6 "
                    f"(Monday=0), got {weekday!r}"
                )
        if len(weekend) == 7 and not extra:
            raise InvalidCalendar(f"calendar {self.name!r} has no business day at all")
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(self, "extra_workdays", extra)
        object.__setattr__(self, "weekend", weekend)

    def is_business_day(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        return day.weekday() not in self.weekend and day not in self.holidays

    def _search(self, day: date, step: timedelta, limit: date | None = None) -> date | None:
        """The first business day from ``day`` (inclusive) walking by ``step``, stopping at
        ``limit`` (inclusive) when given, or ``None`` if there is none within the bounds."""
        for _ in range(MAX_SHIFT_DAYS + 1):
            if self.is_business_day(day):
                return day
            if day == limit:
                return None
            try:
                day += step
            except OverflowError:
                return None
        return None

    def _nowhere(self, day: date, direction: str) -> InvalidCalendar:
        return InvalidCalendar(
            f"calendar {self.name!r}: no business day within {MAX_SHIFT_DAYS} days {direction} "
            f"{day}; check its holidays and weekend"
        )

    def following(self, day: date) -> date:
        """The first business day on or after ``day``."""
        found = self._search(day, _ONE_DAY)
        if found is None:
            raise self._nowhere(day, "on or after")
        return found

    def preceding(self, day: date) -> date:
        """The last business day on or before ``day``."""
        found = self._search(day, -_ONE_DAY)
        if found is None:
            raise self._nowhere(day, "on or before")
        return found

    def shift(self, day: date, convention: BusinessDayConvention | str) -> date:
        """Move ``day`` to a business day under ``convention``.

        A business day never moves, and ``none`` never moves anything. ``modified-following``
        takes the following business day unless that crosses into the next month, in which
        case it takes the preceding one; in the degenerate case of a month with no business
        day at all it falls back to ``following`` (later, never earlier, than agreed).
        """
        convention = parse_convention(convention)
        if convention is BusinessDayConvention.NONE or self.is_business_day(day):
            return day
        if convention is BusinessDayConvention.FOLLOWING:
            return self.following(day)
        if convention is BusinessDayConvention.PRECEDING:
            return self.preceding(day)
        month_end = day.replace(day=days_in_month(day.year, day.month))
        found = self._search(day, _ONE_DAY, month_end)
        if found is None:
            found = self._search(day, -_ONE_DAY, day.replace(day=1))
        return found if found is not None else self.following(day)

    def add_business_days(self, day: date, count: int) -> date:
        """The date ``count`` business days after ``day`` (before it when ``count`` < 0).

        ``day`` itself is not counted, so ``add_business_days(friday, 1)`` is the next Monday
        in a weekends-only calendar, and ``count == 0`` returns ``day`` unchanged.
        """
        step = _ONE_DAY if count >= 0 else -_ONE_DAY
        direction = "after" if count >= 0 else "before"
        for _ in range(abs(count)):
            try:
                found = self._search(day + step, step)
            except OverflowError:
                found = None
            if found is None:
                raise self._nowhere(day, direction)
            day = found
        return day


#: Every day is a business day: the calendar to use when shifting is not wanted.
ALL_DAYS = BusinessCalendar(name="all-days", weekend=frozenset())

#: Saturdays and Sundays off, no holidays: the fallback where no holiday data is known.
WEEKENDS = BusinessCalendar(name="weekends")
