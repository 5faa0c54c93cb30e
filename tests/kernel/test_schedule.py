"""Repayment schedules: hand checks against the closed formulas, month-end anchoring, day counts,
business-day shifting, and the invariant that principal parts always sum to the loan."""

from __future__ import annotations

import calendar as stdlib_calendar
import decimal
from dataclasses import replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.kernel.calendar import (
    ALL_DAYS,
    WEEKENDS,
    BusinessCalendar,
    BusinessDayConvention,
    add_months,
)
from arrears.kernel.errors import InvalidTerms
from arrears.kernel.money import Rounding
from arrears.kernel.schedule import (
    accrual_days,
    annuity_payment,
    build_schedule,
    period_interest,
)
from arrears.kernel.terms import (
    DayCount,
    Instalment,
    InterestRate,
    RateBasis,
    ScheduleMethod,
    ScheduleTerms,
)

CENT = Decimal("0.01")
DAILY = InterestRate(Decimal("0.0005"), RateBasis.DAILY)
ANNUAL = InterestRate(Decimal("0.18"), RateBasis.ANNUAL)
START = date(2026, 1, 15)


def terms(
    method: ScheduleMethod,
    *,
    principal: int = 1_000_000,
    rate: InterestRate = DAILY,
    term: int = 12,
    start: date = START,
    day_count: DayCount = DayCount.THIRTY_360,
    rounding: Rounding = Rounding.HALF_UP,
    calendar: BusinessCalendar = ALL_DAYS,
    convention: BusinessDayConvention = BusinessDayConvention.NONE,
) -> ScheduleTerms:
    return ScheduleTerms(
        principal=principal,
        currency="CNY",
        rate=rate,
        term=term,
        method=method,
        start=start,
        day_count=day_count,
        rounding=rounding,
        calendar=calendar,
        convention=convention,
    )


def yuan(value: Decimal) -> int:
    """A major-unit Decimal rounded half-up to the fen, as an int of fen."""
    return int(value.quantize(CENT, rounding=ROUND_HALF_UP) * 100)


def balances_before(schedule: tuple[Instalment, ...], principal: int) -> list[int]:
    """The outstanding principal at the start of each period, read off the schedule."""
    out, balance = [], principal
    for row in schedule:
        out.append(balance)
        balance -= row.principal
    return out


# --- hand checks: 10,000.00 CNY at 0.05 % a day (1.5 % a month), 12 months, 30/360 ----------


def test_equal_instalment_matches_the_annuity_formula_by_hand():
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        r, n = Decimal("0.015"), 12
        growth = (1 + r) ** n
        payment = yuan(Decimal(10000) * r * growth / (growth - 1))
    assert payment == 91_680  # 916.7999… → 916.80

    schedule = build_schedule(terms(ScheduleMethod.EQUAL_INSTALMENT))

    assert len(schedule) == 12
    first = schedule[0]
    assert (first.interest, first.principal, first.total) == (15_000, 76_680, 91_680)
    assert schedule[1].interest == 13_850  # (10000 − 766.80) × 1.5 % = 138.498 → 138.50
    assert [row.total for row in schedule[:-1]] == [payment] * 11
    for row, balance in zip(schedule, balances_before(schedule, 1_000_000), strict=True):
        assert row.interest == yuan(Decimal(balance) / 100 * Decimal("0.015"))
    last = schedule[-1]
    assert last.principal == 1_000_000 - sum(row.principal for row in schedule[:-1])
    assert abs(last.total - payment) <= 1  # only the residual of rounding
    assert sum(row.principal for row in schedule) == 1_000_000
    assert annuity_payment(terms(ScheduleMethod.EQUAL_INSTALMENT)) == payment


def test_equal_principal_repays_833_33_a_month_and_the_residual_last():
    schedule = build_schedule(terms(ScheduleMethod.EQUAL_PRINCIPAL))

    assert [row.principal for row in schedule] == [83_333] * 11 + [83_337]
    assert schedule[0].interest == 15_000
    for k, row in enumerate(schedule, start=1):
        balance = Decimal(10000) - Decimal("833.33") * (k - 1)
        assert row.interest == yuan(balance * Decimal("0.015"))


def test_interest_first_charges_full_interest_and_repays_at_the_end():
    schedule = build_schedule(terms(ScheduleMethod.INTEREST_FIRST))

    assert [row.interest for row in schedule] == [15_000] * 12
    assert [row.principal for row in schedule] == [0] * 11 + [1_000_000]


