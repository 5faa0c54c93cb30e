"""Bounded form fields: the one layer every Django form of Arrears reads people's input through.

A form field here accepts exactly a bounded set and refuses everything else with a
``ValidationError`` in the reader's language — never an exception a view would turn into a 500.
The bounds are the ledger's (:mod:`arrears.kernel.limits`): an amount below 10^13 minor units,
a date from 1970-01-01 to 2199-12-31, an id that fits a 64-bit column; a form may narrow them,
never widen them. So SQLite and PostgreSQL see the same values (PostgreSQL refuses
``bigint out of range`` where SQLite raises ``OverflowError``), and what a form accepts the
kernel can compute.

What is refused, and why:

- **amounts** are ASCII digits with an optional point and at most the currency's decimal
  places (``1234.56``): no exponent (``1e2`` reads as 100 to ``Decimal`` and 1e30 overflows the
  ledger), no full-width digits (``１２３`` is ``int``-able in Python but not what a person
  meant to type into an amount), no ``NaN``/``Infinity``, no sign unless the field allows one,
  no thousands separators;
- **dates** are ``YYYY-MM-DD`` within the ledger's range (a callback in 9999 or a plan
  instalment on 9999-12-31 is a typo, and near ``date.max`` every ``+ timedelta`` overflows);
- **integers and ids** are ASCII digits within ``0..INT64_MAX`` (or a form's own bound): a
  ``?collector=`` of thirty digits is "no such collector", not ``OverflowError``;
- **percentages** are non-negative decimals up to 100;
- **text** has a maximum length and no control character (a NUL is refused by PostgreSQL and
  truncates C strings; a multi-line field keeps its newlines and tabs).

``docs/security.md`` ("Form bounds") has the table.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy

from arrears.kernel import limits
from arrears.kernel.money import CURRENCY_EXPONENTS, Money, exponent

#: The most characters an amount may have (13 digits, a point and three decimals, with room).
AMOUNT_MAX_LENGTH = 20
#: The most decimal places of any currency the ledger knows (when the currency is not yet known).
MAX_PLACES = max(CURRENCY_EXPONENTS.values())
#: The largest id or integer query parameter (a 64-bit column).
MAX_ID = limits.INT64_MAX
#: Characters an integer field reads at most before refusing (19 digits hold ``INT64_MAX``).
_INT_MAX_LENGTH = 19
#: Default bounds of free text.
TEXT_MAX_LENGTH = limits.MAX_NAME_LENGTH
NOTE_MAX_LENGTH = 2_000
#: Control characters a multi-line text keeps (newline, carriage return, tab).
_MULTILINE_KEEPS = frozenset("\n\r\t")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)

MESSAGES: dict[str, Any] = {
    "amount-syntax": gettext_lazy(
        "Not an amount: type digits 0-9 with at most %(places)s decimal places, e.g. 1234.56 "
        "(no exponent, no separators)."
    ),
    "amount-sign": gettext_lazy("The amount cannot be negative."),
    "amount-zero": gettext_lazy("The amount must be positive."),
    "amount-too-large": gettext_lazy("The amount is too large (at most %(limit)s)."),
    "date-syntax": gettext_lazy("Enter a date as YYYY-MM-DD."),
    "date-range": gettext_lazy("Enter a date from %(first)s to %(last)s."),
    "datetime-syntax": gettext_lazy("Enter a date and time as YYYY-MM-DD HH:MM."),
    "integer-syntax": gettext_lazy("Enter a whole number in digits 0-9."),
    "integer-range": gettext_lazy("Enter a whole number from %(first)s to %(last)s."),
    "percent": gettext_lazy("Enter a percentage from 0 to 100 with at most two decimals."),
    "text-too-long": gettext_lazy("At most %(max)s characters (%(n)s given)."),
    "text-control": gettext_lazy("Remove the control characters (NUL, escape…) from the text."),
}


def _invalid(code: str, **params: Any) -> ValidationError:
    return ValidationError(MESSAGES[code], code=code, params=params)


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


# --- amounts ---------------------------------------------------------------------------------


def _amount_pattern(places: int, signed: bool) -> re.Pattern[str]:
    sign = "-?" if signed else ""
    decimals = rf"(?:\.[0-9]{{1,{places}}})?" if places else r"(?:\.0+)?"
    return re.compile(rf"{sign}[0-9]{{1,16}}{decimals}", re.ASCII)


def check_amount_syntax(text: object, *, places: int, allow_negative: bool = False) -> str:
    """``text`` stripped, when it is ASCII digits with at most ``places`` decimals (and a
    leading ``-`` only when allowed); otherwise a ValidationError."""
    raw = _text(text)
    if raw.startswith("-") and not allow_negative and _amount_pattern(places, True).fullmatch(raw):
        raise _invalid("amount-sign")
    if len(raw) > AMOUNT_MAX_LENGTH or not _amount_pattern(places, allow_negative).fullmatch(raw):
        raise _invalid("amount-syntax", places=places)
    return raw


def parse_amount(
    text: object,
    currency: str,
    *,
    allow_zero: bool = False,
    allow_negative: bool = False,
    max_minor: int = limits.MAX_AMOUNT_MINOR,
) -> Money:
    """``text`` as exact :class:`Money` of ``currency`` within the ledger's bound, or a
    ``ValidationError`` saying what to type. The one parser of typed amounts (forms and the
    plan lines of :mod:`arrears.web.concessions` use it)."""
    raw = check_amount_syntax(text, places=exponent(currency), allow_negative=allow_negative)
    money = Money.parse(raw, currency)
    if abs(money.minor) > min(max_minor, limits.MAX_AMOUNT_MINOR):
        limit = Money(min(max_minor, limits.MAX_AMOUNT_MINOR), currency)
        raise _invalid("amount-too-large", limit=f"{limit.amount:,}")
    if money.minor == 0 and not allow_zero:
        raise _invalid("amount-zero")
    return money


class AmountField(forms.CharField):
    """An amount typed in major units (``1234.56``). Cleans to :class:`Money` when the field
    knows its ``currency``; a form whose currency depends on another field (the chosen loan)
    leaves it ``None``, gets the checked text back, and calls :func:`parse_amount` with it
    (the syntax is already checked against the widest currency)."""

    def __init__(
        self,
        *,
        currency: str | None = None,
        allow_zero: bool = False,
        allow_negative: bool = False,
        max_minor: int = limits.MAX_AMOUNT_MINOR,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("max_length", AMOUNT_MAX_LENGTH)
        super().__init__(**kwargs)
        self.currency = currency
        self.allow_zero = allow_zero
        self.allow_negative = allow_negative
        self.max_minor = max_minor

    def clean(self, value: Any) -> Any:
        text = _text(value)
        if not text:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return None
        if self.currency is None:  # the loan is not chosen yet: the widest syntax, no bound
            return check_amount_syntax(text, places=MAX_PLACES, allow_negative=self.allow_negative)
        return parse_amount(
            text,
            self.currency,
            allow_zero=self.allow_zero,
            allow_negative=self.allow_negative,
            max_minor=self.max_minor,
        )


# --- dates ----------------------------------------------------------------------------------


def parse_bounded_date(
    text: object, *, first: date = limits.MIN_DATE, last: date = limits.MAX_DATE
) -> date:
    """``YYYY-MM-DD`` within ``first..last`` (inside the ledger's range), or a ValidationError."""
    if isinstance(text, datetime):
        text = text.date()
    if isinstance(text, date):
        day = text
    else:
        raw = _text(text)
        if not _DATE.fullmatch(raw):
            raise _invalid("date-syntax")
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise _invalid("date-syntax") from None
    first, last = max(first, limits.MIN_DATE), min(last, limits.MAX_DATE)
    if not first <= day <= last:
        raise _invalid("date-range", first=first.isoformat(), last=last.isoformat())
    return day


class BoundedDateField(forms.DateField):
    """A ``YYYY-MM-DD`` date inside the ledger's range (or the narrower ``first..last``)."""

    def __init__(
        self, *, first: date = limits.MIN_DATE, last: date = limits.MAX_DATE, **kwargs: Any
    ) -> None:
        kwargs.setdefault("input_formats", ["%Y-%m-%d"])
        super().__init__(**kwargs)
        self.first, self.last = first, last

    def to_python(self, value: Any) -> date | None:
        if value in self.empty_values or _text(value) == "":
            return None
        return parse_bounded_date(value, first=self.first, last=self.last)


class BoundedDateTimeField(forms.DateTimeField):
    """A date and time (``YYYY-MM-DD HH:MM`` or the ``datetime-local`` form) whose date is
    inside the ledger's range; aware in the current time zone."""

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values or _text(value) == "":
            return None
        if isinstance(value, datetime):
            moment = value
        else:
            raw = _text(value)
            if len(raw) > 32 or not raw.isascii():
                raise _invalid("datetime-syntax")
            try:
                moment = datetime.fromisoformat(raw)
            except ValueError:
                raise _invalid("datetime-syntax") from None
        parse_bounded_date(moment.date())
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment


# --- integers and ids -----------------------------------------------------------------------


def parse_bounded_int(text: object, *, first: int = 0, last: int = MAX_ID) -> int:
    """ASCII digits (a leading ``-`` only when ``first`` is negative) within ``first..last``."""
    if isinstance(text, int) and not isinstance(text, bool):
        number = text
    else:
        raw = _text(text)
        digits = raw[1:] if raw.startswith("-") and first < 0 else raw
        if not (digits and digits.isascii() and digits.isdigit()):
            raise _invalid("integer-syntax")
        if len(digits) > _INT_MAX_LENGTH:  # never int() a megabyte of digits
            raise _invalid("integer-range", first=first, last=last)
        number = int(raw)
    if not first <= number <= last:
        raise _invalid("integer-range", first=first, last=last)
    return number


def parse_id(text: object) -> int | None:
    """A database id from a query string or a posted choice, or ``None`` when it cannot be one
    (not ASCII digits, zero, beyond a 64-bit column): the caller answers "no such …" or 400."""
    try:
        return parse_bounded_int(text, first=1)
    except ValidationError:
        return None


class BoundedIntegerField(forms.IntegerField):
    """A whole number in ASCII digits within ``min_value..max_value`` (default ``0..INT64_MAX``;
    never wider than a 64-bit column)."""

    def __init__(self, *, min_value: int = 0, max_value: int = MAX_ID, **kwargs: Any) -> None:
        super().__init__(
            min_value=max(min_value, -MAX_ID), max_value=min(max_value, MAX_ID), **kwargs
        )
        self.first, self.last = max(min_value, -MAX_ID), min(max_value, MAX_ID)

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values or _text(value) == "":
            return None
        return parse_bounded_int(value, first=self.first, last=self.last)


class PercentField(forms.DecimalField):
    """A percentage from 0 to 100 with at most two decimals (``12.5``), ASCII digits only."""

    _PATTERN = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,2})?", re.ASCII)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 5)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(min_value=Decimal(0), max_value=Decimal(100), **kwargs)

    def to_python(self, value: Any) -> Decimal | None:
        if value in self.empty_values or _text(value) == "":
            return None
        raw = _text(value)
        if not self._PATTERN.fullmatch(raw) or Decimal(raw) > 100:
            raise _invalid("percent")
        return Decimal(raw)


