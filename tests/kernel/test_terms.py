from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from arrears.kernel.terms import DayCount, InterestRate, RateBasis


def test_an_annual_rate_becomes_a_daily_rate_rounded_to_ten_places():
    assert InterestRate(Decimal("0.18"), RateBasis.ANNUAL).daily(DayCount.ACTUAL_365) == Decimal(
        "0.0004931507"
    )
    assert InterestRate(Decimal("0.18"), RateBasis.ANNUAL).daily(DayCount.ACTUAL_360) == Decimal(
        "0.0005"
    )
    assert InterestRate(Decimal("0.0005"), RateBasis.DAILY).daily(DayCount.ACTUAL_365) == Decimal(
        "0.0005"
    )


@given(st.decimals(min_value=0, max_value=1, places=6), st.sampled_from(list(DayCount)))
def test_daily_rates_from_annual_are_short_exact_decimals_within_half_a_unit(annual, day_count):
    daily = InterestRate(annual, RateBasis.ANNUAL).daily(day_count)
    assert daily.as_tuple().exponent >= -10
    assert abs(daily - annual / day_count.year_days) <= Decimal("0.5e-10")