def test_bullet_is_one_instalment_with_interest_for_the_whole_term():
    (only,) = build_schedule(terms(ScheduleMethod.BULLET))
    assert (only.seq, only.period_start, only.period_end) == (1, START, date(2027, 1, 15))
    assert (only.principal, only.interest) == (1_000_000, 180_000)  # 10000 × 1.5 % × 12

    (actual,) = build_schedule(terms(ScheduleMethod.BULLET, day_count=DayCount.ACTUAL_360))
    assert actual.interest == 182_500  # 10000 × 0.05 % × 365 days


@pytest.mark.parametrize("method", list(ScheduleMethod))
def test_annual_18_percent_on_30_360_is_the_same_schedule_as_daily_0_05_percent(method):
    assert build_schedule(terms(method, rate=ANNUAL)) == build_schedule(terms(method, rate=DAILY))


# --- dates ------------------------------------------------------------------------------


def test_a_month_end_loan_falls_due_on_each_month_end_without_drift():
    schedule = build_schedule(terms(ScheduleMethod.EQUAL_PRINCIPAL, start=date(2024, 1, 31)))

    assert [row.due_date for row in schedule[:4]] == [
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
    ]
    assert schedule[-1].due_date == date(2025, 1, 31)
    # Under 30/360 every regular period is 30 days, February's 29 (Jan 31 → Feb 29) included.
    assert schedule[0].interest == 15_000
    assert schedule[1].interest == yuan((Decimal(10000) - Decimal("833.33")) * Decimal("0.015"))


def test_periods_are_contiguous_and_each_due_date_ends_its_period():
    schedule = build_schedule(terms(ScheduleMethod.EQUAL_INSTALMENT, start=date(2024, 1, 31)))
    assert schedule[0].period_start == date(2024, 1, 31)
    for before, after in pairwise(schedule):
        assert after.period_start == before.period_end
    assert all(row.due_date == row.period_end for row in schedule)


def test_actual_365_interest_for_a_31_day_period_uses_31_days():
    schedule = build_schedule(
        terms(ScheduleMethod.INTEREST_FIRST, start=date(2026, 1, 1), day_count=DayCount.ACTUAL_365)
    )
    # Jan 1 → Feb 1 is 31 days, Feb 1 → Mar 1 is 28: 10000 × 0.05 % × days.
    assert schedule[0].interest == 15_500
    assert schedule[1].interest == 14_000

    annual = build_schedule(
        terms(
            ScheduleMethod.INTEREST_FIRST,
            start=date(2026, 1, 1),
            day_count=DayCount.ACTUAL_365,
            rate=ANNUAL,
        )
    )
    assert annual[0].interest == yuan(Decimal(10000) * Decimal("0.18") * 31 / 365)  # 152.88


def test_due_dates_shift_but_interest_accrues_on_the_unshifted_period():
    # 2026-02-15 is a Sunday: following moves the due date to Monday the 16th.
    schedule = build_schedule(
        terms(
            ScheduleMethod.INTEREST_FIRST,
            day_count=DayCount.ACTUAL_365,
            calendar=WEEKENDS,
            convention=BusinessDayConvention.FOLLOWING,
        )
    )
    assert schedule[0].due_date == date(2026, 2, 16)
    assert schedule[0].period_end == date(2026, 2, 15)
    assert schedule[1].period_start == date(2026, 2, 15)
    assert schedule[0].interest == 1_000_000 * 31 * 5 // 10_000  # Jan 15 → Feb 15, 31 days


def test_modified_following_stays_in_the_month():
    # 2026-02-28 is a Saturday; following would cross into March, so the Friday is taken.
    schedule = build_schedule(
        terms(
            ScheduleMethod.EQUAL_PRINCIPAL,
            start=date(2026, 1, 31),
            calendar=WEEKENDS,
            convention=BusinessDayConvention.MODIFIED_FOLLOWING,
        )
    )
    assert schedule[0].due_date == date(2026, 2, 27)


def test_accrual_days_counts_anchored_months_as_30_days_under_30_360():
    assert accrual_days(DayCount.THIRTY_360, date(2024, 1, 31), date(2024, 2, 29)) == 30
    assert accrual_days(DayCount.THIRTY_360, date(2024, 2, 29), date(2024, 3, 31)) == 30
    assert accrual_days(DayCount.THIRTY_360, date(2026, 2, 28), date(2026, 3, 29)) == 30
    assert accrual_days(DayCount.THIRTY_360, date(2026, 1, 15), date(2026, 4, 15)) == 90
    assert accrual_days(DayCount.THIRTY_360, date(2026, 1, 15), date(2026, 1, 25)) == 10
    assert accrual_days(DayCount.THIRTY_360, date(2026, 1, 15), date(2026, 3, 20)) == 65
    assert accrual_days(DayCount.ACTUAL_365, date(2024, 1, 31), date(2024, 2, 29)) == 29
    with pytest.raises(InvalidTerms, match="before period start"):
        accrual_days(DayCount.ACTUAL_360, date(2026, 2, 1), date(2026, 1, 1))


