"""Repayment schedules: equal instalment, equal principal, interest-first and bullet.

Each instalment is rounded once under the schedule's named rule, and the last instalment takes
the residual so that principal parts always sum exactly to the loan. Interest accrues over the
unshifted period ``[period_start, period_end)``; only the due date moves to a business day.
"""

from __future__ import annotations

from datetime import date
from decimal import Context, Decimal

from arrears.kernel.calendar import add_months
from arrears.kernel.errors import InvalidTerms
from arrears.kernel.money import round_minor
from arrears.kernel.terms import DayCount, Instalment, ScheduleMethod, ScheduleTerms

#: Private precision for schedule arithmetic, independent of the caller's decimal context.
_CTX = Context(prec=40)


def period_interest(
    balance: int, terms: ScheduleTerms, period_start: date, period_end: date
) -> int:
    """Interest on ``balance`` for one period, rounded once.

    With ``30/360`` every regular period is 30 days: ``balance × monthly rate`` (daily × 30, or
    annual ÷ 12). With the actual conventions: ``balance × daily rate × actual days``.
    """
    if balance <= 0:
        return 0
    if terms.day_count is DayCount.THIRTY_360:
        exact = _CTX.multiply(Decimal(balance), terms.rate.monthly())
    else:
        days = (period_end - period_start).days
        daily = terms.rate.daily(terms.day_count)
        exact = _CTX.multiply(_CTX.multiply(Decimal(balance), daily), Decimal(days))
    return round_minor(exact, terms.rounding)


def annuity_payment(terms: ScheduleTerms) -> int:
    """The level payment ``P·r·(1+r)^n / ((1+r)^n − 1)`` at the nominal monthly rate, rounded."""
    principal, n = Decimal(terms.principal), terms.term
    r = terms.rate.monthly()
    if r == 0:
        return round_minor(_CTX.divide(principal, Decimal(n)), terms.rounding)
    growth = _CTX.power(_CTX.add(Decimal(1), r), n)
    exact = _CTX.divide(
        _CTX.multiply(_CTX.multiply(principal, r), growth), _CTX.subtract(growth, Decimal(1))
    )
    return round_minor(exact, terms.rounding)


def _periods(terms: ScheduleTerms) -> list[tuple[int, date, date, date]]:
    rows = []
    for k in range(1, terms.term + 1):
        start, end = add_months(terms.start, k - 1), add_months(terms.start, k)
        rows.append((k, start, end, terms.calendar.shift(end, terms.convention)))
    return rows


def build_schedule(terms: ScheduleTerms) -> tuple[Instalment, ...]:
    """The instalments of ``terms``; their principal always sums exactly to the loan."""
    if terms.method is ScheduleMethod.BULLET:
        end = add_months(terms.start, terms.term)
        if terms.day_count is DayCount.THIRTY_360:
            exact = _CTX.multiply(
                _CTX.multiply(Decimal(terms.principal), terms.rate.monthly()), Decimal(terms.term)
            )
            interest = round_minor(exact, terms.rounding)
        else:
            interest = period_interest(terms.principal, terms, terms.start, end)
        due = terms.calendar.shift(end, terms.convention)
        return (Instalment(1, due, terms.principal, interest, terms.start, end),)

    periods = _periods(terms)
    n = terms.term
    balance = terms.principal
    rows: list[Instalment] = []
    payment = annuity_payment(terms) if terms.method is ScheduleMethod.EQUAL_INSTALMENT else 0
    level_principal = round_minor(_CTX.divide(Decimal(terms.principal), Decimal(n)), terms.rounding)
    for k, start, end, due in periods:
        interest_base = (
            terms.principal if terms.method is ScheduleMethod.INTEREST_FIRST else balance
        )
        interest = period_interest(interest_base, terms, start, end)
        if k == n:
            principal = balance
        elif terms.method is ScheduleMethod.EQUAL_INSTALMENT:
            principal = payment - interest
        elif terms.method is ScheduleMethod.EQUAL_PRINCIPAL:
            principal = level_principal
        else:  # interest-first
            principal = 0
        if principal < 0 or principal > balance:
            raise InvalidTerms(
                f"instalment {k}: principal part {principal} is outside 0..{balance}; "
                "the rate is too high for this method and day count"
            )
        rows.append(Instalment(k, due, principal, interest, start, end))
        balance -= principal
    return tuple(rows)
