"""Validation and normalisation of the identifiers a ledger row carries.

Each ``normalise_*`` function returns the canonical stored form or raises a typed
:class:`~arrears.kernel.errors.ArrearsError` whose message names the field and never echoes a
full ID or phone number (messages end up in logs and import reports). The ``validate_*``
wrappers turn those errors into Django ``ValidationError`` for model fields and admin forms.
"""

from __future__ import annotations

import functools
import re
import unicodedata
import zoneinfo
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.us import ssn

from arrears.kernel import terms
from arrears.kernel.errors import ArrearsError, InvalidTerms
from arrears.kernel.money import CURRENCY_EXPONENTS
from arrears.kernel.terms import Component
from arrears.ledger.masking import mask_national_id, mask_phone


class InvalidNationalId(ArrearsError):
    code = "ledger-invalid-national-id"


class InvalidPhone(ArrearsError):
    code = "ledger-invalid-phone"


class UnknownTimeZone(ArrearsError):
    code = "ledger-unknown-time-zone"


class InvalidChoice(ArrearsError):
    code = "ledger-invalid-choice"


class InvalidContact(ArrearsError):
    """An e-mail or postal address that cannot carry a notice (the message never echoes it)."""

    code = "ledger-invalid-contact"


ID_TYPES: tuple[str, ...] = ("cn_ric", "us_ssn", "other")
LOCALES: tuple[str, ...] = ("zh-hans", "en")
DEFAULT_PHONE_REGION = "CN"
#: RFC 5321's limit on a forward path, and Django's ``EmailField`` default.
MAX_EMAIL_LENGTH = 254
#: A letter's address block: enough for any Chinese or US address with a building and room.
MAX_ADDRESS_LENGTH = 300
_OTHER_ID = re.compile(r"[0-9A-Za-z\-/ .]{1,32}")


def _stdnum_reason(error: StdnumError) -> str:
    if isinstance(error, InvalidChecksum):
        return "its check digit does not match"
    if isinstance(error, InvalidLength):
        return "it has the wrong length"
    if isinstance(error, InvalidComponent):
        return "its region, birth date or number group is not valid"
    return "it has the wrong format"


def normalise_national_id(value: str, id_type: str) -> str:
    """The compact stored form of ``value`` as an ID of ``id_type``.

    ``cn_ric`` is the 18-character PRC resident identity card number (GB 11643: region, birth
    date, sequence, ISO 7064 check character); ``us_ssn`` a US Social Security number (area,
    group, serial; never-issued ranges refused); ``other`` any short alphanumeric document
    number, stored as given.
    """
    text = (value or "").strip()
    if not text:
        raise InvalidNationalId("national_id: is required")
    if id_type == "cn_ric":
        text = re.sub(r"[\s-]", "", text).upper()
        validator: Callable[[str], str] = _validate_ric
    elif id_type == "us_ssn":
        validator = ssn.validate
    elif id_type == "other":
        if not _OTHER_ID.fullmatch(text):
            raise InvalidNationalId(
                "national_id: expected up to 32 letters, digits, spaces or - / ."
            )
        return text
    else:
        raise InvalidChoice(
            f"id_type: {id_type!r} is not an ID type (expected {', '.join(ID_TYPES)})"
        )
    try:
        return validator(text)
    except StdnumError as error:
        raise InvalidNationalId(
            f"national_id: {mask_national_id(text)} is not a valid {id_type} number "
            f"({_stdnum_reason(error)})"
        ) from None
    except KeyError:
        # python-stdnum's region table has province/city rows without counties; looking one
        # up raises KeyError. A resident ID must name a county, so this is a bad region.
        raise InvalidNationalId(
            f"national_id: {mask_national_id(text)} is not a valid {id_type} number "
            f"(region code {text[:6]} is not a county)"
        ) from None


_PLAIN_RIC = re.compile(r"[0-9]{17}[0-9X]")


def _validate_ric(number: str) -> str:
    """``ric.validate``, the region looked up once per region and birth year: python-stdnum
    reads its region table (and cleans the number four times) for every number, two thirds of
    an import's time per ID. A number that is not 17 ASCII digits and a check character goes
    to ``ric.validate`` whole (its cleaning maps full-width digits and the like)."""
    if not _PLAIN_RIC.fullmatch(number):
        return ric.validate(number)
    if number[-1] != ric.calc_check_digit(number):
        raise InvalidChecksum()
    try:  # ric.get_birth_date without its cleaning (the number is already plain)
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidComponent() from None
    _ric_region(number[:6], born.year)
    return number


@functools.lru_cache(maxsize=16384)
def _ric_region(region: str, year: int) -> None:
    """Raises as ``ric.get_birth_place`` does for a number of ``region`` born in ``year``
    (the place depends on these alone)."""
    ric.get_birth_place(f"{region}{year:04d}01010000")


#: Regions whose bare national mobile numbers take :func:`_fast_phone` (held to phonenumbers'
#: parser, number by number, by ``tests/ledger/test_validators.py``).
FAST_PHONE_REGIONS = frozenset({"CN"})


