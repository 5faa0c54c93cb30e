"""One row's fields, text → typed values: each bad field noted as a :class:`RowError`.

A row is read to the end whatever fails, so one pass reports every bad field of every row.
These check a value on its own; what needs other rows or the database is checked in
:mod:`~.loan_validation` and :mod:`~.payment_validation`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import TypeVar

from arrears.kernel import limits
from arrears.kernel.calendar import parse_date
from arrears.kernel.errors import ArrearsError, InvalidAmount, UnknownCurrency
from arrears.kernel.money import CURRENCY_EXPONENTS, Money
from arrears.ledger.importers.errors import RowError
from arrears.ledger.validators import InvalidChoice, normalise_national_id, parse_decimal

T = TypeVar("T")

MAX_REF_LENGTH = limits.MAX_REF_LENGTH


def _message(error: ArrearsError, name: str) -> str:
    text = str(error)
    prefix = f"{name}: "
    return text[len(prefix) :] if text.startswith(prefix) else text


#: Distinct values a :class:`Memo` keeps per field and chunk (a file's products, rates,
#: terms and dates number a few hundred; beyond this a column is mostly distinct values, and
#: those are parsed as they come).
MEMO_LIMIT = 4096


class Memo:
    """Each field's parse of each distinct value, shared by the rows of a chunk: most columns
    of a lender's file repeat a few values (currency, product, rate, term, method, start date),
    and a parse is a function of the text (and of ``key``, e.g. the row's currency for an
    amount), so a repeat costs a dictionary lookup instead of a parse."""

    def __init__(self, limit: int = MEMO_LIMIT) -> None:
        self.limit = limit
        self.fields: dict[str, dict[tuple[object, str], tuple[object, str | None]]] = {}


class Fields:
    """Reads the fields of one row, recording an error per bad field and carrying on."""

    def __init__(
        self, row: int, values: dict[str, str], errors: list[RowError], memo: Memo | None = None
    ) -> None:
        self.row = row
        self.values = values
        self.errors = errors
        self.memo = memo
        self.ok = True

    def error(self, name: str, message: str) -> None:
        """Note a bad field; a message quoting a huge value is cut (a 100 000-character value
        must not become a 100 000-character error)."""
        self.ok = False
        if len(message) > limits.MAX_QUOTED:
            message = message[: limits.MAX_QUOTED] + "…"
        self.errors.append(RowError(self.row, name, message))

    def text(self, name: str, *, required: bool = True) -> str:
        value = self.values.get(name, "")
        if required and not value:
            self.error(name, "is required")
        return value

    def parse(
        self,
        name: str,
        parser: Callable[[str], T],
        *,
        required: bool = True,
        key: object = None,
        repeats: bool = False,
    ) -> T | None:
        """``parser`` of the field's text; with ``repeats`` (a column whose values repeat
        from row to row) each distinct ``(key, text)`` is parsed once per file (``key``
        names whatever else the parser depends on)."""
        value = self.text(name, required=required)
        if not value:
            return None
        known: dict[tuple[object, str], tuple[object, str | None]] | None = None
        if repeats and self.memo is not None:
            known = self.memo.fields.setdefault(name, {})
            hit = known.get((key, value))
            if hit is not None:
                result, message = hit
                if message is not None:
                    self.error(name, message)
                return result  # type: ignore[return-value]
        try:
            parsed: T | None = parser(value)
            message: str | None = None
        except ArrearsError as error:
            parsed, message = None, _message(error, name)
        if known is not None and len(known) < self.memo.limit:  # type: ignore[union-attr]
            known[(key, value)] = (parsed, message)
        if message is not None:
            self.error(name, message)
        return parsed

    def ref(self, name: str, *, required: bool = True) -> str:
        """A reference in the ledger's alphabet (:func:`~arrears.kernel.limits.check_ref`)."""
        value = self.text(name, required=required)
        if value:
            try:
                limits.check_ref(value, name=name)
            except ArrearsError as error:
                self.error(name, str(error))
        return value

    def name(self, name: str) -> str:
        """Free text of at most 200 characters and no control character."""
        value = self.text(name)
        if value:
            try:
                limits.check_text(value, name=name)
            except ArrearsError as error:
                self.error(name, str(error))
        return value


def national_id(text: str, *, id_type: str) -> str:
    return normalise_national_id(text, id_type)


def currency(text: str) -> str:
    if text not in CURRENCY_EXPONENTS:
        raise UnknownCurrency(f"{text!r} is not a supported ISO 4217 currency code (e.g. CNY, USD)")
    return text


def positive_amount(currency: str | None, name: str) -> Callable[[str], int | None]:
    """Major units → minor units; refuses signs, zero, and more decimals than the currency has.
    Without a valid currency only the number itself can be checked (``None`` is returned)."""

    def parse(text: str) -> int | None:
        value = parse_decimal(text, name)
        if value < 0:
            raise InvalidAmount(f"{text} is negative")
        if value == 0:
            raise InvalidAmount(f"{text} is zero; expected a positive amount")
        if currency is None:
            return None
        return limits.check_amount(Money.parse(text, currency).minor, name=name)

    return parse


def integer(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:  # int() refuses more than 4 300 digits (a fuzzer's value): out of range as well
            value = int(text) if re.fullmatch(r"\d+", text) else None
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise InvalidChoice(f"{text!r} is not a whole number from {low} to {high}")
        return value

    return parse


def enum(kind: type[T], label: str) -> Callable[[str], T]:
    def parse(text: str) -> T:
        try:
            return kind(text)  # type: ignore[call-arg]
        except ValueError:
            allowed = ", ".join(str(v) for v in kind)  # type: ignore[attr-defined]
            raise InvalidChoice(f"{text!r} is not a {label} (expected {allowed})") from None

    return parse


def date_for(name: str) -> Callable[[str], date]:
    """An ISO date from 1970-01-01 to 2199-12-31 (:data:`~arrears.kernel.limits.MIN_DATE`)."""
    return lambda text: limits.check_date(parse_date(text, field_name=name), name=name)
