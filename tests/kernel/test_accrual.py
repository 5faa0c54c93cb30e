from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from arrears.kernel.accrual import (
    PenaltyAccrual,
    RunningTotalAccrual,
    cost_cap,
    daily_amount,
    interest_for_days_used,
)
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


def test_running_total_rounds_the_exact_sum_once_and_its_lines_are_its_steps():
    """Rule ``running total under a cost cap``: 0.675 + 1.575 fen on two bases → 2.25 → 2 fen
    (runs rounded one by one would charge 1 + 2); the lines are the steps 1 and 1."""
    acc = RunningTotalAccrual(Decimal("0.00075"), Rounding.HALF_UP, AccrualRounding.PERIOD)
    acc.add(date(2026, 3, 1), 3, 300)  # 3 × 300 × 0.075 % = 0.675
    acc.add(date(2026, 3, 4), 7, 300)  # continues the run: 10 days = 2.25
    acc.add(date(2026, 3, 11), 1, 1200)  # 0.9 more: 3.15
    assert acc.exact == Decimal("3.15") and acc.total == 3
    assert [(p.days, p.base, p.amount) for p in acc.periods()] == [(10, 300, 2), (1, 1200, 1)]
    assert sum(p.amount for p in acc.periods()) == acc.total


def test_running_total_is_clamped_exactly_to_the_room_the_cap_leaves():
    """922 × 0.075 % = 0.6915 fen a day. With room for 1 fen the first day fits whole; the
    second would reach 1.383, so it adds exactly 0.3085 and is a capped line of its own; with
    no room left (or less than the total already) a day adds nothing."""
    acc = RunningTotalAccrual(Decimal("0.00075"), Rounding.HALF_UP, AccrualRounding.PERIOD)
    acc.add_within(date(2024, 2, 2), 922, 1)
    acc.add_within(date(2024, 2, 3), 922, 1)
    assert acc.exact == 1 and acc.total == 1
    acc.add_within(date(2024, 2, 4), 922, 0)
    assert acc.exact == 1
    lines = [(p.start.day, p.amount, p.capped) for p in acc.periods()]
    assert lines == [(2, 1, False), (3, 0, True), (4, 0, True)]
    acc.add_within(date(2024, 2, 5), 922, 3)  # fits: 1.6915 → 2
    assert (acc.exact, acc.total) == (Decimal("1.6915"), 2)
