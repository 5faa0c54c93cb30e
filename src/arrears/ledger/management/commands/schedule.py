"""``arrears schedule``: print a repayment schedule from terms given on the command line.

Nothing is read from or written to the database: the command parses its options exactly (money
through :meth:`Money.parse`, rates as Decimal, never float), asks the kernel for the schedule and
prints it as a table or as JSON. Every bad option is a ``CommandError`` naming the option and what
was expected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from arrears.kernel.calendar import (
    ALL_DAYS,
    BusinessCalendar,
    BusinessDayConvention,
    add_months,
    parse_date,
)
from arrears.kernel.errors import ArrearsError
from arrears.kernel.money import Money, Rounding, exponent
from arrears.kernel.schedule import build_schedule
from arrears.kernel.terms import (
    DayCount,
    Instalment,
    InterestRate,
    RateBasis,
    ScheduleMethod,
    ScheduleTerms,
)

MAX_TERM = 600


def _allowed(values: Any) -> str:
    return ", ".join(str(v.value if hasattr(v, "value") else v) for v in values)


def _choice(option: str, text: Any, values: Any, what: str) -> Any:
    """The enum member (or name) ``text`` stands for, or a CommandError listing the choices."""
    cleaned = str(text).strip().lower()
    for value in values:
        if cleaned == str(value.value if hasattr(value, "value") else value):
            return value
    raise CommandError(f"{option}: {text!r} is not {what} (expected one of {_allowed(values)})")


def _principal(text: Any, currency: str) -> Money:
    try:
        money = Money.parse(str(text), currency)
    except ArrearsError as error:
        raise CommandError(
            f"--principal: {error} (expected a positive amount in major units with at most "
            f"{exponent(currency)} decimals, such as 10000.00)"
        ) from None
    if money.minor <= 0:
        raise CommandError(f"--principal: {text!r} must be a positive amount, such as 10000.00")
    return money


def _rate(option: str, text: Any) -> Decimal:
    example = "0.0005 for 0.05 % a day" if option == "--daily-rate" else "0.18 for 18 % a year"
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value < 0:
        raise CommandError(
            f"{option}: {text!r} is not a rate (expected a non-negative decimal fraction, "
            f"e.g. {example})"
        )
    return value


def _term(text: Any) -> int:
    cleaned = str(text).strip()
    if not (cleaned.isascii() and cleaned.isdigit()) or not 1 <= int(cleaned) <= MAX_TERM:
        raise CommandError(
            f"--term: {text!r} is not a term (expected a whole number of months, 1–{MAX_TERM})"
        )
    return int(cleaned)


def _calendar(name: str, start: date, term: int) -> BusinessCalendar:
    """The named holiday calendar for every year the schedule's periods span, plus the next
    one when the last period ends in December (its due date can shift into January); a
    preceding shift from Jan 1 lands in a year already covered, as the first period ends a
    month after ``start``. Imported lazily: the holiday packages are only needed when a real
    calendar is asked for."""
    if name == "none":
        return ALL_DAYS
    from arrears.calendars import by_name

    last_end = add_months(start, term)
    years = range(start.year, last_end.year + (2 if last_end.month == 12 else 1))
    return by_name(name, years)


@dataclass(frozen=True, slots=True)
class _Amounts:
    principal: int
    interest: int

    @property
    def total(self) -> int:
        return self.principal + self.interest


def _major(minor: int, currency: str) -> str:
    return f"{Money(minor, currency).amount:f}"


def _amount_fields(amounts: _Amounts, currency: str) -> dict[str, Any]:
    return {
        "principal": _major(amounts.principal, currency),
        "principal_minor": amounts.principal,
        "interest": _major(amounts.interest, currency),
        "interest_minor": amounts.interest,
        "total": _major(amounts.total, currency),
        "total_minor": amounts.total,
    }


def as_json(terms: ScheduleTerms, schedule: tuple[Instalment, ...], calendar: str) -> str:
    """The schedule as JSON: amounts both as exact major-unit strings and as minor-unit ints."""
    currency = terms.currency
    totals = _Amounts(sum(i.principal for i in schedule), sum(i.interest for i in schedule))
    data = {
        "currency": currency,
        "method": terms.method.value,
        "principal": _major(terms.principal, currency),
        "principal_minor": terms.principal,
        "rate": {"value": f"{terms.rate.value:f}", "basis": terms.rate.basis.value},
        "term": terms.term,
        "start": terms.start.isoformat(),
        "day_count": terms.day_count.value,
        "rounding": terms.rounding.value,
        "calendar": calendar,
        "convention": terms.convention.value,
        "instalments": [
            {
                "seq": i.seq,
                "due_date": i.due_date.isoformat(),
                "period_start": i.period_start.isoformat(),
                "period_end": i.period_end.isoformat(),
                **_amount_fields(_Amounts(i.principal, i.interest), currency),
            }
            for i in schedule
        ],
        "totals": _amount_fields(totals, currency),
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


def as_table(terms: ScheduleTerms, schedule: tuple[Instalment, ...], calendar: str) -> str:
    """The schedule as a right-aligned text table with a totals row."""
    currency = terms.currency
    rows = [
        [
            str(i.seq),
            i.due_date.isoformat(),
            _major(i.principal, currency),
            _major(i.interest, currency),
            _major(i.total, currency),
        ]
        for i in schedule
    ]
    totals = _Amounts(sum(i.principal for i in schedule), sum(i.interest for i in schedule))
    footer = [
        "total",
        "",
        _major(totals.principal, currency),
        _major(totals.interest, currency),
        _major(totals.total, currency),
    ]
    header = ["seq", "due date", "principal", "interest", "total"]
    widths = [max(len(row[c]) for row in [header, *rows, footer]) for c in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(cell.rjust(width) for cell, width in zip(cells, widths, strict=True))

    rule = "  ".join("-" * width for width in widths)
    title = (
        f"{terms.method.value}: {_major(terms.principal, currency)} {currency} at "
        f"{terms.rate.value:f} {terms.rate.basis.value}, {terms.term} months from {terms.start} "
        f"({terms.day_count.value}, {terms.rounding.value}, calendar {calendar}, "
        f"convention {terms.convention.value})"
    )
    return "\n".join([title, line(header), rule, *map(line, rows), rule, line(footer)])


class Command(BaseCommand):
    help = "Print a repayment schedule (no database needed), as a table or JSON."

    # The command reads no model and touches no database, so system checks are not needed.
    requires_system_checks = ()

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--principal", help="amount in major units, e.g. 10000.00")
        parser.add_argument("--currency", help="ISO 4217 code, e.g. CNY")
        parser.add_argument("--daily-rate", help="daily rate as a fraction, e.g. 0.0005")
        parser.add_argument("--annual-rate", help="annual rate as a fraction, e.g. 0.18")
        parser.add_argument("--term", help="number of monthly periods, 1–600")
        parser.add_argument("--method", help=f"one of {_allowed(ScheduleMethod)}")
        parser.add_argument("--start", help="drawdown date, YYYY-MM-DD")
        parser.add_argument(
            "--day-count", default="30/360", help=f"one of {_allowed(DayCount)} (default 30/360)"
        )
        parser.add_argument(
            "--rounding", default="half-up", help=f"one of {_allowed(Rounding)} (default half-up)"
        )
        parser.add_argument(
            "--calendar", default="none", help="business calendar: none, cn or us (default none)"
        )
        parser.add_argument(
            "--convention",
            help=f"one of {_allowed(BusinessDayConvention)} (default: following when a "
            "calendar is given, else none)",
        )
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")

    def handle(self, *args: Any, **options: Any) -> None:
        terms, calendar = self.terms(options)
        try:
            schedule = build_schedule(terms)
        except ArrearsError as error:
            raise CommandError(str(error)) from None
        render = as_json if options["json"] else as_table
        self.stdout.write(render(terms, schedule, calendar))

    def terms(self, options: dict[str, Any]) -> tuple[ScheduleTerms, str]:
        """Validate every option into kernel terms, one CommandError per bad option."""
        for option in ("principal", "currency", "term", "method", "start"):
            if options.get(option) in (None, ""):
                raise CommandError(f"--{option} is required")
        currency = str(options["currency"]).strip().upper()
        try:
            exponent(currency)
        except ArrearsError:
            raise CommandError(
                f"--currency: {options['currency']!r} is not a known currency (expected an "
                "ISO 4217 code such as CNY or USD)"
            ) from None
        principal = _principal(options["principal"], currency)
        daily, annual = options.get("daily_rate"), options.get("annual_rate")
        if (daily is None) == (annual is None):
            raise CommandError(
                "give exactly one of --daily-rate (e.g. 0.0005) or --annual-rate (e.g. 0.18)"
            )
        rate = (
            InterestRate(_rate("--daily-rate", daily), RateBasis.DAILY)
            if daily is not None
            else InterestRate(_rate("--annual-rate", annual), RateBasis.ANNUAL)
        )
        term = _term(options["term"])
        method = _choice("--method", options["method"], ScheduleMethod, "a schedule method")
        try:
            start = parse_date(str(options["start"]), field_name="--start")
        except ArrearsError as error:
            raise CommandError(str(error)) from None
        day_count = _choice("--day-count", options["day_count"], DayCount, "a day count")
        rounding = _choice("--rounding", options["rounding"], Rounding, "a rounding rule")
        calendar_name = _choice(
            "--calendar", options["calendar"], ("none", "cn", "us"), "a known calendar"
        )
        default_convention = "none" if calendar_name == "none" else "following"
        convention = _choice(
            "--convention",
            options.get("convention") or default_convention,
            BusinessDayConvention,
            "a business-day convention",
        )
        try:
            calendar = _calendar(calendar_name, start, term)
            terms = ScheduleTerms(
                principal=principal.minor,
                currency=currency,
                rate=rate,
                term=term,
                method=method,
                start=start,
                day_count=day_count,
                rounding=rounding,
                calendar=calendar,
                convention=convention,
            )
        except ArrearsError as error:
            raise CommandError(str(error)) from None
        return terms, calendar_name
