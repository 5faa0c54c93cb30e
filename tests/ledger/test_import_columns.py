"""The column-wise first pass (``importers.columns``) held to the per-field parsers: each
vectorised check accepts only what its parser accepts, with the parser's value, and the whole
pass gives the per-row parser's rows and ``row N, field F: reason`` errors, in order."""

from __future__ import annotations

import re
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.kernel import limits
from arrears.kernel.errors import ArrearsError
from arrears.kernel.money import CURRENCY_EXPONENTS
from arrears.ledger.importers import columns, parsers, rows
from arrears.ledger.importers.errors import RowError
from arrears.ledger.importers.reading import Table
from arrears.ledger.validators import _fast_phone, normalise_national_id, normalise_phone
from tests import factories

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


def _accepts(parse: Any, text: str) -> tuple[bool, Any]:
    try:
        return True, parse(text)
    except ArrearsError:
        return False, None


def _one(expression: pl.Expr, **values: list[str]) -> list[Any]:
    return (
        pl.DataFrame(values, schema=dict.fromkeys(values, pl.String))
        .select(expression)[:, 0]
        .to_list()
    )


ref_like = st.text(
    alphabet=st.sampled_from([*"Aa0z9._-/ é\x00\n", "借"]), max_size=70
) | st.from_regex(limits.REF_PATTERN, fullmatch=True)


@PROPERTY
@given(st.lists(ref_like, min_size=1, max_size=20))
def test_a_reference_is_accepted_exactly_when_check_ref_accepts_it(texts: list[str]) -> None:
    fast = _one(columns.refs_ok("ref"), ref=texts)
    assert fast == [_accepts(limits.check_ref, text)[0] for text in texts]


@PROPERTY
@given(st.lists(st.text(max_size=210) | st.text("ab借 ", min_size=195, max_size=205), min_size=1))
def test_a_name_is_accepted_only_when_check_text_accepts_it(texts: list[str]) -> None:
    fast = _one(columns.name_ok("name"), name=texts)
    for text, ok in zip(texts, fast, strict=True):
        if ok:
            assert _accepts(limits.check_text, text) == (True, text)


amount_like = st.one_of(
    st.from_regex(r"[+-]?[0-9]{0,17}(\.[0-9]{0,4})?", fullmatch=True),
    st.decimals(min_value=0, max_value=10**14, places=3).map(str),
    st.sampled_from(["0", "0.00", "00012.50", "1.000", "9999999999999", "99999999999.99", "１２"]),
)


@PROPERTY
@given(
    st.lists(
        st.tuples(amount_like, st.sampled_from([*sorted(CURRENCY_EXPONENTS), "XXX", ""])),
        min_size=1,
        max_size=20,
    )
)
def test_a_plain_amount_has_the_parsers_minor_units(pairs: list[tuple[str, str]]) -> None:
    texts, currencies = [t for t, _ in pairs], [c for _, c in pairs]
    fast = _one(columns.amount_minor("amount", "currency"), amount=texts, currency=currencies)
    for text, currency, minor in zip(texts, currencies, fast, strict=True):
        if minor is not None:
            assert _accepts(parsers.positive_amount(currency, "amount"), text) == (True, minor)
        elif (
            currency in CURRENCY_EXPONENTS
            and re.fullmatch("[0-9]{1,11}", text)
            and 0 < int(text) * 10 ** CURRENCY_EXPONENTS[currency] <= limits.MAX_AMOUNT_MINOR
        ):  # within the limit: 11 digits of a currency with 3 decimals may be above it
            pytest.fail(f"{text} {currency} should take the fast path")


phone_like = st.one_of(
    st.from_regex(r"1[0-9]{10}", fullmatch=True),
    st.from_regex(r"[0-9]{9,13}", fullmatch=True),
    st.from_regex(r"\+?[0-9 ()-]{0,16}", fullmatch=True),
    st.sampled_from(["13812345678", "17400123456", "17406123456", "16101234567", "１３８12345678"]),
)


@PROPERTY
@given(st.lists(phone_like, min_size=1, max_size=20))
def test_a_bare_mobile_number_is_accepted_exactly_as_the_fast_phone_path_takes_it(
    texts: list[str],
) -> None:
    fast = _one(columns.mobile_ok("phone"), phone=texts)
    for text, ok in zip(texts, fast, strict=True):
        assert ok == (_fast_phone(text, "CN") is not None)
        if ok:
            assert normalise_phone(text) == columns.mobile_e164(text) == _fast_phone(text, "CN")


