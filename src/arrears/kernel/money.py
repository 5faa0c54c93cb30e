"""Exact money: integer minor units tagged with an ISO 4217 currency.

Every amount in Arrears is an ``int`` count of the currency's minor unit (fen, cent). Decimals
appear only transiently, when a rate multiplies an amount, and are turned back into minor units
by :func:`round_minor` under a named :class:`Rounding` rule. There is exactly one way to make a
``Money`` from text (:meth:`Money.parse`) and it never goes through ``float``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Context,
    Decimal,
    InvalidOperation,
)
from enum import StrEnum

from arrears.kernel.errors import CurrencyMismatch, InvalidAmount, UnknownCurrency

# ISO 4217 minor-unit exponents for the currencies a lender is likely to book. Kept here rather
# than read from Babel so that the kernel stays standard-library only; a currency missing from
# this table is rejected loudly instead of being guessed as two decimals.
CURRENCY_EXPONENTS: dict[str, int] = {
    "CNY": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "MOP": 2,
    "TWD": 2,
    "SGD": 2,
    "AUD": 2,
    "CAD": 2,
    "CHF": 2,
    "INR": 2,
    "IDR": 2,
    "PHP": 2,
    "THB": 2,
    "MYR": 2,
    "MXN": 2,
    "BRL": 2,
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "BHD": 3,
    "KWD": 3,
}


def exponent(currency: str) -> int:
    """Number of decimal places of ``currency``'s minor unit (CNY → 2, JPY → 0)."""
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise UnknownCurrency(
            f"unknown currency {currency!r}: expected an ISO 4217 code such as CNY or USD"
        ) from None


class Rounding(StrEnum):
    """Named rounding rules; every conversion from a Decimal to minor units names one.

    ``half-up`` is the default for Chinese and US consumer lending (0.005 → 0.01); ``half-even``
    (banker's rounding) and the directed rules exist because some contracts require them.
    """

    HALF_UP = "half-up"
    HALF_EVEN = "half-even"
    DOWN = "down"  # toward zero (truncate)
    UP = "up"  # away from zero
    FLOOR = "floor"  # toward −∞
    CEILING = "ceiling"  # toward +∞


_DECIMAL_MODES = {
    Rounding.HALF_UP: ROUND_HALF_UP,
    Rounding.HALF_EVEN: ROUND_HALF_EVEN,
    Rounding.DOWN: ROUND_DOWN,
    Rounding.UP: ROUND_UP,
    Rounding.FLOOR: ROUND_FLOOR,
    Rounding.CEILING: ROUND_CEILING,
}

_ONE = Decimal(1)
#: Wide enough that no representable amount loses a digit when shifted to major units.
_WIDE = Context(prec=120)


def round_minor(value: Decimal, rule: Rounding) -> int:
    """Round a Decimal count of minor units to an int under ``rule``.

    Example (also a test): ``round_minor(Decimal("0.5"), Rounding.HALF_UP) == 1`` while
    ``round_minor(Decimal("0.5"), Rounding.HALF_EVEN) == 0``.
    """
    if not isinstance(value, Decimal):
        raise InvalidAmount(f"round_minor takes a Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise InvalidAmount(f"cannot round a non-finite amount {value}")
    return int(value.quantize(_ONE, rounding=_DECIMAL_MODES[rule]))


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An exact amount: ``minor`` units of ``currency`` (``Money(1050, "CNY")`` is ¥10.50)."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if type(self.minor) is not int:  # bool and float are both refused
            raise InvalidAmount(
                f"Money needs an int count of minor units, got {type(self.minor).__name__}"
            )
        exponent(self.currency)

    # --- construction -----------------------------------------------------------------
    @classmethod
    def parse(cls, text: str | Decimal | int, currency: str) -> Money:
        """Parse a major-unit amount (``"10000.00"``) exactly; more decimals than the currency
        has is an error, never a silent rounding."""
        places = exponent(currency)
        if isinstance(text, float):
            raise InvalidAmount("money is never parsed from a float; pass a string")
        try:
            value = Decimal(text.strip() if isinstance(text, str) else text)
        except (InvalidOperation, ValueError):
            raise InvalidAmount(f"{text!r} is not a number") from None
        if not value.is_finite():
            raise InvalidAmount(f"{text!r} is not a finite amount")
        scaled = value.scaleb(places, context=_WIDE)
        if scaled != scaled.to_integral_value():
            raise InvalidAmount(f"{text!r} has more than {places} decimal places for {currency}")
        return cls(int(scaled), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    # --- views ------------------------------------------------------------------------
    @property
    def amount(self) -> Decimal:
        """The major-unit Decimal with exactly the currency's decimal places."""
        return Decimal(self.minor).scaleb(-exponent(self.currency), context=_WIDE)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    # --- arithmetic -------------------------------------------------------------------
    def _check(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(
                f"cannot combine {self.currency} with {other.currency}: convert explicitly"
            )
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.minor + self._check(other).minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.minor - self._check(other).minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.minor), self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.minor < self._check(other).minor

    def __le__(self, other: Money) -> bool:
        return self.minor <= self._check(other).minor

    def __gt__(self, other: Money) -> bool:
        return self.minor > self._check(other).minor

    def __ge__(self, other: Money) -> bool:
        return self.minor >= self._check(other).minor

    def __bool__(self) -> bool:
        return self.minor != 0

    def times(self, factor: Decimal | int, rule: Rounding) -> Money:
        """Multiply by an exact factor (a rate, a day count × rate) and round under ``rule``."""
        if isinstance(factor, float):
            raise InvalidAmount("money is never multiplied by a float; use Decimal")
        return Money(round_minor(Decimal(self.minor) * Decimal(factor), rule), self.currency)

    def split(self, parts: int) -> list[Money]:
        """Split into ``parts`` amounts that differ by at most one minor unit and sum exactly,
        the larger ones first (100 into 3 → 34, 33, 33)."""
        if parts <= 0:
            raise InvalidAmount("split needs a positive number of parts")
        base, extra = divmod(self.minor, parts)
        return [Money(base + (1 if i < extra else 0), self.currency) for i in range(parts)]


def total(amounts: list[Money] | tuple[Money, ...], currency: str) -> Money:
    """Sum amounts of one currency; an empty sum is zero of ``currency``."""
    result = Money.zero(currency)
    for item in amounts:
        result = result + item
    return result
