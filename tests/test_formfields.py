"""The bounded form fields accept exactly their bounded set and never raise anything but a
``ValidationError`` (issue 14, defect 3); every form of the project reads input through them."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

import arrears
from arrears import formfields
from arrears.kernel import limits
from arrears.kernel.money import CURRENCY_EXPONENTS, Money

CURRENCIES = sorted(CURRENCY_EXPONENTS)
#: Hostile text: exponents, full-width and other Unicode digits, signs, NUL, huge numbers.
HOSTILE = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "1e30",
            "1e2",
            "1E2",
            "１２３",
            "١٢٣",
            "NaN",
            "nan",
            "Infinity",
            "-inf",
            "-1",
            "+1",
            "1,000",
            "0x10",
            "1_000",
            "\x00",
            "1\x00",
            " 12 ",
            "9" * 40,
            "9" * 5000,
            "²",
            ".5",
            "5.",
            "9999-12-31",
            "0000-01-01",
            "2026-02-30",
        ]
    ),
)


def _outcome(call: Any) -> Any:
    """The value, or ``ValidationError`` — anything else fails the test."""
    try:
        return call()
    except ValidationError:
        return ValidationError


# --- amounts -------------------------------------------------------------------------------


@given(text=HOSTILE, currency=st.sampled_from(CURRENCIES))
def test_an_amount_is_a_bounded_ascii_decimal_or_a_validation_error(
    text: str, currency: str
) -> None:
    result = _outcome(lambda: formfields.parse_amount(text, currency))
    places = CURRENCY_EXPONENTS[currency]
    decimals = rf"(\.[0-9]{{1,{places}}})?" if places else r"(\.0+)?"
    syntax = re.fullmatch(rf"[0-9]+{decimals}", text.strip(), re.ASCII)
    if result is ValidationError:
        if syntax:  # well-formed: refused only for zero or the bound
            minor = Money.parse(text.strip(), currency).minor
            assert minor == 0 or minor > limits.MAX_AMOUNT_MINOR or len(text.strip()) > 20
        return
    assert syntax, text
    assert 0 < result.minor <= limits.MAX_AMOUNT_MINOR
    assert result == Money.parse(text.strip(), currency)


@given(
    minor=st.integers(min_value=1, max_value=limits.MAX_AMOUNT_MINOR),
    currency=st.sampled_from(CURRENCIES),
)
def test_every_amount_within_the_bound_reads_back_exactly(minor: int, currency: str) -> None:
    money = Money(minor, currency)
    assert formfields.parse_amount(str(money.amount), currency) == money


@given(minor=st.integers(min_value=limits.MAX_AMOUNT_MINOR + 1, max_value=10**40))
def test_an_amount_above_the_ledgers_bound_is_refused(minor: int) -> None:
    with pytest.raises(ValidationError) as refused:
        formfields.parse_amount(str(Money(minor, "CNY").amount), "CNY")
    assert refused.value.code in {"amount-too-large", "amount-syntax"}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("1e2", "amount-syntax"),
        ("１２", "amount-syntax"),
        ("NaN", "amount-syntax"),
        ("12.345", "amount-syntax"),
        ("-1", "amount-sign"),
        ("0", "amount-zero"),
        ("100000000000.00", "amount-too-large"),
    ],
)
def test_amount_refusals_carry_a_code(text: str, code: str) -> None:
    with pytest.raises(ValidationError) as refused:
        formfields.parse_amount(text, "CNY")
    assert refused.value.code == code


def test_the_amount_field_cleans_to_money_or_to_checked_text() -> None:
    field = formfields.AmountField(currency="CNY")
    assert field.clean("12.50") == Money(1250, "CNY")
    unknown = formfields.AmountField(required=False, allow_zero=True)
    assert unknown.clean(" 0 ") == "0" and unknown.clean("") is None
    with pytest.raises(ValidationError):
        unknown.clean("1e2")
    # before the currency is known only the syntax is checked: the bound is the currency's
    top = str(Money(limits.MAX_AMOUNT_MINOR, "CNY").amount)
    assert unknown.clean(top) == top
    assert formfields.parse_amount(top, "CNY").minor == limits.MAX_AMOUNT_MINOR


def test_a_field_error_reads_in_chinese() -> None:
    with pytest.raises(ValidationError) as refused:
        formfields.AmountField(currency="CNY").clean("1e2")
    with translation.override("zh-hans"):  # the message is lazy: read in the reader's language
        assert "不是金额" in refused.value.messages[0]
    with translation.override("en"):
        assert "Not an amount" in refused.value.messages[0]


# --- dates ---------------------------------------------------------------------------------


@given(text=st.one_of(HOSTILE, st.dates().map(date.isoformat)))
def test_a_date_is_iso_within_the_ledgers_range_or_a_validation_error(text: str) -> None:
    result = _outcome(lambda: formfields.BoundedDateField().clean(text))
    if result is ValidationError:
        return
    assert limits.MIN_DATE <= result <= limits.MAX_DATE
    assert result.isoformat() == text.strip()


@given(day=st.dates(min_value=limits.MIN_DATE, max_value=limits.MAX_DATE))
def test_every_date_in_range_is_accepted(day: date) -> None:
    assert formfields.BoundedDateField().clean(day.isoformat()) == day


@given(day=st.dates().filter(lambda d: not limits.MIN_DATE <= d <= limits.MAX_DATE))
def test_every_date_out_of_range_is_refused(day: date) -> None:
    with pytest.raises(ValidationError) as refused:
        formfields.BoundedDateField().clean(day.isoformat())
    assert refused.value.code in {"date-range", "date-syntax"}


@given(text=st.one_of(HOSTILE, st.datetimes().map(lambda d: d.isoformat(timespec="minutes"))))
def test_a_date_time_is_bounded_or_a_validation_error(text: str) -> None:
    result = _outcome(lambda: formfields.BoundedDateTimeField().clean(text))
    if result is not ValidationError:
        assert isinstance(result, datetime) and result.tzinfo is not None
        assert limits.MIN_DATE <= result.date() <= limits.MAX_DATE


# --- integers, ids, percentages, decimals --------------------------------------------------


@given(text=st.one_of(HOSTILE, st.integers().map(str)))
def test_an_integer_is_ascii_digits_within_its_bounds(text: str) -> None:
    field = formfields.BoundedIntegerField(min_value=1, max_value=500)
    result = _outcome(lambda: field.clean(text))
    if result is ValidationError:
        stripped = text.strip()
        digits = stripped.isascii() and stripped.isdigit() and len(stripped) < 30
        assert not (digits and 1 <= int(stripped) <= 500)
        return
    assert 1 <= result <= 500 and str(result) == text.strip()


@given(text=st.one_of(HOSTILE, st.integers().map(str)))
def test_an_id_is_a_positive_int64_or_none(text: str) -> None:
    found = formfields.parse_id(text)
    if found is not None:
        assert 1 <= found <= limits.INT64_MAX and str(found) == text.strip().lstrip("0")


def test_a_thirty_digit_id_is_no_id() -> None:
    assert formfields.parse_id("9" * 30) is None
    assert formfields.parse_id(str(limits.INT64_MAX)) == limits.INT64_MAX
    assert formfields.parse_id(str(limits.INT64_MAX + 1)) is None


@given(text=st.one_of(HOSTILE, st.decimals(allow_nan=True, allow_infinity=True).map(str)))
def test_a_percentage_is_0_to_100(text: str) -> None:
    result = _outcome(lambda: formfields.PercentField(required=False).clean(text))
    if result is not ValidationError and result is not None:
        assert Decimal(0) <= result <= Decimal(100)


@given(text=st.one_of(HOSTILE, st.decimals(allow_nan=True, allow_infinity=True).map(str)))
def test_a_bounded_decimal_stays_in_its_bounds(text: str) -> None:
    field = formfields.BoundedDecimalField(
        min_value=Decimal(-90), max_value=Decimal(90), decimal_places=6, required=False
    )
    result = _outcome(lambda: field.clean(text))
    if result is not ValidationError and result is not None:
        assert Decimal(-90) <= result <= Decimal(90)
        assert result.is_finite()


# --- text ------------------------------------------------------------------------------------


@given(text=st.text(max_size=300), multiline=st.booleans())
def test_text_is_bounded_and_free_of_control_characters(text: str, multiline: bool) -> None:
    field = formfields.BoundedTextField(max_length=100, multiline=multiline, required=False)
    result = _outcome(lambda: field.clean(text))
    if result is ValidationError:
        return
    assert len(result) <= 100
    kept = set("\n\r\t") if multiline else set()
    assert not limits.has_control("".join(c for c in result if c not in kept))


def test_a_nul_is_refused_and_a_multiline_note_keeps_its_newlines() -> None:
    with pytest.raises(ValidationError):
        formfields.note_field().clean("a\x00b")
    assert formfields.note_field().clean("line one\nline two") == "line one\nline two"
    with pytest.raises(ValidationError):
        formfields.BoundedTextField(max_length=10).clean("a\nb")


# --- every form of the project ---------------------------------------------------------------

#: Field types that are bounded by construction: a choice among listed values, a tick box, a
#: file (the view bounds its size), a choice of model rows (ids checked by Django's queryset).
BOUNDED_BY_CHOICE = (
    forms.ChoiceField,
    forms.MultipleChoiceField,
    forms.BooleanField,
    forms.FileField,
    forms.ModelMultipleChoiceField,
    forms.TimeField,
)
#: Admin forms are Django's own (superusers only); their model fields carry the bounds.
EXEMPT_MODULES = ("arrears.ledger.admin", "arrears.fieldwork.admin", "arrears.accounts.security")


def _project_forms() -> list[type[forms.BaseForm]]:
    found: list[type[forms.BaseForm]] = []
    for module in pkgutil.walk_packages(arrears.__path__, "arrears."):
        if ".migrations" in module.name or module.name.endswith(".spark"):
            continue
        if module.name.startswith(EXEMPT_MODULES):
            continue
        loaded = importlib.import_module(module.name)
        for _name, cls in inspect.getmembers(loaded, inspect.isclass):
            if (
                issubclass(cls, forms.BaseForm)
                and cls.__module__ == module.name
                and cls.__module__.startswith("arrears.")
            ):
                found.append(cls)
    return found


def test_every_form_field_of_the_project_is_bounded() -> None:
    """A new form with a plain ``CharField``/``DateField``/``IntegerField``/``DecimalField``
    fails here: use :mod:`arrears.formfields` (or a choice)."""
    bounded = (
        formfields.AmountField,
        formfields.BoundedDateField,
        formfields.BoundedDateTimeField,
        formfields.BoundedIntegerField,
        formfields.BoundedDecimalField,
        formfields.PercentField,
        formfields.BoundedTextField,
        *BOUNDED_BY_CHOICE,
    )
    found = _project_forms()
    assert len(found) >= 15, [f.__name__ for f in found]
    loose = [
        f"{form.__module__}.{form.__name__}.{name}: {type(field).__name__}"
        for form in found
        for name, field in form.base_fields.items()
        if not isinstance(field, bounded)
    ]
    assert not loose, "\n".join(loose)


def test_the_form_bounds_are_the_ledgers() -> None:
    assert formfields.BoundedDateField().clean(limits.MAX_DATE.isoformat()) == limits.MAX_DATE
    with pytest.raises(ValidationError):
        formfields.BoundedDateField().clean((limits.MAX_DATE + timedelta(days=1)).isoformat())
    top = Money(limits.MAX_AMOUNT_MINOR, "CNY")
    assert formfields.parse_amount(str(top.amount), "CNY") == top