# --- period_interest --------------------------------------------------------------------


def test_period_interest_is_one_rounding_of_balance_times_rate():
    t = terms(ScheduleMethod.EQUAL_INSTALMENT)
    assert period_interest(1_000_000, t, START, date(2026, 2, 15)) == 15_000
    assert period_interest(923_320, t, START, date(2026, 2, 15)) == 13_850  # 13849.8
    assert period_interest(0, t, START, date(2026, 2, 15)) == 0


def test_period_interest_on_an_annual_rate_is_exact_before_rounding():
    # 10000 × 18 % × 30 / 360 is exactly 150.00 under actual/360 (a 30-day April period).
    t = terms(ScheduleMethod.EQUAL_INSTALMENT, rate=ANNUAL, day_count=DayCount.ACTUAL_360)
    assert period_interest(1_000_000, t, date(2026, 4, 1), date(2026, 5, 1)) == 15_000
    # 333 × 18 % × 5 / 365 = 0.8210… fen; ceiling takes it to 1, down to 0.
    up = terms(ScheduleMethod.BULLET, rate=ANNUAL, day_count=DayCount.ACTUAL_365)
    rounding_up = replace(up, rounding=Rounding.CEILING)
    rounding_down = replace(up, rounding=Rounding.DOWN)
    assert period_interest(333, rounding_up, date(2026, 1, 1), date(2026, 1, 6)) == 1
    assert period_interest(333, rounding_down, date(2026, 1, 1), date(2026, 1, 6)) == 0


def test_period_interest_refuses_a_negative_balance():
    with pytest.raises(InvalidTerms, match="non-negative"):
        period_interest(-1, terms(ScheduleMethod.BULLET), START, date(2026, 2, 15))


def test_the_result_does_not_depend_on_the_global_decimal_context():
    expected = {m: build_schedule(terms(m, rate=ANNUAL)) for m in ScheduleMethod}
    with decimal.localcontext() as ctx:
        ctx.prec = 6
        ctx.rounding = decimal.ROUND_DOWN
        for method, schedule in expected.items():
            assert build_schedule(terms(method, rate=ANNUAL)) == schedule


def test_rounding_rule_is_applied_to_the_principal_part():
    # 26 fen over 4 months: 6.5 per month rounds to 7 half-up but to 6 half-even.
    half_up = build_schedule(terms(ScheduleMethod.EQUAL_PRINCIPAL, principal=26, term=4))
    half_even = build_schedule(
        terms(ScheduleMethod.EQUAL_PRINCIPAL, principal=26, term=4, rounding=Rounding.HALF_EVEN)
    )
    assert [row.principal for row in half_up] == [7, 7, 7, 5]
    assert [row.principal for row in half_even] == [6, 6, 6, 8]


# --- terms that cannot be amortised -------------------------------------------------------


def test_equal_instalment_refuses_a_negative_principal_part_instead_of_clamping():
    # 18 % a year on actual/365 over 30 years: the first 31-day month's interest (152.88 per
    # 10000) is more than the level payment at the nominal 1.5 % a month leaves for it.
    bad = terms(
        ScheduleMethod.EQUAL_INSTALMENT, rate=ANNUAL, term=360, day_count=DayCount.ACTUAL_365
    )
    with pytest.raises(InvalidTerms, match=r"instalment 1 would repay -\d+ of principal"):
        build_schedule(bad)


def test_equal_principal_refuses_a_principal_too_small_to_split():
    # 5 fen over 10 months: round(0.5) = 1 a month would leave −4 for the last.
    with pytest.raises(InvalidTerms, match="cannot be split into 10 parts"):
        build_schedule(terms(ScheduleMethod.EQUAL_PRINCIPAL, principal=5, term=10))


def test_a_non_finite_rate_is_refused():
    with pytest.raises(InvalidTerms, match="not a finite number"):
        build_schedule(
            terms(ScheduleMethod.BULLET, rate=InterestRate(Decimal("Infinity"), RateBasis.DAILY))
        )


def test_an_interest_too_large_to_be_exact_is_refused_not_rounded():
    huge = terms(
        ScheduleMethod.BULLET, principal=10**29, rate=InterestRate(Decimal(1), RateBasis.DAILY)
    )
    with pytest.raises(InvalidTerms, match="too large"):
        build_schedule(huge)


# --- properties ---------------------------------------------------------------------------


@st.composite
def start_dates(draw: st.DrawFn) -> date:
    """Any date 2000–2040, with month ends (28th–31st) drawn often."""
    year = draw(st.integers(2000, 2040))
    month = draw(st.integers(1, 12))
    last = stdlib_calendar.monthrange(year, month)[1]
    day = draw(st.one_of(st.integers(1, last), st.integers(28, last)))
    return date(year, month, day)