class BoundedDecimalField(forms.DecimalField):
    """A plain decimal (``-12.345``) in ASCII digits within ``min_value..max_value`` with at
    most ``decimal_places`` decimals: no exponent, no NaN, no full-width digits."""

    def __init__(
        self, *, min_value: Decimal, max_value: Decimal, decimal_places: int, **kwargs: Any
    ) -> None:
        super().__init__(
            min_value=min_value,
            max_value=max_value,
            decimal_places=decimal_places,
            max_digits=None,
            **kwargs,
        )
        sign = "-?" if min_value < 0 else ""
        self._pattern = re.compile(
            rf"{sign}[0-9]{{1,16}}(?:\.[0-9]{{1,{decimal_places}}})?", re.ASCII
        )

    def to_python(self, value: Any) -> Decimal | None:
        if value in self.empty_values or _text(value) == "":
            return None
        if isinstance(value, Decimal) and value.is_finite():
            return value
        raw = _text(value)
        if not self._pattern.fullmatch(raw):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return Decimal(raw)


# --- text -----------------------------------------------------------------------------------


def has_control(value: str) -> bool:
    """Whether a query parameter holds a control character (a NUL is refused by PostgreSQL):
    the caller treats it as matching nothing. :func:`arrears.kernel.limits.has_control`."""
    return limits.has_control(value)


