"""Showing money and rates to people, per locale, without losing a fen.

Babel supplies the locale's symbols, grouping and sign placement; the number of decimals always
comes from the kernel (:func:`arrears.kernel.money.exponent`), never from CLDR, so what a
borrower reads is exactly what the ledger holds. No value passes through ``float``.
"""

from __future__ import annotations

import copy
import functools
from decimal import Decimal, localcontext

from babel import Locale, UnknownLocaleError
from babel.numbers import NumberPattern, format_currency, format_percent

from arrears.kernel.errors import ArrearsError, InvalidAmount
from arrears.kernel.money import Money, exponent


class UnknownLocale(ArrearsError):
    code = "format-unknown-locale"


@functools.lru_cache(maxsize=64)
def babel_locale(code: str) -> Locale:
    """The Babel locale for a language code in any of the usual spellings: Django's
    ``zh-hans`` / ``en-us``, BCP 47's ``zh-CN``, or Babel's own ``zh_Hans``."""
    if not isinstance(code, str) or not code.strip():
        raise UnknownLocale(f"locale: {code!r} is not a language code (expected e.g. zh-hans, en)")
    try:
        return Locale.parse(code.strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        raise UnknownLocale(
            f"locale: {code!r} is not a known language code (expected e.g. zh-hans, zh-CN, en)"
        ) from None


def _with_decimals(pattern: NumberPattern, places: int) -> NumberPattern:
    """A copy of ``pattern`` that always shows exactly ``places`` decimals (the locale's cached
    pattern object itself is shared, so it is never modified)."""
    fixed = copy.copy(pattern)
    fixed.frac_prec = (places, places)
    return fixed


def _precision_for(value: Decimal) -> int:
    """A context precision that holds every digit of ``value`` (Babel quantizes in the
    current context, whose default 28 digits would reject a very large amount)."""
    return max(28, len(value.as_tuple().digits) + 10)


def format_money(money: Money, locale: str) -> str:
    """``money`` as the locale writes it, with exactly the currency's decimals.

    Example (also a test): ``format_money(Money(1000000, "CNY"), "zh-hans") == "¥10,000.00"``;
    in ``en`` the same amount is ``CN¥10,000.00``, and ``Money(1500, "JPY")`` shows no decimals.
    """
    if not isinstance(money, Money):
        raise InvalidAmount(f"format_money takes Money, not {type(money).__name__}")
    loc = babel_locale(locale)
    places = exponent(money.currency)
    pattern = _with_decimals(loc.currency_formats["standard"], places)
    with localcontext() as context:
        # Not ``money.amount``: its scaleb runs in the default 28-digit context and would
        # round an amount of more than 28 digits.
        amount = Decimal(money.minor)
        context.prec = _precision_for(amount)
        amount = amount.scaleb(-places)
        return format_currency(
            amount, money.currency, format=pattern, locale=loc, currency_digits=False
        )


def format_rate(rate: Decimal, locale: str) -> str:
    """A rate (a fraction: 0.0005 per day) as a percentage with every significant digit.

    Example (also a test): ``format_rate(Decimal("0.0005"), "en") == "0.05%"`` and
    ``format_rate(Decimal("0.00075"), "en") == "0.075%"``; trailing zeros are not shown, so
    ``Decimal("0.0500")`` is ``5%``.
    """
    if not isinstance(rate, Decimal):
        raise InvalidAmount(f"rate must be a Decimal, not {type(rate).__name__}")
    if not rate.is_finite():
        raise InvalidAmount(f"rate {rate} is not finite")
    loc = babel_locale(locale)
    with localcontext() as context:
        context.prec = _precision_for(rate)
        percent = rate.scaleb(2).normalize()
        places = max(0, -int(percent.as_tuple().exponent))  # an int: the rate is finite
        pattern = _with_decimals(loc.percent_formats[None], places)
        return format_percent(rate, format=pattern, locale=loc)
