"""Identifier validation: checksums, normal forms, and errors that never leak the full value."""

from __future__ import annotations

from datetime import date
from itertools import permutations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from arrears.kernel.terms import Component
from arrears.ledger.validators import (
    InvalidChoice,
    InvalidNationalId,
    InvalidPhone,
    UnknownTimeZone,
    normalise_national_id,
    normalise_phone,
    normalise_time_zone,
    parse_allocation_order,
    parse_decimal,
    validate_allocation_order,
    validate_currency,
    validate_e164,
    validate_time_zone,
)

# GB 11643-1999: weights 2^(17-i) mod 11, check value (12 - sum mod 11) mod 11, 10 written X.
_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]


def resident_id(body: str) -> str:
    """An 18-character resident ID for a 17-digit body, check character by ISO 7064 MOD 11-2
    (written out here, independently of the library the code under test uses)."""
    check = (12 - sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11) % 11
    return body + ("X" if check == 10 else str(check))


birth_dates = st.dates(min_value=date(1930, 1, 1), max_value=date(2007, 12, 31))
sequences = st.integers(min_value=0, max_value=999)


@given(birth_dates, sequences)
def test_a_resident_id_with_a_correct_check_character_is_accepted(born: date, seq: int) -> None:
    value = resident_id(f"110101{born:%Y%m%d}{seq:03d}")  # 110101: Beijing, Dongcheng
    assert normalise_national_id(value, "cn_ric") == value


@given(birth_dates, sequences, st.sampled_from("0123456789X"))
def test_a_resident_id_with_a_wrong_check_character_is_refused(
    born: date, seq: int, check: str
) -> None:
    good = resident_id(f"110101{born:%Y%m%d}{seq:03d}")
    if check == good[-1]:
        return
    bad = good[:-1] + check
    with pytest.raises(InvalidNationalId) as caught:
        normalise_national_id(bad, "cn_ric")
    assert "check digit" in str(caught.value)
    assert bad not in str(caught.value)  # the message never carries the full number


def test_a_lowercase_x_and_spaces_are_normalised() -> None:
    value = next(
        v for seq in range(1000) if (v := resident_id(f"11010119800101{seq:03d}")).endswith("X")
    )
    spaced = f" {value[:6]} {value[6:14]} {value[14:].lower()} "
    assert normalise_national_id(spaced, "cn_ric") == value


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1101011990030745", "wrong length"),
        (resident_id("11010119900230001"), "region, birth date"),  # 30 February
    ],
)
def test_a_malformed_resident_id_says_what_is_wrong(value: str, reason: str) -> None:
    with pytest.raises(InvalidNationalId, match=reason):
        normalise_national_id(value, "cn_ric")


def test_an_ssn_is_stored_as_nine_digits() -> None:
    assert normalise_national_id("536-90-4399", "us_ssn") == "536904399"


@pytest.mark.parametrize("value", ["666-12-3456", "900-12-3456", "078-05-1120", "123-00-4567"])
def test_never_issued_ssns_are_refused(value: str) -> None:
    with pytest.raises(InvalidNationalId, match="us_ssn"):
        normalise_national_id(value, "us_ssn")


def test_other_documents_are_kept_as_given_but_must_be_short() -> None:
    assert normalise_national_id("E12345678", "other") == "E12345678"
    with pytest.raises(InvalidNationalId):
        normalise_national_id("A" * 33, "other")


def test_an_unknown_id_type_is_an_error_naming_the_choices() -> None:
    with pytest.raises(InvalidChoice, match="cn_ric, us_ssn, other"):
        normalise_national_id("123", "passport")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13812345678", "+8613812345678"),
        ("138 1234 5678", "+8613812345678"),
        ("021-6123-4567", "+862161234567"),
        ("+1 650-253-0000", "+16502530000"),
    ],
)
def test_phones_are_normalised_to_e164_reading_national_numbers_as_chinese(
    value: str, expected: str
) -> None:
    assert normalise_phone(value) == expected


@pytest.mark.parametrize("value", ["12345", "1381234567", "not a phone", ""])
def test_invalid_phones_are_refused_without_echoing_them(value: str) -> None:
    with pytest.raises(InvalidPhone) as caught:
        normalise_phone(value)
    if len(value) > 7:
        assert value not in str(caught.value)


def test_the_e164_field_validator_refuses_a_national_format() -> None:
    validate_e164("+8613812345678")
    with pytest.raises(ValidationError, match=r"E\.164"):
        validate_e164("13812345678")


@pytest.mark.parametrize("name", ["Asia/Shanghai", "America/New_York", "UTC"])
def test_iana_time_zones_are_accepted(name: str) -> None:
    assert normalise_time_zone(name) == name
    validate_time_zone(name)