def check_bounded_text(value: str, *, max_length: int, multiline: bool) -> str:
    """``value`` when it has at most ``max_length`` characters and no control character
    (newlines and tabs allowed in a multi-line text)."""
    if len(value) > max_length:
        raise _invalid("text-too-long", max=max_length, n=len(value))
    text = "".join(c for c in value if c not in _MULTILINE_KEEPS) if multiline else value
    if limits.has_control(text):
        raise _invalid("text-control")
    return value


class BoundedTextField(forms.CharField):
    """Free text with a maximum length (required: an unbounded text field is a bug) and no
    control characters; ``multiline`` keeps newlines and tabs (a textarea)."""

    def __init__(self, *, max_length: int, multiline: bool = False, **kwargs: Any) -> None:
        if multiline:
            kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 2}))
        super().__init__(max_length=max_length, **kwargs)
        self.multiline = multiline

    def to_python(self, value: Any) -> str:
        text: str = super().to_python(value)
        return check_bounded_text(
            text, max_length=self.max_length or TEXT_MAX_LENGTH, multiline=self.multiline
        )


def note_field(**kwargs: Any) -> BoundedTextField:
    """The optional multi-line note of most forms (2,000 characters)."""
    kwargs.setdefault("label", gettext_lazy("Note"))
    kwargs.setdefault("required", False)
    kwargs.setdefault("max_length", NOTE_MAX_LENGTH)
    return BoundedTextField(multiline=True, **kwargs)
