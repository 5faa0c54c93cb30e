"""Hand-built loans for kernel tests, independent of the schedule builder under test elsewhere."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from arrears.kernel.calendar import add_months
from arrears.kernel.terms import (
    DayCount,
    Instalment,
    InterestRate,
    LoanTerms,
    ProductTerms,
    RateBasis,
)

DAILY = Decimal("0.0005")


def level_schedule(
    principal: int, term: int, start: date, interest_each: int
) -> tuple[Instalment, ...]:
    """Equal principal parts (residual last) and a fixed interest amount per instalment."""
    part = principal // term
    rows = []
    for k in range(1, term + 1):
        amount = principal - part * (term - 1) if k == term else part
        rows.append(
            Instalment(
                seq=k,
                due_date=add_months(start, k),
                principal=amount,
                interest=interest_each,
                period_start=add_months(start, k - 1),
                period_end=add_months(start, k),
            )
        )
    return tuple(rows)


def make_loan(
    *,
    principal: int = 1_000_000,
    term: int = 12,
    start: date = date(2026, 1, 15),
    interest_each: int = 15_000,
    daily_rate: Decimal = DAILY,
    product: ProductTerms | None = None,
    ref: str = "L1",
) -> LoanTerms:
    return LoanTerms(
        ref=ref,
        currency="CNY",
        principal=principal,
        start=start,
        rate=InterestRate(daily_rate, RateBasis.DAILY),
        day_count=DayCount.THIRTY_360,
        schedule=level_schedule(principal, term, start, interest_each),
        product=product or ProductTerms(),
    )
