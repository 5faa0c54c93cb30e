"""Cells as people read them and as files hold them (pure)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from arrears.kernel.money import Money
from arrears.reports.base import Column
from arrears.reports.cells import chart_value, exact, major_units, percent, show
from arrears.reports.export import exact_double

MONEY = Column("m", "m", "money")
RATE = Column("r", "r", "rate")


def test_a_rate_is_shown_as_a_percentage_rounded_half_up() -> None:
    assert percent(Decimal("0.123450")) == Decimal("12.35")
    assert show(Decimal("0.123449"), RATE, None, "en") == "12.34%"
    assert show(None, RATE, None, "en") == "–"
    assert exact(None, RATE, None) == ""
    assert chart_value(Decimal(1) / 3, RATE, None) == "33.33"


def test_money_is_shown_with_its_currency_and_written_in_major_units() -> None:
    assert show(123456, MONEY, "CNY", "zh-hans") == "¥1,234.56"
    assert exact(123456, MONEY, "CNY") == "1234.56"
    assert exact(-5, MONEY, "CNY") == "-0.05"
    assert exact(1500, MONEY, "JPY") == "1500"
    assert exact(1, MONEY, "KWD") == "0.001"


@given(st.integers(-(10**15) + 1, 10**15 - 1), st.sampled_from(["CNY", "JPY", "KWD", "USD"]))
def test_a_written_amount_parses_back_to_the_same_minor_units(minor: int, currency: str) -> None:
    text = exact(minor, MONEY, currency)
    assert Money.parse(text, currency).minor == minor
    # and the XLSX's double reads back as exactly the same decimal
    number = exact_double(major_units(minor, currency))
    assert number is not None and Decimal(repr(number)) == Decimal(text)


def test_an_amount_a_double_cannot_hold_is_not_made_a_number() -> None:
    assert exact_double(Decimal("12345678901234567.89")) is None