@pytest.mark.parametrize("name", ["Mars/Olympus", "../../etc/passwd", "CST+8", "Beijing"])
def test_unknown_time_zones_are_refused(name: str) -> None:
    with pytest.raises(UnknownTimeZone, match="IANA"):
        normalise_time_zone(name)
    with pytest.raises(ValidationError):
        validate_time_zone(name)


def test_an_empty_time_zone_means_unknown_and_is_allowed() -> None:
    validate_time_zone(None)
    validate_time_zone("")


@given(st.permutations(list(Component)))
def test_every_order_of_the_four_components_is_a_valid_allocation_order(
    order: list[Component],
) -> None:
    text = ", ".join(c.value for c in order)
    assert parse_allocation_order(text) == tuple(order)


@pytest.mark.parametrize(
    "text",
    [
        "penalty,interest,principal",  # one missing
        "penalty,penalty,interest,principal",  # one twice
        "penalty,compound,interest,principal,fees",  # one unknown
        "",
    ],
)
def test_an_allocation_order_must_name_each_component_once(text: str) -> None:
    with pytest.raises(InvalidChoice, match="exactly once"):
        parse_allocation_order(text)
    with pytest.raises(ValidationError):
        validate_allocation_order(text)


def test_there_are_exactly_twenty_four_allocation_orders() -> None:
    valid = {
        order
        for order in permutations(["penalty", "compound", "interest", "principal", "principal"], 4)
        if _valid(",".join(order))
    }
    assert len(valid) == 24


def _valid(text: str) -> bool:
    try:
        parse_allocation_order(text)
    except InvalidChoice:
        return False
    return True


@pytest.mark.parametrize("text", ["1e3", "NaN", "1,000.00", "Infinity", "0x10", "1.", ".5", ""])
def test_only_plain_decimal_numbers_are_read(text: str) -> None:
    with pytest.raises(InvalidChoice, match="not a decimal number"):
        parse_decimal(text, "amount")


def test_a_plain_decimal_is_read_exactly() -> None:
    assert str(parse_decimal("0.00050000", "rate")) == "0.00050000"


def test_only_known_currencies_pass_the_field_validator() -> None:
    validate_currency("CNY")
    with pytest.raises(ValidationError, match="ISO 4217"):
        validate_currency("XYZ")


def test_a_resident_id_whose_region_has_no_counties_is_refused_not_crashed() -> None:
    # python-stdnum raises KeyError for some region rows (620201 here); that is bad input.
    from stdnum.cn import ric

    body = "62020119900307451"
    number = body + ric.calc_check_digit(body + "0")
    with pytest.raises(InvalidNationalId, match="region code 620201 is not a county"):
        normalise_national_id(number, "cn_ric")


# --- the fast paths of an import: the same answers as the libraries' full paths --------------


def _full_phone(text: str) -> str | None:
    import phonenumbers

    try:
        parsed = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _ours(text: str) -> str | None:
    from arrears.ledger.validators import InvalidPhone, normalise_phone

    try:
        return normalise_phone(text)
    except InvalidPhone:
        return None


@given(
    st.one_of(
        st.integers(10_000_000_000, 19_999_999_999).map(str),  # every 1xx… national number
        st.from_regex(r"\A[0-9]{5,13}\Z"),
    )
)
def test_a_bare_national_number_is_read_as_phonenumbers_reads_it(text: str) -> None:
    assert _ours(text) == _full_phone(text)


def test_every_chinese_mobile_prefix_is_read_as_phonenumbers_reads_it() -> None:
    for prefix in range(1000, 2000):
        for tail in ("0000000", "5555555", "9999999", "0123456"):
            text = f"{prefix}{tail}"
            assert _ours(text) == _full_phone(text), text


@given(
    region=st.one_of(
        st.sampled_from(["110101", "440305", "310115", "110100", "230183", "429021"]),
        st.from_regex(r"\A[1-9][0-9]{5}\Z"),
    ),
    born=st.from_regex(r"\A(19[0-9][0-9]|20[0-2][0-9])(0[0-9]|1[0-3])[0-3][0-9][0-9]{3}\Z"),
    last=st.one_of(st.none(), st.sampled_from("0123456789X")),
)
def test_a_resident_id_is_checked_as_python_stdnum_checks_it(
    region: str, born: str, last: str | None
) -> None:
    from stdnum.cn import ric
    from stdnum.exceptions import ValidationError as StdnumError

    from arrears.ledger.validators import InvalidNationalId

    body = region + born
    number = body + (last or ric.calc_check_digit(body + "0"))
    try:
        expected: str | None = ric.validate(number)
    except (StdnumError, KeyError):
        expected = None
    try:
        mine: str | None = normalise_national_id(number, "cn_ric")
    except InvalidNationalId:
        mine = None
    assert mine == expected
