import re
from decimal import Decimal

import pytest
from babel.numbers import format_currency, get_decimal_symbol, get_group_symbol
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.formatting import UnknownLocale, babel_locale, format_money, format_rate
from arrears.kernel.errors import InvalidAmount
from arrears.kernel.money import CURRENCY_EXPONENTS, Money

ZH_SPELLINGS = ["zh-hans", "zh_Hans", "zh-Hans", "zh-CN", "zh_CN"]
EN_SPELLINGS = ["en", "en-US", "en-us", "en_US"]
LOCALES = [*ZH_SPELLINGS, *EN_SPELLINGS, "de", "fr-FR"]


def test_ten_thousand_yuan_in_chinese():
    assert format_money(Money(1_000_000, "CNY"), "zh-hans") == "¥10,000.00"


def test_ten_thousand_yuan_in_english_marks_the_currency_as_chinese():
    assert format_money(Money(1_000_000, "CNY"), "en") == "CN¥10,000.00"
    assert format_money(Money(123_456, "USD"), "en") == "$1,234.56"


@pytest.mark.parametrize("spelling", ZH_SPELLINGS)
def test_every_spelling_of_simplified_chinese_formats_alike(spelling):
    assert format_money(Money(-1_050, "CNY"), spelling) == "-¥10.50"


@pytest.mark.parametrize("spelling", EN_SPELLINGS)
def test_every_spelling_of_english_formats_alike(spelling):
    assert format_money(Money(-1_050, "USD"), spelling) == "-$10.50"


@pytest.mark.parametrize("locale", ["zh-hans", "en"])
def test_yen_shows_no_decimals(locale):
    text = format_money(Money(1_500, "JPY"), locale)
    assert "1,500" in text
    assert "." not in text


def test_three_decimal_currencies_show_all_three():
    assert format_money(Money(1_234, "KWD"), "en").endswith("1.234")


def test_decimals_come_from_the_kernel_even_where_cldr_rounds():
    # CLDR shows rupiah without decimals; the ledger keeps two, so Babel's default would hide
    # (and round) 56 sen that the borrower actually owes.
    assert format_currency(Decimal("1234.56"), "IDR", locale="en") == "IDR1,235"
    assert format_money(Money(123_456, "IDR"), "en") == "IDR1,234.56"


def test_amounts_beyond_28_digits_are_not_rounded():
    text = format_money(Money(10**30 + 7, "USD"), "en")
    assert text == "$10,000,000,000,000,000,000,000,000,000.07"


def read_back_minor(text: str) -> int:
    """The minor units a reader sees: every digit, in order, with the sign."""
    digits = re.sub(r"\D", "", text)
    return -int(digits) if "-" in text else int(digits)


@settings(max_examples=300)
@given(
    minor=st.integers(min_value=-(10**40), max_value=10**40),
    currency=st.sampled_from(sorted(CURRENCY_EXPONENTS)),
    locale=st.sampled_from(LOCALES),
)
def test_the_digits_shown_are_exactly_the_minor_units(minor, currency, locale):
    text = format_money(Money(minor, currency), locale)
    assert read_back_minor(text) == minor
    places = CURRENCY_EXPONENTS[currency]
    loc = babel_locale(locale)
    decimal_symbol = get_decimal_symbol(loc)
    if places:
        assert re.search(rf"{re.escape(decimal_symbol)}\d{{{places}}}(?!\d)", text)
    else:
        number = re.sub(r"[^\d" + re.escape(decimal_symbol) + "]", "", text)
        assert decimal_symbol not in number
    group = get_group_symbol(loc)
    assert group in text or abs(minor) < 10 ** (places + 3)


@pytest.mark.parametrize(
    ("rate", "shown"),
    [
        ("0.0005", "0.05%"),
        ("0.00075", "0.075%"),
        ("0.000123456789", "0.0123456789%"),
        ("0.05", "5%"),
        ("0.0500", "5%"),
        ("0.24", "24%"),
        ("0", "0%"),
        ("-0.001", "-0.1%"),
        ("12", "1,200%"),
    ],
)
def test_a_rate_shows_as_a_percentage_with_every_significant_digit(rate, shown):
    assert format_rate(Decimal(rate), "en") == shown
    assert format_rate(Decimal(rate), "zh-hans") == shown


def test_a_rate_follows_the_locale_separators():
    assert format_rate(Decimal("0.00075"), "de") == "0,075\xa0%"


@given(
    mantissa=st.integers(min_value=-(10**30), max_value=10**30),
    exp=st.integers(min_value=-20, max_value=2),
    locale=st.sampled_from(["en", "zh-hans"]),
)
def test_a_formatted_rate_reads_back_as_the_same_rate(mantissa, exp, locale):
    rate = Decimal(mantissa).scaleb(exp)
    text = format_rate(rate, locale)
    assert text.endswith("%")
    number = text[:-1].replace(",", "")
    assert Decimal(number).scaleb(-2) == rate
    if "." in number:
        assert not number.endswith("0")  # no padding beyond what the rate needs


def test_floats_are_refused():
    with pytest.raises(InvalidAmount):
        format_rate(0.0005, "en")  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount):
        format_rate(Decimal("NaN"), "en")
    with pytest.raises(InvalidAmount):
        format_money(10.5, "en")  # type: ignore[arg-type]


@pytest.mark.parametrize("code", ["xx", "", "  ", "zz-ZZ", "en-"])
def test_an_unknown_locale_is_a_typed_error(code):
    with pytest.raises(UnknownLocale) as caught:
        format_money(Money(1, "CNY"), code)
    assert caught.value.code == "format-unknown-locale"
    assert repr(code) in caught.value.message