#: The strategies the composite strategies draw from, made once: a strategy made anew at each
#: draw is checked anew (emptiness, validity) each time, which cost more than the draw. The
#: same strategies drawn in the same order give the same examples.
_REGION = st.sampled_from(["110101", "110100", "440305", "999999", "000000"])
_YEAR = st.sampled_from(["0000", "0999", "1899", "1990", "2024", "2999"])
_MONTH = st.sampled_from(["00", "01", "02", "12", "13"])
_DAY = st.sampled_from(["00", "01", "28", "29", "30", "31"])


def _ric_like(draw: Any) -> str:
    number = factories.valid_ric(
        draw(_REGION)
        + draw(_YEAR)
        + draw(_MONTH)
        + draw(_DAY)
        + draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    )
    # drawn as strings, not by an index: with an index the later numbers' serials (text
    # drawn after these strings in the same example) came out otherwise
    forms = [
        number,
        number[:-1] + "X",
        number[:-1] + "0",
        number.lower(),
        number[:-1],
        " " + number,
    ]
    return draw(st.sampled_from(forms))


@PROPERTY
@given(st.lists(st.composite(_ric_like)(), min_size=1, max_size=20))
def test_a_plain_resident_id_is_accepted_only_as_the_parser_accepts_it(texts: list[str]) -> None:
    plain = _one(columns.plain_ric_ok("id"), id=texts)
    good = columns._ric_regions_ok([t for t, ok in zip(texts, plain, strict=True) if ok])
    for text, ok in zip(texts, plain, strict=True):
        if ok and text in good:
            assert _accepts(lambda t: normalise_national_id(t, "cn_ric"), text) == (True, text)
        elif re.fullmatch(r"[0-9]{17}[0-9X]", text) and int(text[6:10]) >= 1000:
            # a plain number the fast path leaves to the parser is one the parser refuses
            assert not _accepts(lambda t: normalise_national_id(t, "cn_ric"), text)[0]


GOOD = {
    "loan_ref": ["L1", "L-2.b_3"],
    "borrower_ref": ["B1", "b9"],
    "borrower_name": ["借款人", "Ann Lee"],
    "id_type": ["cn_ric", "cn_ric", "other", "us_ssn"],
    "national_id": [factories.valid_ric("11010119900307451"), "E123", "536-90-4399"],
    "phone": ["13812345678", "+86 138 1234 5678", "+1 415 555 2671"],
    "time_zone": ["Asia/Shanghai", ""],
    "locale": ["zh-hans", "en"],
    "email": ["", "a@Example.COM"],
    "postal_address": ["", "1 Road\n  Town "],
    "product_code": ["PL"],
    "product_version": ["1", "2"],
    "currency": ["CNY", "JPY", "KWD"],
    "principal": ["12000.00", "5", "5000.5", "1.000", "+7"],
    "rate_basis": ["daily", "annual"],
    "rate": ["0.0005", "0.18"],
    "term": ["12", "6"],
    "method": ["equal-instalment", "bullet"],
    "start_date": ["2026-01-15", "2026-02-28"],
    "day_count": ["", "actual/365"],
}
BAD = {
    "loan_ref": ["", "A/B", "x" * 65, "-a"],
    "borrower_ref": ["", "借"],
    "borrower_name": ["", "a\x00b", "长" * 201],
    "id_type": ["", "passport"],
    "national_id": ["", "110101199003074510", "1101011990030745X1", "11010119900230451x"],
    "phone": ["", "12345", "138123456789"],
    "time_zone": ["Mars/Base"],
    "locale": ["fr"],
    "email": ["not-an-email"],
    "postal_address": ["\x07"],
    "product_code": [""],
    "product_version": ["0", "x"],
    "currency": ["", "XXX"],
    "principal": ["", "0", "-5", "1e3", "12.345", "10000000000000", "１２"],
    "rate_basis": ["weekly"],
    "rate": ["", "abc", "0.5", "1.0"],
    "term": ["0", "601"],
    "method": ["monthly"],
    "start_date": ["2026-02-30", "1969-12-31", "15/01/2026"],
    "day_count": ["360/360"],
}


_ROWS = st.integers(1, 12)
_ONE_IN_20 = st.integers(0, 19)
_GOOD = {column: st.sampled_from(values) for column, values in GOOD.items()}
_BAD = {column: st.sampled_from(values) for column, values in BAD.items()}


