"""Masking keeps enough of an identifier to recognise it and never enough to use it."""

from __future__ import annotations

import logging
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.ledger.masking import MaskPIIFilter, mask_national_id, mask_phone, mask_text

resident_ids = st.from_regex(r"\A[1-6]\d{16}[\dX]\Z", fullmatch=True)
mainland_mobiles = st.from_regex(r"\A1[3-9]\d{9}\Z", fullmatch=True)


def test_a_resident_id_keeps_region_and_last_four() -> None:
    assert mask_national_id("11010119900307451X") == "110101********451X"


@given(resident_ids)
def test_a_masked_resident_id_hides_the_birth_date_and_keeps_its_length(value: str) -> None:
    masked = mask_national_id(value)
    assert len(masked) == len(value)
    assert masked[:6] == value[:6] and masked[-4:] == value[-4:]
    assert set(masked[6:-4]) == {"*"}


@given(st.text(alphabet="0123456789", max_size=8))
def test_a_short_id_is_masked_entirely(value: str) -> None:
    assert mask_national_id(value) == "*" * len(value)


def test_a_phone_keeps_country_prefix_and_last_four() -> None:
    assert mask_phone("+8613812345678") == "+86138****5678"


@given(mainland_mobiles)
def test_a_masked_phone_cannot_be_dialled(number: str) -> None:
    e164 = "+86" + number
    masked = mask_phone(e164)
    assert len(masked) == len(e164)
    assert masked[:-8] == e164[:-8] and masked[-4:] == e164[-4:]
    assert masked[-8:-4] == "****"


@given(resident_ids, mainland_mobiles)
def test_free_text_loses_every_id_and_mobile(resident_id: str, mobile: str) -> None:
    text = f"borrower {resident_id} called from {mobile} about loan WL260000001"
    masked = mask_text(text)
    assert resident_id not in masked
    assert mobile not in masked
    assert "WL260000001" in masked  # a loan reference is not personal data


def test_the_logging_filter_masks_arguments_before_any_handler_sees_them() -> None:
    record = logging.LogRecord(
        "arrears",
        logging.INFO,
        __file__,
        1,
        "id %s phone %s",
        ("11010119900307451X", "13812345678"),
        None,
    )
    assert MaskPIIFilter().filter(record) is True
    assert record.getMessage() == "id 110101********451X phone 138****5678"


# Issue 14 item 7: the ways people write numbers, all masked.
WRITTEN = {
    "+12125551234": "+121****1234",
    "123-45-6789": "***-**-6789",
    "138-1234-5678": "138-****-5678",
    "138 1234 5678": "138 **** 5678",
    "+86 138 1234 5678": "+86 138 **** 5678",
    "(212) 555-1234": "(21*) ***-1234",
    "11010119900307451X": "110101********451X",
    "110101900307451": "110101*****7451",
}


@pytest.mark.parametrize(("written", "masked"), WRITTEN.items())
def test_mask_text_masks_numbers_as_people_write_them(written: str, masked: str) -> None:
    assert mask_text(f"note: call {written} today") == f"note: call {masked} today"


@pytest.mark.parametrize(
    "text",
    [
        "loan WL260000001 paid 1234567.89 on 2026-12-06",
        "promise 50000 fen, plan 12 instalments",
        "case 4711 reassigned",
    ],
)
def test_mask_text_leaves_references_amounts_and_dates_alone(text: str) -> None:
    assert mask_text(text) == text


def test_the_logging_filter_masks_an_exception_traceback() -> None:
    try:
        raise ValueError("no borrower with phone 13812345678")
    except ValueError:
        record = logging.LogRecord(
            "arrears", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    MaskPIIFilter().filter(record)
    assert record.exc_text is not None
    assert "13812345678" not in record.exc_text and "138****5678" in record.exc_text