@functools.lru_cache(maxsize=8)
def _plain_mobile(region: str) -> tuple[re.Pattern[str], re.Pattern[str], frozenset[int], str]:
    """The region's mobile-number pattern (with its general pattern, as phonenumbers checks
    both), national-prefix pattern, mobile lengths and country code, from phonenumbers' own
    metadata."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    general = metadata.general_desc.national_number_pattern
    return (
        re.compile(f"(?=(?:{general})$)(?:{metadata.mobile.national_number_pattern})"),
        re.compile(metadata.national_prefix_for_parsing or "(?!)"),
        frozenset(metadata.mobile.possible_length),
        str(metadata.country_code),
    )


def _fast_phone(text: str, region: str) -> str | None:
    """A mobile number written as bare national digits (``13812345678``), in E.164 without
    phonenumbers' parser (80 µs a number): valid exactly when it matches the region's mobile
    pattern and length, does not start with 0 and has no national prefix to strip. ``None``
    for anything else, which takes the full path."""
    if region not in FAST_PHONE_REGIONS or not (text.isascii() and text.isdigit()):
        return None
    mobile, prefix, lengths, country_code = _plain_mobile(region)
    if text[0] == "0" or len(text) not in lengths or prefix.match(text):
        return None
    if not mobile.fullmatch(text):
        return None
    return f"+{country_code}{text}"


def normalise_phone(value: str, region: str = DEFAULT_PHONE_REGION) -> str:
    """``value`` in E.164 (``+8613812345678``); national numbers are read in ``region``."""
    text = (value or "").strip()
    if not text:
        raise InvalidPhone("phone: is required")
    fast = _fast_phone(text, region)
    if fast is not None:
        return fast
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone(f"phone: {mask_phone(text)} is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(value: str) -> str:
    """An e-mail address as Django's ``EmailField`` accepts it, its domain in lower case."""
    text = (value or "").strip()
    if len(text) > MAX_EMAIL_LENGTH:
        raise InvalidContact(f"email: is longer than {MAX_EMAIL_LENGTH} characters")
    try:
        validate_email(text)
    except ValidationError:
        raise InvalidContact("email: is not a valid e-mail address (name@example.com)") from None
    local, domain = text.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def normalise_postal_address(value: str) -> str:
    """A postal address for letters: lines kept, spaces inside a line collapsed, empty lines
    dropped; at most :data:`MAX_ADDRESS_LENGTH` characters and no control characters."""
    lines = [" ".join(line.split()) for line in (value or "").strip().splitlines()]
    text = "\n".join(line for line in lines if line)
    if not text:
        raise InvalidContact("postal_address: is empty")
    if len(text) > MAX_ADDRESS_LENGTH:
        raise InvalidContact(
            f"postal_address: has {len(text)} characters; at most {MAX_ADDRESS_LENGTH}"
        )
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in text.replace("\n", "")):
        raise InvalidContact("postal_address: contains control characters")
    return text


@functools.lru_cache(maxsize=1024)
def normalise_time_zone(value: str) -> str:
    """An IANA time zone name known to ``zoneinfo`` (``Asia/Shanghai``), returned as given."""
    text = (value or "").strip()
    try:
        if len(text) > 64:  # the column's length; a long name is no zone (and no file name)
            raise ValueError(text)
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownTimeZone(
            f"time_zone: {text[:64]!r} is not an IANA time zone (e.g. Asia/Shanghai)"
        ) from None
    return text


def normalise_choice(value: str, field: str, allowed: tuple[str, ...]) -> str:
    text = (value or "").strip()
    if text not in allowed:
        raise InvalidChoice(f"{field}: {text!r} is not one of {', '.join(allowed)}")
    return text


def parse_allocation_order(value: str) -> tuple[Component, ...]:
    """``"penalty,compound,interest,principal"`` → the component tuple; each name exactly once."""
    try:
        return terms.parse_allocation_order(value)
    except InvalidTerms as error:
        raise InvalidChoice(str(error)) from None


def parse_decimal(value: str, field: str) -> Decimal:
    """A plain decimal string (``0.0005``, ``18``); exponents, ``NaN`` and commas are refused."""
    text = (value or "").strip()
    if not re.fullmatch(r"[+-]?\d+(\.\d+)?", text):
        raise InvalidChoice(f"{field}: {text!r} is not a decimal number")
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern already rules this out
        raise InvalidChoice(f"{field}: {text!r} is not a decimal number") from None


# --- Django field validators -------------------------------------------------------------


def _django_error(error: ArrearsError) -> ValidationError:
    return ValidationError(str(error), code=error.code)


def validate_time_zone(value: str | None) -> None:
    """Django validator: an empty time zone means unknown and is allowed."""
    if value:
        try:
            normalise_time_zone(value)
        except ArrearsError as error:
            raise _django_error(error) from None


def validate_e164(value: str) -> None:
    """Django validator: the value must already be a valid number in E.164 form."""
    try:
        normalised = normalise_phone(value)
    except ArrearsError as error:
        raise _django_error(error) from None
    if normalised != value:
        raise ValidationError(
            f"phone: {mask_phone(value)} must be stored in E.164 form ({mask_phone(normalised)})",
            code="ledger-phone-not-e164",
        )


def validate_allocation_order(value: str) -> None:
    try:
        parse_allocation_order(value)
    except ArrearsError as error:
        raise _django_error(error) from None


def validate_currency(value: str) -> None:
    if value not in CURRENCY_EXPONENTS:
        raise ValidationError(
            f"currency: {value!r} is not a supported ISO 4217 code (e.g. CNY, USD)",
            code="money-unknown-currency",
        )
