from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from arrears.kernel.accrual import PenaltyAccrual, cost_cap, daily_amount, interest_for_days_used
from arrears.kernel.money import Rounding
from arrears.kernel.terms import AccrualRounding

RATE = Decimal("0.00075")


def test_daily_amount_rounds_half_up_per_day():
    assert daily_amount(83_333, RATE, Rounding.HALF_UP) == 62  # 62.49975
    assert daily_amount(200_000, RATE, Rounding.HALF_UP) == 150


def test_interest_for_days_used_is_capped_at_the_scheduled_interest():
    assert (
        interest_for_days_used(1_000_000, Decimal("0.0005"), 10, 15_000, Rounding.HALF_UP) == 5_000
    )
    assert (
        interest_for_days_used(1_000_000, Decimal("0.0005"), 31, 15_000, Rounding.HALF_UP) == 15_000
    )
    assert interest_for_days_used(1_000_000, Decimal("0.0005"), 0, 15_000, Rounding.HALF_UP) == 0


def test_cost_cap_is_pro_rated_and_truncated():
    # 10,000.00 × 24 % × 100 / 365 = 657.534… → 657.53
    assert cost_cap(1_000_000, Decimal("0.24"), date(2026, 1, 1), date(2026, 4, 11)) == 65_753


@given(
    st.lists(st.tuples(st.integers(1, 30), st.integers(0, 10**9)), min_size=1, max_size=10),
    st.sampled_from(list(AccrualRounding)),
)
def test_accrual_total_equals_the_sum_of_its_explained_periods(runs, mode):
    acc = PenaltyAccrual(RATE, Rounding.HALF_UP, mode)
    day = date(2026, 1, 1)
    for days, base in runs:
        acc.add(day, days, base)
        day += timedelta(days=days)
    periods = acc.periods()
    assert acc.total == sum(p.amount for p in periods)
    for p in periods:
        if mode is AccrualRounding.DAILY:
            assert p.amount == p.days * daily_amount(p.base, RATE, Rounding.HALF_UP)
        else:
            exact = p.days * p.base * RATE
            assert abs(p.amount - exact) <= Decimal("0.5")


@given(st.integers(0, 10**9), st.integers(1, 400))
def test_daily_rounding_is_days_times_the_rounded_daily_amount(base, days):
    acc = PenaltyAccrual(RATE, Rounding.HALF_UP, AccrualRounding.DAILY)
    acc.add(date(2026, 1, 1), days, base)
    assert acc.total == days * daily_amount(base, RATE, Rounding.HALF_UP)