@st.composite
def loan_rows(draw: Any) -> list[dict[str, str]]:
    count = draw(_ROWS)
    made = []
    for _ in range(count):
        row = {}
        for column in GOOD:
            bad = draw(_ONE_IN_20) == 0
            row[column] = draw(_BAD[column] if bad else _GOOD[column])
        made.append(row)
    return made


@PROPERTY
@given(loan_rows(), st.integers(2, 100))
def test_the_column_pass_gives_the_per_row_parsers_rows_and_errors(
    made: list[dict[str, str]], first_row: int
) -> None:
    expected_errors: list[RowError] = []
    expected = rows.loan_rows(Table("f.csv", "", tuple(made), first_row=first_row), expected_errors)
    errors: list[RowError] = []
    frame = pl.DataFrame(made, schema=dict.fromkeys(made[0], pl.String))
    got = columns.loan_rows(frame, first_row, errors)
    assert errors == expected_errors
    assert [(f.row, f.ok, item) for f, item in got] == [(f.row, f.ok, item) for f, item in expected]


def test_an_optional_column_left_out_is_blank_on_both_passes() -> None:
    made = [{k: v[0] for k, v in GOOD.items() if k not in ("day_count", "email")}]
    expected_errors: list[RowError] = []
    expected = rows.loan_rows(Table("f.csv", "", tuple(made)), expected_errors)
    errors: list[RowError] = []
    got = columns.loan_rows(pl.DataFrame(made), 2, errors)
    assert errors == expected_errors == []
    assert [item for _, item in got] == [item for _, item in expected]


def test_a_whole_number_of_thousands_of_digits_is_refused_not_a_traceback() -> None:
    """``int()`` refuses more than 4 300 digits: that is a value out of range, on both passes."""
    made = [{**{k: v[0] for k, v in GOOD.items()}, "product_version": "9" * 5000}]
    expected_errors: list[RowError] = []
    rows.loan_rows(Table("f.csv", "", tuple(made)), expected_errors)
    errors: list[RowError] = []
    columns.loan_rows(pl.DataFrame(made), 2, errors)
    assert errors == expected_errors
    assert [(e.row, e.field) for e in errors] == [(2, "product_version")]
    assert errors[0].message.endswith("…")  # the quoted value is cut, as any huge value is


PAYMENT_GOOD = {
    "payment_ref": ["P1", "P-2.b_3"],
    "loan_ref": ["L1", "l9"],
    "value_date": ["2026-01-15", "2026-02-28"],
    "amount": ["100.00", "5", "5000.5", "1.000", "+7", " 12"],
    "currency": ["CNY", "JPY", "KWD"],
    "reverses": ["", "", "P1"],
}
PAYMENT_BAD = {
    "payment_ref": ["", "A/B", "x" * 65, "-a"],
    "loan_ref": ["", "借", "a\x00b"],
    "value_date": ["", "2026-02-30", "1969-12-31", "15/01/2026"],
    "amount": ["", "0", "-5", "1e3", "12.345", "10000000000000", "１２", "abc"],
    "currency": ["", "XXX", "cny"],
    "reverses": ["A/B", "." + "x" * 64],
}


_ONE_IN_10 = st.integers(0, 9)
_PAYMENT_GOOD = {column: st.sampled_from(values) for column, values in PAYMENT_GOOD.items()}
_PAYMENT_BAD = {column: st.sampled_from(values) for column, values in PAYMENT_BAD.items()}


@st.composite
def payment_rows(draw: Any) -> list[dict[str, str]]:
    count = draw(_ROWS)
    made = []
    for _ in range(count):
        row = {}
        for column in PAYMENT_GOOD:
            bad = draw(_ONE_IN_10) == 0
            row[column] = draw(_PAYMENT_BAD[column] if bad else _PAYMENT_GOOD[column])
        made.append(row)
    return made


@PROPERTY
@given(payment_rows(), st.integers(2, 100), st.booleans())
def test_the_column_pass_gives_the_per_row_parsers_payment_rows_and_errors(
    made: list[dict[str, str]], first_row: int, with_reverses: bool
) -> None:
    if not with_reverses:
        made = [{k: v for k, v in row.items() if k != "reverses"} for row in made]
    expected_errors: list[RowError] = []
    expected = rows.payment_rows(
        Table("f.csv", "", tuple(made), first_row=first_row), expected_errors
    )
    errors: list[RowError] = []
    frame = pl.DataFrame(made, schema=dict.fromkeys(made[0], pl.String))
    got = columns.payment_rows(frame, first_row, errors)
    assert errors == expected_errors
    assert [(f.row, f.ok, item) for f, item in got] == [(f.row, f.ok, item) for f, item in expected]
