"""Real holiday calendars, built as plain :class:`~arrears.kernel.calendar.BusinessCalendar` values.

The kernel only knows sets of dates; this module fills them from holiday data packages so the
kernel stays standard-library only. Both factories cover exactly the ``years`` asked for: a
date outside them is judged by weekends alone, so ask for every year a schedule can touch
(plus one, for a December due date that shifts into January).
"""

from __future__ import annotations

import functools
import logging

import chinese_calendar  # type: ignore[import-untyped]
import holidays as holidays_package

from arrears.kernel.calendar import (
    ALL_DAYS,
    BusinessCalendar,
    InvalidCalendar,
    UnknownCalendar,
)

logger = logging.getLogger(__name__)


def _year_key(years: range) -> tuple[int, ...]:
    """Normalise ``years`` to a sorted tuple (the cache key), refusing impossible years."""
    key = tuple(sorted(set(years)))
    for year in key:
        if not 1 <= year <= 9999:
            raise InvalidCalendar(f"years: {year} is outside 1–9999")
    return key


def china_supported_years() -> range:
    """The years for which the installed ``chinesecalendar`` knows the State Council's
    holiday arrangements (it is updated once a year, when the next year's notice is out)."""
    known = list(chinese_calendar.holidays) + list(chinese_calendar.workdays)
    return range(min(known).year, max(known).year + 1)


def china(years: range) -> BusinessCalendar:
    """Mainland China's working days for ``years``: statutory holidays (法定节假日) are
    ``holidays`` and make-up working days (调休上班, often a Saturday or Sunday) are
    ``extra_workdays``, exactly as the ``chinesecalendar`` package publishes them.

    The package covers only :func:`china_supported_years`; for any other year the calendar
    falls back to plain Saturday/Sunday weekends (no holidays, no make-up days) and a warning
    is logged, rather than failing a whole batch. Results are cached per set of years.
    """
    return _china(_year_key(years))


@functools.lru_cache(maxsize=64)
def _china(years: tuple[int, ...]) -> BusinessCalendar:
    supported = china_supported_years()
    wanted = set(years)
    missing = sorted(wanted.difference(supported))
    if missing:
        logger.warning(
            "chinesecalendar %s has no holiday data for %s (it covers %d–%d): "
            "those years use Saturday/Sunday weekends only",
            chinese_calendar.__version__,
            ", ".join(map(str, missing)),
            supported.start,
            supported.stop - 1,
        )
    return BusinessCalendar(
        name="cn",
        holidays=frozenset(day for day in chinese_calendar.holidays if day.year in wanted),
        extra_workdays=frozenset(day for day in chinese_calendar.workdays if day.year in wanted),
    )


def us_federal(years: range) -> BusinessCalendar:
    """United States federal holidays for ``years`` (5 U.S.C. 6103, as the ``holidays``
    package lists them), including observed dates: a holiday on a Saturday is observed the
    Friday before, on a Sunday the Monday after (Jul 4 2026 is a Saturday, so Jul 3 2026 is
    not a business day). Both the actual and the observed day are holidays.

    A New Year's Day observed on Dec 31 belongs to the year it falls in, as the package files
    it. Dates outside ``years`` are judged by weekends alone. Results are cached.
    """
    return _us_federal(_year_key(years))


@functools.lru_cache(maxsize=64)
def _us_federal(years: tuple[int, ...]) -> BusinessCalendar:
    federal = holidays_package.country_holidays("US", years=years, observed=True)
    return BusinessCalendar(name="us", holidays=frozenset(federal))


def _none(years: range) -> BusinessCalendar:
    return ALL_DAYS


_FACTORIES = {"cn": china, "us": us_federal, "none": _none}

#: Calendar names that :func:`by_name` accepts (the values stored in product configuration).
CALENDAR_NAMES: tuple[str, ...] = tuple(_FACTORIES)


def by_name(name: str, years: range) -> BusinessCalendar:
    """The calendar configured as ``name`` (``cn``, ``us`` or ``none`` = every day a business
    day), for ``years``; an unknown name is a :class:`UnknownCalendar` listing the known ones."""
    key = name.strip().lower() if isinstance(name, str) else name
    factory = _FACTORIES.get(key)
    if factory is None:
        raise UnknownCalendar(
            f"calendar: {name!r} is not a known calendar (expected one of "
            f"{', '.join(CALENDAR_NAMES)})"
        )
    return factory(years)
