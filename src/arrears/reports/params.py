"""What a report is asked for, read from a request or the command line and bounded.

One reader for the pages, the downloads and the command, so the three refuse the same input
with the same words (``reports-*`` codes, in both languages):

* ``as_of`` is a date (YYYY-MM-DD) between :data:`kernel.limits.MIN_DATE` and today's local
  date — a report as of a day that has not ended yet would read a half day, and one in the
  future reads nothing that exists; empty means today;
* a period report reads ``from``/``to`` (both inclusive); empty means the first day of
  ``as_of``'s month to ``as_of``; ``from`` ≤ ``to`` ≤ ``as_of`` and at most
  :data:`MAX_PERIOD_DAYS` days;
* a report that reads no period ignores them (its params carry ``start``/``end`` = ``None``).

:func:`end_of_day` is the instant a report as of D reads up to (exclusive): midnight after D in
the project's time zone, so "by the end of D" means the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from arrears import errorcodes
from arrears.kernel.calendar import parse_date
from arrears.kernel.errors import ArrearsError, InvalidDate
from arrears.kernel.limits import MIN_DATE
from arrears.reports.base import ReportParams, ReportSpec

#: The longest period a report reads (five years and a day): a vintage curve needs years, a
#: longer one is a typo more often than a question.
MAX_PERIOD_DAYS = 5 * 366

errorcodes.define(
    {
        "reports-invalid-date": "%(value)s is not a date (YYYY-MM-DD)",
        "reports-date-out-of-range": "%(value)s is outside %(first)s to %(last)s",
        "reports-period-reversed": "the period starts %(start)s, after it ends %(end)s",
        "reports-period-after-as-of": "the period ends %(end)s, after the report's date %(as_of)s",
        "reports-period-too-long": "the period is %(days)s days; at most %(limit)s",
        "reports-unknown-month": "%(value)s is not a month (YYYY-MM)",
    }
)


class ReportRequestError(ArrearsError):
    """A report asked for with dates it cannot be computed for."""

    code = "reports-invalid"


def today() -> date:
    """Today's date in the project's time zone (the clock the tests freeze)."""
    return timezone.localdate()


def end_of_day(day: date) -> datetime:
    """The first instant after ``day`` in the project's time zone: a report as of ``day``
    reads rows stamped strictly before it."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def _date(text: str | None, field: str, *, last: date) -> date | None:
    if text is None or not text.strip():
        return None
    try:
        value = parse_date(text, field_name=field)
    except InvalidDate:
        raise errorcodes.refuse(
            ReportRequestError, "reports-invalid-date", field=field, value=text[:40]
        ) from None
    if not MIN_DATE <= value <= last:
        raise errorcodes.refuse(
            ReportRequestError,
            "reports-date-out-of-range",
            field=field,
            value=value,
            first=MIN_DATE,
            last=last,
        )
    return value


def read_params(
    spec: ReportSpec,
    as_of: str | None,
    start: str | None = None,
    end: str | None = None,
    *,
    now: date | None = None,
) -> ReportParams:
    """The params of ``spec`` from text (a query string's or the command line's values)."""
    last = now or today()
    day = _date(as_of, "as_of", last=last) or last
    if not spec.period:
        return ReportParams(as_of=day)
    first = _date(start, "from", last=last) or day.replace(day=1)
    until = _date(end, "to", last=last) or day
    return check_period(ReportParams(as_of=day, start=first, end=until))


def check_period(params: ReportParams) -> ReportParams:
    """``params`` if its period is in order, else the refusal that says why."""
    start, end = params.start, params.end
    if start is None or end is None:
        return params
    if start > end:
        raise errorcodes.refuse(
            ReportRequestError, "reports-period-reversed", field="from", start=start, end=end
        )
    if end > params.as_of:
        raise errorcodes.refuse(
            ReportRequestError,
            "reports-period-after-as-of",
            field="to",
            end=end,
            as_of=params.as_of,
        )
    days = (end - start).days + 1
    if days > MAX_PERIOD_DAYS:
        raise errorcodes.refuse(
            ReportRequestError,
            "reports-period-too-long",
            field="from",
            days=days,
            limit=MAX_PERIOD_DAYS,
        )
    return params


def month_params(text: str, *, now: date | None = None) -> ReportParams:
    """The params of a calendar month (``YYYY-MM``): as of its last day, over the whole month.
    A month that has not ended is refused: its pack would change."""
    last = now or today()
    value = (text or "").strip()
    try:
        if len(value) != 7 or value[4] != "-":
            raise ValueError(value)
        first = date(int(value[:4]), int(value[5:]), 1)
    except ValueError:
        raise errorcodes.refuse(
            ReportRequestError, "reports-unknown-month", field="month", value=value[:40]
        ) from None
    end = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    if first < MIN_DATE or end >= last:
        raise errorcodes.refuse(
            ReportRequestError,
            "reports-date-out-of-range",
            field="month",
            value=end,
            first=MIN_DATE,
            last=last - timedelta(days=1),
        )
    return ReportParams(as_of=end, start=first, end=end)
