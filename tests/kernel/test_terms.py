from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.kernel.errors import InvalidTerms
from arrears.kernel.money import Rounding
from arrears.kernel.terms import (
    PRINCIPAL_FIRST,
    AccrualRounding,
    Bucket,
    DayCount,
    Instalment,
    InterestRate,
    LoanTerms,
    ProductTerms,
    RateBasis,
    loan_terms_from,
    product_terms_from,
)


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


# --- the one builder of ProductTerms / LoanTerms from stored rows ---------------------------


def _product_row(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "code": "PL",
        "version": 3,
        "penalty_multiplier": Decimal("1.5"),
        "compound": True,
        "grace_days": 2,
        "grace_retroactive": False,
        "cost_cap_annual": Decimal("0.24"),
        "rounding": "half-even",
        "accrual_rounding": "period",
        "allocation_order": "principal,interest,penalty,compound",
        "tolerance_minor": 5,
        "buckets": '[{"name": "C", "min_dpd": 0, "max_dpd": 0},'
        ' {"name": "X", "min_dpd": 1, "max_dpd": null}]',
    }
    row.update(changes)
    return row


def test_a_product_row_becomes_the_kernel_terms_it_names():
    terms = product_terms_from(_product_row())
    assert terms == ProductTerms(
        penalty_multiplier=Decimal("1.5"),
        compound=True,
        grace_days=2,
        cost_cap_annual=Decimal("0.24"),
        rounding=Rounding.HALF_EVEN,
        accrual_rounding=AccrualRounding.PERIOD,
        allocation_order=PRINCIPAL_FIRST,
        tolerance=5,
        buckets=(Bucket("C", 0, 0), Bucket("X", 1, None)),
    )


def test_buckets_may_be_json_text_or_the_list_a_json_field_gives():
    as_list = [{"name": "C", "min_dpd": 0, "max_dpd": None}]
    assert product_terms_from(_product_row(buckets=as_list)).buckets == (Bucket("C", 0, None),)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"rounding": "sideways"}, r"product PL v3: 'sideways' is not a valid Rounding"),
        ({"buckets": "[{"}, r"product PL v3: buckets: not valid JSON"),
        ({"penalty_multiplier": 1.5}, r"product PL v3: penalty_multiplier: expected an exact"),
        ({"allocation_order": "penalty"}, r"allocation_order: must name each"),
    ],
)
def test_a_product_row_the_kernel_refuses_is_invalid_terms_naming_it(changes, message):
    with pytest.raises(InvalidTerms, match=message):
        product_terms_from(_product_row(**changes))


LOAN_ROW = {
    "ref": "L-1",
    "currency": "CNY",
    "principal_minor": 1000,
    "rate_value": Decimal("0.000500000000"),
    "rate_basis": "daily",
    "day_count": "30/360",
    "start_date": date(2026, 1, 1),
}
SCHEDULE = (Instalment(1, date(2026, 2, 1), 1000, 15, date(2026, 1, 1), date(2026, 2, 1)),)


def test_a_loan_row_becomes_loan_terms_with_its_product_and_schedule():
    product = ProductTerms(grace_days=1)
    terms = loan_terms_from(LOAN_ROW, product, iter(SCHEDULE))
    assert terms == LoanTerms(
        ref="L-1",
        currency="CNY",
        principal=1000,
        start=date(2026, 1, 1),
        rate=InterestRate(Decimal("0.0005"), RateBasis.DAILY),
        day_count=DayCount.THIRTY_360,
        schedule=SCHEDULE,
        product=product,
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"rate_basis": "weekly"}, r"loan L-1: 'weekly' is not a valid RateBasis"),
        ({"day_count": "1/1"}, r"loan L-1: '1/1' is not a valid DayCount"),
        ({"rate_value": 0.0005}, r"loan L-1: rate_value: expected an exact decimal"),
        ({"principal_minor": 999}, r"schedule principal does not sum"),
    ],
)
def test_a_loan_row_the_kernel_refuses_is_invalid_terms_naming_it(changes, message):
    with pytest.raises(InvalidTerms, match=message):
        loan_terms_from({**LOAN_ROW, **changes}, ProductTerms(), SCHEDULE)
