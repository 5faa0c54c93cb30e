from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.kernel.errors import CurrencyMismatch, InvalidAmount, UnknownCurrency
from arrears.kernel.money import Money, Rounding, round_minor, total

minor = st.integers(min_value=-(10**15), max_value=10**15)


def test_parse_reads_major_units_exactly():
    assert Money.parse("10000.00", "CNY") == Money(1_000_000, "CNY")
    assert Money.parse("0.01", "USD") == Money(1, "USD")
    assert Money.parse("1500", "JPY") == Money(1500, "JPY")


@pytest.mark.parametrize(
    ("text", "currency"),
    [
        ("1.005", "CNY"),
        ("1.5", "JPY"),
        ("abc", "CNY"),
        ("", "CNY"),
        ("NaN", "USD"),
        ("Infinity", "USD"),
    ],
)
def test_parse_rejects_what_it_cannot_represent(text, currency):
    with pytest.raises(InvalidAmount):
        Money.parse(text, currency)


def test_unknown_currency_is_refused():
    with pytest.raises(UnknownCurrency):
        Money(1, "XYZ")


def test_float_is_never_money():
    with pytest.raises(InvalidAmount):
        Money(1.0, "CNY")  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount):
        Money.parse(1.5, "CNY")  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount):
        Money(100, "CNY").times(1.5, Rounding.HALF_UP)  # type: ignore[arg-type]


def test_arithmetic_across_currencies_raises():
    with pytest.raises(CurrencyMismatch):
        Money(1, "CNY") + Money(1, "USD")
    with pytest.raises(CurrencyMismatch):
        _ = Money(1, "CNY") < Money(2, "USD")


@given(minor, minor)
def test_addition_and_subtraction_are_exact_inverses(a, b):
    x, y = Money(a, "CNY"), Money(b, "CNY")
    assert (x + y) - y == x
    assert (x + y).minor == a + b


@given(minor)
def test_parse_round_trips_through_the_decimal_view(a):
    m = Money(a, "CNY")
    assert Money.parse(str(m.amount), "CNY") == m


@pytest.mark.parametrize(
    ("value", "rule", "expected"),
    [
        ("0.5", Rounding.HALF_UP, 1),
        ("0.5", Rounding.HALF_EVEN, 0),
        ("1.5", Rounding.HALF_EVEN, 2),
        ("-0.5", Rounding.HALF_UP, -1),
        ("0.49999", Rounding.HALF_UP, 0),
        ("0.01", Rounding.UP, 1),
        ("0.99", Rounding.DOWN, 0),
        ("-0.01", Rounding.FLOOR, -1),
        ("-0.99", Rounding.CEILING, 0),
    ],
)
def test_round_minor_applies_the_named_rule(value, rule, expected):
    assert round_minor(Decimal(value), rule) == expected


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=6), st.sampled_from(list(Rounding)))
def test_rounding_moves_less_than_one_minor_unit(value, rule):
    assert abs(Decimal(round_minor(value, rule)) - value) < 1


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=1, max_value=400))
def test_split_sums_exactly_and_parts_differ_by_at_most_one(a, parts):
    pieces = Money(a, "CNY").split(parts)
    assert total(pieces, "CNY") == Money(a, "CNY")
    assert max(p.minor for p in pieces) - min(p.minor for p in pieces) <= 1


def test_times_rounds_a_rate_product_with_the_named_rule():
    # 833.33 × 0.075 % = 0.62499750 → 0.62 half-up
    assert Money(83_333, "CNY").times(Decimal("0.00075"), Rounding.HALF_UP) == Money(62, "CNY")
    assert Money(83_333, "CNY").times(Decimal("0.00075"), Rounding.UP) == Money(63, "CNY")


def test_huge_amounts_keep_every_digit():
    assert str(Money(10**30 + 7, "USD").amount) == "10000000000000000000000000000.07"
    assert Money.parse("10000000000000000000000000000.07", "USD").minor == 10**30 + 7
