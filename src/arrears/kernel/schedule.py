"""Repayment schedules (还款计划): equal instalment, equal principal, interest first, bullet.

Period k (1…n) runs over ``[add_months(start, k-1), add_months(start, k))``, always counted from
the original drawdown date so a month-end loan never drifts (Jan 31 → Feb 29 → Mar 31), and falls
due on the period end moved to a business day under the terms' convention. Interest accrues on
the unshifted period. Every amount is rounded to the minor unit exactly once per instalment under
``terms.rounding``, and the principal parts always add up to the loan's principal exactly: the
last instalment absorbs whatever rounding left over.

All Decimal arithmetic runs in a private 40-digit context, so a schedule never depends on the
caller's global :mod:`decimal` context.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from functools import lru_cache

from arrears.kernel.calendar import (
    BusinessCalendar,
    BusinessDayConvention,
    add_months,
    days_in_month,
)
from arrears.kernel.errors import InvalidTerms
from arrears.kernel.money import round_minor
from arrears.kernel.terms import (
    DayCount,
    Instalment,
    RateBasis,
    ScheduleMethod,
    ScheduleTerms,
)

#: The context every schedule computation runs in (``localcontext`` works on a copy of it).
CONTEXT = Context(
    prec=40,
    rounding=ROUND_HALF_EVEN,
    Emin=-999_999,
    Emax=999_999,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)

#: An exact amount with this many integer digits or more cannot be rounded reliably in a
#: 40-digit context (too few fraction digits would remain); no real loan comes near it.
_MAX_INTEGER_DIGITS = 30


def _anchored_months(start: date, end: date) -> int | None:
    """``k`` when ``[start, end)`` is exactly k months counted from one anchor day, i.e. some
    day d with ``start`` = day d of its month and ``end`` = day d of the month k later, both
    clamped to month end (Jan 31 → Feb 29 and Feb 29 → Mar 31 are both one month for the
    anchor 31); ``None`` otherwise."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if months <= 0:
        return None
    start_dim = days_in_month(start.year, start.month)
    end_dim = days_in_month(end.year, end.month)
    for anchor in {start.day, end.day, 31}:
        if min(anchor, start_dim) == start.day and min(anchor, end_dim) == end.day:
            return months
    return None


def accrual_days(day_count: DayCount, period_start: date, period_end: date) -> int:
    """Days of interest in ``[period_start, period_end)`` under ``day_count``.

    The actual conventions count calendar days. ``30/360`` counts every whole anchored month
    as 30 days (so each regular instalment period is 30 days, month-end anchors included); any
    other span uses the ISDA 30/360 bond-basis formula (day 31 counts as 30).
    Example (also a test): ``accrual_days(DayCount.THIRTY_360, date(2024, 1, 31),
    date(2024, 2, 29)) == 30`` while ``actual/365`` gives 29.
    """
    if period_end < period_start:
        raise InvalidTerms(f"period end {period_end} is before period start {period_start}")
    if day_count is not DayCount.THIRTY_360:
        return (period_end - period_start).days
    months = _anchored_months(period_start, period_end)
    if months is not None:
        return 30 * months
    d1 = min(period_start.day, 30)
    d2 = 30 if period_end.day == 31 and d1 == 30 else period_end.day
    return (
        360 * (period_end.year - period_start.year)
        + 30 * (period_end.month - period_start.month)
        + (d2 - d1)
    )


def _to_minor(value: Decimal, terms: ScheduleTerms, what: str) -> int:
    """Round an exact minor-unit Decimal once, under the terms' rule, refusing amounts too large
    to be exact in the schedule context."""
    if not value.is_finite() or value.adjusted() >= _MAX_INTEGER_DIGITS:
        raise InvalidTerms(
            f"{what} is too large to compute exactly (principal {terms.principal}, rate "
            f"{terms.rate.value}); check the principal and the rate"
        )
    return round_minor(value, terms.rounding)


def _check_terms(terms: ScheduleTerms) -> None:
    if not terms.rate.value.is_finite():
        raise InvalidTerms(f"rate: {terms.rate.value} is not a finite number")


def period_interest(
    balance: int, terms: ScheduleTerms, period_start: date, period_end: date
) -> int:
    """Contract interest on ``balance`` over ``[period_start, period_end)``, rounded once.

    Under ``30/360`` a regular monthly period costs ``round(balance × rate.monthly())``; under
    the actual conventions it costs ``round(balance × rate.daily(day_count) × actual days)``.
    An annual rate is divided by the year only after multiplying, so the unrounded figure is
    exact whenever it can be (18 % a year on 10,000.00 for 30 days under actual/360 is exactly
    150.00). Example (also a test): 1,000,000 fen at 0.05 % a day, 30/360 → 15,000 fen.
    """
    if type(balance) is not int or balance < 0:
        raise InvalidTerms(f"balance must be a non-negative int of minor units, got {balance!r}")
    _check_terms(terms)
    days = accrual_days(terms.day_count, period_start, period_end)
    with localcontext(CONTEXT):
        exact = Decimal(balance) * terms.rate.value * days
        if terms.rate.basis is RateBasis.ANNUAL:
            exact = exact / terms.day_count.year_days
        return _to_minor(exact, terms, f"interest on {balance} for {days} days")


def annuity_payment(terms: ScheduleTerms) -> int:
    """The equal-instalment (等额本息) payment ``round(P·r·(1+r)^n / ((1+r)^n − 1))`` with r the
    nominal monthly rate (``rate.monthly()``, for every day count), or ``round(P / n)`` at a
    zero rate. Example (also a test): 10,000.00 at 1.5 % a month over 12 months → 916.80."""
    return level_payments(terms, (terms.principal,))[0]


