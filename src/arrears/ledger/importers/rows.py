"""Rows → typed fields: the first pass of validation, over the whole batch of rows at once.

Each value of each row is parsed on its own (:mod:`~.parsers`), every bad field noted as
``row N, field F: reason`` and the row read to its end; nothing here compares rows with each
other or with the database — that is :mod:`~.loan_validation` and :mod:`~.payment_validation`,
which start from what this returns. A loans or payments chunk read from a file is parsed
column by column (:mod:`~.columns`), which is held to this pass and falls back to it for a row
with a bad field; this pass parses a refused file's rows, the payments a reversal names and
tables built from rows.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, partial
from typing import Any

from arrears.kernel import limits
from arrears.kernel.errors import ArrearsError
from arrears.kernel.terms import DayCount, RateBasis, ScheduleMethod
from arrears.ledger import services
from arrears.ledger.importers import parsers
from arrears.ledger.importers.errors import RowError
from arrears.ledger.importers.reading import Table
from arrears.ledger.validators import (
    ID_TYPES,
    LOCALES,
    normalise_choice,
    normalise_email,
    normalise_phone,
    normalise_postal_address,
    normalise_time_zone,
    parse_decimal,
)

#: A row as parsed: its :class:`~.parsers.Fields` (the row number, whether every field was
#: good, and where later checks add the row's errors) and its values by field name, each
#: ``None`` (or blank) where it was missing or bad.
Parsed = tuple[parsers.Fields, dict[str, Any]]


# The parsers of the fields, made once (not once per row); :mod:`~.columns` uses them too.
ID_TYPE = partial(normalise_choice, field="id_type", allowed=ID_TYPES)
LOCALE = partial(normalise_choice, field="locale", allowed=LOCALES)
VERSION = parsers.integer(1, 2**31 - 1)
TERM = parsers.integer(1, 600)
RATE_BASIS = parsers.enum(RateBasis, "rate basis")
METHOD = parsers.enum(ScheduleMethod, "schedule method")
DAY_COUNT = parsers.enum(DayCount, "day count")
START_DATE = parsers.date_for("start_date")
VALUE_DATE = parsers.date_for("value_date")
NATIONAL_ID = {id_type: partial(parsers.national_id, id_type=id_type) for id_type in ID_TYPES}


def rate(text: str) -> Any:
    return services.check_rate(parse_decimal(text, "rate"))


@lru_cache(maxsize=64)
def amount(currency: str | None, name: str) -> Callable[[str], int | None]:
    return parsers.positive_amount(currency, name)


def loan_fields(f: parsers.Fields) -> dict[str, Any]:
    """Each field of a loans row on its own (``None`` where it is bad, with the error noted)."""
    id_type = f.parse("id_type", ID_TYPE, repeats=True)
    currency = f.parse("currency", parsers.currency, repeats=True)
    fields = {
        "loan_ref": f.ref("loan_ref"),
        "borrower_ref": f.ref("borrower_ref"),
        "name": f.name("borrower_name"),
        "id_type": id_type,
        "national_id": (
            f.parse("national_id", NATIONAL_ID[id_type], key=id_type)
            if id_type
            else f.text("national_id")
        ),
        "phone": f.parse("phone", normalise_phone),
        "time_zone": f.parse("time_zone", normalise_time_zone, required=False, repeats=True),
        "locale": f.parse("locale", LOCALE, repeats=True),
        "email": f.parse("email", normalise_email, required=False) or "",
        "postal_address": f.parse("postal_address", normalise_postal_address, required=False) or "",
        "product_code": f.text("product_code"),
        "product_version": f.parse("product_version", VERSION, repeats=True),
        "currency": currency,
        "principal": f.parse(
            "principal", amount(currency, "principal"), key=currency, repeats=True
        ),
        "rate_basis": f.parse("rate_basis", RATE_BASIS, repeats=True),
        "rate": f.parse("rate", rate, repeats=True),
        "term": f.parse("term", TERM, repeats=True),
        "method": f.parse("method", METHOD, repeats=True),
        "start_date": f.parse("start_date", START_DATE, repeats=True),
        "day_count": f.parse("day_count", DAY_COUNT, required=False, repeats=True),
    }  # fmt: skip
    if fields["rate"] is not None and fields["rate_basis"] is not None:
        try:
            limits.check_daily_rate(fields["rate"], fields["rate_basis"].value)
        except ArrearsError as error:
            f.error("rate", str(error))
    return fields


def loan_rows(table: Table, errors: list[RowError]) -> list[Parsed]:
    """Every row of a loans file as typed fields, with its spreadsheet row number."""
    parsed: list[Parsed] = []
    memo = parsers.Memo()
    for row, values in table.numbered():
        f = parsers.Fields(row, values, errors, memo)
        parsed.append((f, loan_fields(f)))
    return parsed


def payment_fields(f: parsers.Fields) -> dict[str, Any]:
    """Each field of a payments row on its own (``None`` where it is bad, with the error noted)."""
    currency = f.parse("currency", parsers.currency, repeats=True)
    return {
        "ref": f.ref("payment_ref"),
        "loan_ref": f.ref("loan_ref"),
        "value_date": f.parse("value_date", VALUE_DATE, repeats=True),
        "amount": f.parse("amount", amount(currency, "amount"), key=currency, repeats=True),
        "currency": currency,
        "reverses": f.ref("reverses", required=False),
    }


def payment_rows(table: Table, errors: list[RowError]) -> list[Parsed]:
    """Every row of a payments file as typed fields, with its spreadsheet row number."""
    parsed: list[Parsed] = []
    memo = parsers.Memo()
    for row, values in table.numbered():
        f = parsers.Fields(row, values, errors, memo)
        parsed.append((f, payment_fields(f)))
    return parsed