rates = st.one_of(
    st.decimals(min_value=0, max_value=Decimal("0.001"), places=7).map(
        lambda v: InterestRate(v, RateBasis.DAILY)
    ),
    st.decimals(min_value=0, max_value=Decimal("0.36"), places=4).map(
        lambda v: InterestRate(v, RateBasis.ANNUAL)
    ),
)
calendars = st.sampled_from([ALL_DAYS, WEEKENDS])


def check_schedule(t: ScheduleTerms, schedule: tuple[Instalment, ...]) -> None:
    """Invariants of every schedule, whatever the method."""
    assert sum(row.principal for row in schedule) == t.principal
    assert all(row.principal >= 0 and row.interest >= 0 for row in schedule)
    if t.method is ScheduleMethod.BULLET:
        (only,) = schedule
        assert (only.seq, only.period_start) == (1, t.start)
        assert only.period_end == add_months(t.start, t.term)
    else:
        assert [row.seq for row in schedule] == list(range(1, t.term + 1))
        for k, row in enumerate(schedule, start=1):
            assert row.period_start == add_months(t.start, k - 1)
            assert row.period_end == add_months(t.start, k)
    for row in schedule:
        assert row.due_date == t.calendar.shift(row.period_end, t.convention)
        assert t.calendar.is_business_day(row.due_date) or t.convention == "none"
        assert abs(row.due_date - row.period_end) <= timedelta(days=3)


@settings(max_examples=150, deadline=None)
@given(
    principal=st.integers(100_000, 10**13),
    rate=rates,
    term=st.integers(1, 60),
    method=st.sampled_from(list(ScheduleMethod)),
    day_count=st.sampled_from(list(DayCount)),
    rounding=st.sampled_from(list(Rounding)),
    start=start_dates(),
    calendar=calendars,
    convention=st.sampled_from(list(BusinessDayConvention)),
)
def test_realistic_terms_always_give_a_schedule_whose_principal_sums_to_the_loan(
    principal, rate, term, method, day_count, rounding, start, calendar, convention
):
    t = ScheduleTerms(
        principal, "CNY", rate, term, method, start, day_count, rounding, calendar, convention
    )
    check_schedule(t, build_schedule(t))


@settings(max_examples=100, deadline=None)
@given(
    principal=st.integers(1, 10**13),
    rate=st.one_of(
        rates,
        st.decimals(min_value=0, max_value=Decimal("0.01"), places=6).map(
            lambda v: InterestRate(v, RateBasis.DAILY)
        ),
    ),
    term=st.integers(1, 600),
    method=st.sampled_from(list(ScheduleMethod)),
    day_count=st.sampled_from(list(DayCount)),
    rounding=st.sampled_from(list(Rounding)),
    start=start_dates(),
)
def test_any_terms_give_a_valid_schedule_or_a_clear_refusal(
    principal, rate, term, method, day_count, rounding, start
):
    t = ScheduleTerms(principal, "CNY", rate, term, method, start, day_count, rounding)
    try:
        schedule = build_schedule(t)
    except InvalidTerms as error:
        # Only the two amortising methods can be impossible, and they say which and why.
        assert method in (ScheduleMethod.EQUAL_INSTALMENT, ScheduleMethod.EQUAL_PRINCIPAL)
        assert str(error).startswith(method.value)
        return
    check_schedule(t, schedule)


@settings(max_examples=100, deadline=None)
@given(
    principal=st.integers(1, 10**12),
    term=st.integers(1, 600),
    rounding=st.sampled_from(list(Rounding)),
)
def test_equal_principal_refuses_exactly_when_the_last_part_would_be_negative(
    principal, term, rounding
):
    t = terms(ScheduleMethod.EQUAL_PRINCIPAL, principal=principal, term=term, rounding=rounding)
    modes = {
        Rounding.HALF_UP: decimal.ROUND_HALF_UP,
        Rounding.HALF_EVEN: decimal.ROUND_HALF_EVEN,
        Rounding.DOWN: decimal.ROUND_DOWN,
        Rounding.UP: decimal.ROUND_UP,
        Rounding.FLOOR: decimal.ROUND_FLOOR,
        Rounding.CEILING: decimal.ROUND_CEILING,
    }
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        part = int((Decimal(principal) / term).quantize(Decimal(1), rounding=modes[rounding]))
    if principal - part * (term - 1) < 0:
        with pytest.raises(InvalidTerms):
            build_schedule(t)
    else:
        schedule = build_schedule(t)
        assert [row.principal for row in schedule[:-1]] == [part] * (term - 1)
        assert schedule[-1].principal == principal - part * (term - 1)