def level_payments(terms: ScheduleTerms, principals: Sequence[int]) -> list[int]:
    """:func:`annuity_payment` of ``terms`` with each of ``principals`` in place of its own
    principal, the rate's growth computed once (an import builds thousands of schedules that
    differ only in the amount)."""
    _check_terms(terms)
    with localcontext(CONTEXT):
        rate = terms.rate.monthly()
        if rate == 0:
            return [
                _to_minor(Decimal(p) / terms.term, terms, "the level payment") for p in principals
            ]
        growth = (1 + rate) ** terms.term
        return [
            _to_minor(Decimal(p) * rate * growth / (growth - 1), terms, "the level payment")
            for p in principals
        ]


@lru_cache(maxsize=4096)
def period_dates(
    start: date, term: int, calendar: BusinessCalendar, convention: BusinessDayConvention
) -> tuple[tuple[int, date, date, date], ...]:
    """(seq, period_start, period_end, due_date) of every regular monthly period of a schedule
    of ``term`` months from ``start`` (a function of these four alone, so it is kept: a book's
    loans share a few hundred start dates)."""
    rows = []
    for k in range(1, term + 1):
        period_start = add_months(start, k - 1)
        period_end = add_months(start, k)
        due = calendar.shift(period_end, convention)
        rows.append((k, period_start, period_end, due))
    return tuple(rows)


def _periods(terms: ScheduleTerms) -> tuple[tuple[int, date, date, date], ...]:
    """(seq, period_start, period_end, due_date) for every regular monthly period."""
    return period_dates(terms.start, terms.term, terms.calendar, terms.convention)


def _equal_instalment(terms: ScheduleTerms) -> tuple[Instalment, ...]:
    payment = annuity_payment(terms)
    balance = terms.principal
    rows = []
    for k, period_start, period_end, due in _periods(terms):
        interest = period_interest(balance, terms, period_start, period_end)
        if k == terms.term:
            principal = balance
        else:
            principal = payment - interest
            if not 0 <= principal <= balance:
                problem = "negative" if principal < 0 else f"more than the balance {balance}"
                raise InvalidTerms(
                    f"equal-instalment: instalment {k} would repay {principal} of principal "
                    f"(payment {payment} − interest {interest}), which is {problem}; a level "
                    f"payment cannot amortise this rate, term and day count "
                    f"({terms.rate.value} {terms.rate.basis}, {terms.term} months, "
                    f"{terms.day_count}): use another method or day count"
                )
        rows.append(Instalment(k, due, principal, interest, period_start, period_end))
        balance -= principal
    return tuple(rows)


def _equal_principal(terms: ScheduleTerms) -> tuple[Instalment, ...]:
    with localcontext(CONTEXT):
        part = _to_minor(Decimal(terms.principal) / terms.term, terms, "the principal part")
    last = terms.principal - part * (terms.term - 1)
    if last < 0:
        raise InvalidTerms(
            f"equal-principal: {terms.principal} minor units cannot be split into "
            f"{terms.term} parts of {part} under {terms.rounding} rounding (the last would be "
            f"{last}); use a shorter term or a larger principal"
        )
    balance = terms.principal
    rows = []
    for k, period_start, period_end, due in _periods(terms):
        principal = last if k == terms.term else part
        interest = period_interest(balance, terms, period_start, period_end)
        rows.append(Instalment(k, due, principal, interest, period_start, period_end))
        balance -= principal
    return tuple(rows)


def _interest_first(terms: ScheduleTerms) -> tuple[Instalment, ...]:
    return tuple(
        Instalment(
            k,
            due,
            terms.principal if k == terms.term else 0,
            period_interest(terms.principal, terms, period_start, period_end),
            period_start,
            period_end,
        )
        for k, period_start, period_end, due in _periods(terms)
    )


def _bullet(terms: ScheduleTerms) -> tuple[Instalment, ...]:
    period_end = add_months(terms.start, terms.term)
    due = terms.calendar.shift(period_end, terms.convention)
    # Under 30/360 the whole term is n anchored months = 30n days: round(P × monthly × n).
    interest = period_interest(terms.principal, terms, terms.start, period_end)
    return (Instalment(1, due, terms.principal, interest, terms.start, period_end),)


_BUILDERS = {
    ScheduleMethod.EQUAL_INSTALMENT: _equal_instalment,
    ScheduleMethod.EQUAL_PRINCIPAL: _equal_principal,
    ScheduleMethod.INTEREST_FIRST: _interest_first,
    ScheduleMethod.BULLET: _bullet,
}


def build_schedule(terms: ScheduleTerms) -> tuple[Instalment, ...]:
    """The instalments of ``terms``, in order (seq 1…n; a bullet has one).

    Invariants (property-tested): principal parts sum exactly to ``terms.principal`` and none
    is negative; each period starts where the previous one ended; due dates are the period
    ends shifted under ``terms.convention``. Terms that cannot be amortised raise
    :class:`~arrears.kernel.errors.InvalidTerms` rather than being clamped into something the
    contract does not say.
    """
    _check_terms(terms)
    try:
        builder = _BUILDERS[ScheduleMethod(terms.method)]
    except ValueError:
        allowed = ", ".join(m.value for m in ScheduleMethod)
        raise InvalidTerms(
            f"method: {terms.method!r} is not a schedule method (expected {allowed})"
        ) from None
    return builder(terms)
