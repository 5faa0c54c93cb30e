"""The first pass of validation over whole columns of a chunk, not field by field.

:mod:`~.rows` parses a row's fields one by one (a ``Fields`` call, a memo lookup and a parser
per field: ~90 µs a loans row). Here each column of a chunk's frame is parsed at once:

* references, the borrower's name and the common forms of an amount and of a resident ID
  number as Polars expressions (:func:`refs_ok`, :func:`name_ok`, :func:`amount_minor`,
  :func:`plain_ric_ok`);
* every other field by its own per-field parser (:mod:`~.rows`), called once per distinct
  value of the column (a chunk's currencies, products, rates, terms and dates are a few
  hundred values) or per value where each row has its own (a phone number).

The vectorised checks only *accept*: a value they do not accept goes to the field's own
parser, and a row where any parser refuses a value is parsed again whole by the per-row parser
(:func:`~.rows.loan_fields`, :func:`~.rows.payment_fields`), which gives its errors — so a
refused file reports exactly the ``row N, field F: reason`` lines of the per-row parser, in the
same order.
``tests/ledger/test_import_columns.py`` holds each vectorised check to its parser (same accepted
values, same result) with Hypothesis, and the two passes to the same rows and errors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import phonenumbers
import polars as pl
from stdnum.exceptions import ValidationError as StdnumError

from arrears.kernel import limits
from arrears.kernel.errors import ArrearsError
from arrears.kernel.money import CURRENCY_EXPONENTS
from arrears.ledger import validators
from arrears.ledger.importers import parsers, rows
from arrears.ledger.importers.errors import RowError

#: A value a parser refused (its row is parsed again by the per-row parser, for the message).
REFUSED: Any = object()

_REF = f"^{limits.REF_PATTERN.pattern}$"
#: An amount written as plain ASCII digits with an optional fraction: what the fast path takes
#: (at most 15 whole digits, so the minor units stay well inside int64).
_PLAIN_AMOUNT = r"^([0-9]{1,15})(?:\.([0-9]+))?$"
#: GB 11643's weights of the first 17 digits, and the check character of the sum mod 11.
_RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RIC_CHECK = "10X98765432"


def refs_ok(column: str) -> pl.Expr:
    """Where ``column`` is a reference :func:`~arrears.kernel.limits.check_ref` accepts."""
    return pl.col(column).str.contains(_REF)


def name_ok(column: str) -> pl.Expr:
    """Where ``column`` is a name :func:`~arrears.kernel.limits.check_text` accepts (at most
    200 characters, no control character)."""
    value = pl.col(column)
    return (value.str.len_chars() <= limits.MAX_NAME_LENGTH) & ~value.str.contains(r"\p{Cc}")


def amount_minor(column: str, currency: str) -> pl.Expr:
    """The minor units of ``column`` in the row's ``currency`` where it is written plainly
    (``12000.00``, ``5``), at most the currency's decimals, above zero and within the ledger's
    limit; null where any of that fails (the parser decides those)."""
    parts = pl.col(column).str.extract_groups(_PLAIN_AMOUNT)
    whole = parts.struct.field("1").cast(pl.Int64)
    fraction = parts.struct.field("2").fill_null("")
    places = pl.col(currency).replace_strict(
        CURRENCY_EXPONENTS, default=None, return_dtype=pl.Int64
    )
    short = places - fraction.str.len_chars().cast(pl.Int64)
    scale = {n: 10**n for n in range(max(CURRENCY_EXPONENTS.values()) + 1)}
    minor = whole * places.replace_strict(scale, default=None, return_dtype=pl.Int64) + (
        pl.when(fraction == "").then(0).otherwise(fraction.cast(pl.Int64, strict=False))
    ) * short.replace_strict(scale, default=None, return_dtype=pl.Int64)
    ok = (short >= 0) & (minor > 0) & (minor <= limits.MAX_AMOUNT_MINOR)
    return pl.when(ok).then(minor).otherwise(None)


def plain_ric_ok(column: str) -> pl.Expr:
    """Where ``column`` is 17 ASCII digits and the right check character, with a real birth
    date from year 1000: the region (which depends on the birth year) is left to
    :func:`_ric_regions_ok`."""
    value = pl.col(column)
    total = pl.sum_horizontal(
        value.str.slice(i, 1).cast(pl.Int64, strict=False) * weight
        for i, weight in enumerate(_RIC_WEIGHTS)
    )
    check = total.mod(11).replace_strict(dict(enumerate(_RIC_CHECK)), default=None)
    born = value.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    return (
        value.str.contains(r"^[0-9]{17}[0-9X]$")
        & (value.str.slice(17, 1) == check)
        & (born.dt.year() >= 1000)
    ).fill_null(False)


def mobile_ok(column: str) -> pl.Expr:
    """Where ``column`` is a bare national mobile number of the default region that
    :func:`~arrears.ledger.validators._fast_phone` takes (its E.164 form is then ``+86`` and
    the digits): ASCII digits, not starting with 0, of a mobile length, with no national
    prefix to strip, matching phonenumbers' own general and mobile patterns."""
    region = validators.DEFAULT_PHONE_REGION
    if region not in validators.FAST_PHONE_REGIONS:
        return pl.lit(False)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    prefix = metadata.national_prefix_for_parsing or "(?!)"
    value = pl.col(column)
    return (
        value.str.contains(r"^[1-9][0-9]*$")
        & value.str.len_bytes().is_in(list(metadata.mobile.possible_length))
        & ~value.str.contains(f"^(?:{prefix})")
        & value.str.contains(f"^(?:{metadata.general_desc.national_number_pattern})$")
        & value.str.contains(f"^(?:{metadata.mobile.national_number_pattern})$")
    )


def mobile_prefix() -> str:
    """What makes a number :func:`mobile_ok` accepted E.164: ``+`` and the default region's
    country code (looked up once a chunk, not once a row)."""
    return f"+{phonenumbers.country_code_for_region(validators.DEFAULT_PHONE_REGION)}"


def mobile_e164(text: str) -> str:
    """A number :func:`mobile_ok` accepted, in E.164."""
    return mobile_prefix() + text


def _ric_regions_ok(numbers: Sequence[str]) -> set[str]:
    """Those of ``numbers`` (plain, with a good check character and birth date) whose region
    existed in their birth year, each region and year looked up once."""
    good: set[str] = set()
    known: dict[tuple[str, int], bool] = {}
    for number in numbers:
        key = (number[:6], int(number[6:10]))
        if key not in known:
            try:
                validators._ric_region(*key)
                known[key] = True
            except (KeyError, ValueError, StdnumError):  # as the parser's lookup fails
                known[key] = False
        if known[key]:
            good.add(number)
    return good


def each_distinct(
    texts: list[str],
    parse: Callable[[str], Any],
    *,
    required: bool,
    keys: list[Any] | None = None,
    keyed: Callable[[Any, str], Any] | None = None,
) -> tuple[list[Any], set[int]]:
    """Each value of a column parsed once per distinct text (or ``(key, text)`` with
    ``keyed``): the values (``None`` where blank) and the offsets of the rows to parse again
    (a refused value, or a blank where one is ``required``)."""
    pairs: list[Any] = texts if keys is None else list(zip(keys, texts, strict=True))
    results: dict[Any, Any] = {}
    for pair in set(pairs):
        key, text = (None, pair) if keys is None else pair
        if not text:
            results[pair] = None
            continue
        try:
            results[pair] = parse(text) if keyed is None else keyed(key, text)
        except ArrearsError:
            results[pair] = REFUSED
    values = [results[pair] for pair in pairs]
    refused = any(v is REFUSED for v in results.values())
    blank = required and "" in set(texts)
    if not refused and not blank:
        return values, set()
    bad = {i for i, v in enumerate(values) if v is REFUSED}
    if blank:
        bad.update(i for i, text in enumerate(texts) if not text)
    return values, bad


def _national_id(id_type: Any, text: str) -> Any:
    if id_type is None or id_type is REFUSED:
        return REFUSED  # the row is parsed again: its id_type gives the error
    return rows.NATIONAL_ID[id_type](text)


def _amount_parser(name: str) -> Callable[[Any, str], Any]:
    def parse(currency: Any, text: str) -> Any:
        if currency is None or currency is REFUSED:
            return REFUSED
        return rows.amount(currency, name)(text)

    return parse


def _amounts(
    checks: pl.DataFrame, frame: pl.DataFrame, values: dict[str, Any], name: str, bad: set[int]
) -> list[Any]:
    """The amount column ``name`` in minor units: what the expression accepted (``checks``),
    and every other value through its currency's parser once per distinct (currency, text);
    the rows it refuses are added to ``bad``."""
    column = checks.get_column(name).to_list()
    slow = [i for i, minor in enumerate(column) if minor is None]
    texts = _column(frame, name) if slow else []
    parsed, refused = each_distinct(
        [texts[i] for i in slow],
        str,
        required=True,
        keys=[values["currency"][i] for i in slow],
        keyed=_amount_parser(name),
    )
    for i, value in zip(slow, parsed, strict=True):
        column[i] = value
    bad.update(slow[j] for j in refused)
    return column


def _column(frame: pl.DataFrame, name: str) -> list[str]:
    if name in frame.columns:
        return frame.get_column(name).to_list()
    return [""] * frame.height


#: (item key, column, parser, required) of the loans fields parsed once per distinct value.
_LOAN_DISTINCT: tuple[tuple[str, str, Callable[[str], Any], bool], ...] = (
    ("id_type", "id_type", rows.ID_TYPE, True),
    ("currency", "currency", parsers.currency, True),
    ("time_zone", "time_zone", validators.normalise_time_zone, False),
    ("locale", "locale", rows.LOCALE, True),
    ("email", "email", validators.normalise_email, False),
    ("postal_address", "postal_address", validators.normalise_postal_address, False),
    ("product_version", "product_version", rows.VERSION, True),
    ("rate_basis", "rate_basis", rows.RATE_BASIS, True),
    ("rate", "rate", rows.rate, True),
    ("term", "term", rows.TERM, True),
    ("method", "method", rows.METHOD, True),
    ("start_date", "start_date", rows.START_DATE, True),
    ("day_count", "day_count", rows.DAY_COUNT, False),
)
#: The item's keys in the per-row parser's order.
LOAN_KEYS = (
    "loan_ref", "borrower_ref", "name", "id_type", "national_id", "phone", "time_zone",
    "locale", "email", "postal_address", "product_code", "product_version", "currency",
    "principal", "rate_basis", "rate", "term", "method", "start_date", "day_count",
)  # fmt: skip


def loan_rows(frame: pl.DataFrame, first_row: int, errors: list[RowError]) -> list[rows.Parsed]:
    """The rows of a chunk's frame (``first_row`` the spreadsheet number of its first) as
    :func:`~.rows.loan_rows` gives them: the same values, the same errors."""
    values, fields = loan_columns(frame, first_row, errors)
    parsed: list[rows.Parsed] = []
    for i, row_values in enumerate(zip(*(values[key] for key in LOAN_KEYS), strict=True)):
        f = fields.get(i)
        if f is None:
            f = parsers.Fields(first_row + i, {}, errors)
        parsed.append((f, dict(zip(LOAN_KEYS, row_values, strict=True))))
    return parsed


def loan_columns(
    frame: pl.DataFrame, first_row: int, errors: list[RowError]
) -> tuple[dict[str, list[Any]], dict[int, parsers.Fields]]:
    """The fields of a chunk's rows column by column (:data:`LOAN_KEYS`, each a list by row
    offset), as :func:`~.rows.loan_rows` parses them, with no object per row: validation
    picks the rows it writes by offset. A row with a refused value is parsed again by the
    per-row parser, in row order (its errors noted as that pass notes them), its values put
    in the columns and its :class:`~.parsers.Fields` returned by offset."""
    n = frame.height
    if n == 0:
        return {key: [] for key in LOAN_KEYS}, {}
    present = set(frame.columns)
    checks = frame.select(
        (refs_ok("loan_ref") if "loan_ref" in present else pl.lit(False)).alias("loan_ref"),
        (refs_ok("borrower_ref") if "borrower_ref" in present else pl.lit(False)).alias(
            "borrower_ref"
        ),
        (
            (pl.col("borrower_name") != "") & name_ok("borrower_name")
            if "borrower_name" in present
            else pl.lit(False)
        ).alias("name"),
        (
            amount_minor("principal", "currency")
            if {"principal", "currency"} <= present
            else pl.lit(None, dtype=pl.Int64)
        ).alias("principal"),
        (
            (pl.col("id_type") == "cn_ric") & plain_ric_ok("national_id")
            if {"id_type", "national_id"} <= present
            else pl.lit(False)
        ).alias("ric"),
        (mobile_ok("phone") if "phone" in present else pl.lit(False)).alias("mobile"),
    )
    bad: set[int] = set()
    for name in ("loan_ref", "borrower_ref", "name"):
        column = checks.get_column(name)
        if not column.all():
            bad.update(column.not_().arg_true().to_list())
    values: dict[str, list[Any]] = {
        "loan_ref": _column(frame, "loan_ref"),
        "borrower_ref": _column(frame, "borrower_ref"),
        "name": _column(frame, "borrower_name"),
        "product_code": _column(frame, "product_code"),
    }
    if "" in set(values["product_code"]):
        bad.update(i for i, code in enumerate(values["product_code"]) if not code)
    for key, name, parse, required in _LOAN_DISTINCT:
        values[key], refused = each_distinct(_column(frame, name), parse, required=required)
        bad |= refused
    for key in ("email", "postal_address"):
        values[key] = [value or "" for value in values[key]]

    national = _column(frame, "national_id")
    plain = checks.get_column("ric").to_list()
    good_rics = _ric_regions_ok([number for number, ok in zip(national, plain, strict=True) if ok])
    slow = [i for i, ok in enumerate(plain) if not ok or national[i] not in good_rics]
    ids = list(national)
    parsed_ids, refused = each_distinct(
        [national[i] for i in slow],
        str,
        required=True,
        keys=[values["id_type"][i] for i in slow],
        keyed=_national_id,
    )
    for i, value in zip(slow, parsed_ids, strict=True):
        ids[i] = value
    bad.update(slow[j] for j in refused)
    values["national_id"] = ids

    phones = _column(frame, "phone")
    mobile = checks.get_column("mobile").to_list()
    prefix = mobile_prefix()
    values["phone"] = [prefix + p if ok else p for p, ok in zip(phones, mobile, strict=True)]
    slow = [i for i, ok in enumerate(mobile) if not ok]
    parsed_phones, refused = each_distinct(
        [phones[i] for i in slow], validators.normalise_phone, required=True
    )
    for i, value in zip(slow, parsed_phones, strict=True):
        values["phone"][i] = value
    bad.update(slow[j] for j in refused)

    values["principal"] = _amounts(checks, frame, values, "principal", bad)

    # the rate against its basis's cap: once per distinct pair
    capped: dict[tuple[Any, Any], bool] = {}
    for i, pair in enumerate(zip(values["rate"], values["rate_basis"], strict=True)):
        if pair not in capped:
            rate, basis = pair
            ok = True
            if (
                rate is not None
                and rate is not REFUSED
                and basis is not None
                and basis is not REFUSED
            ):
                try:
                    limits.check_daily_rate(rate, basis.value)
                except ArrearsError:
                    ok = False
            capped[pair] = ok
        if not capped[pair]:
            bad.add(i)

    fields: dict[int, parsers.Fields] = {}
    for i in sorted(bad):
        f = parsers.Fields(first_row + i, frame.row(i, named=True), errors)
        item = rows.loan_fields(f)
        for key in LOAN_KEYS:
            values[key][i] = item[key]
        fields[i] = f
    return values, fields


#: The item's keys of a payments row in the per-row parser's order.
_PAYMENT_KEYS = ("ref", "loan_ref", "value_date", "amount", "currency", "reverses")


def payment_rows(frame: pl.DataFrame, first_row: int, errors: list[RowError]) -> list[rows.Parsed]:
    """The rows of a payments chunk's frame as :func:`~.rows.payment_rows` gives them: the
    references (the reversed one optional) and a plainly written amount as expressions, the
    value date and the currency once per distinct value, any other amount once per distinct
    ``(currency, text)``; a row with a refused value parsed again by the per-row parser."""
    n = frame.height
    if n == 0:
        return []
    present = set(frame.columns)
    checks = frame.select(
        (refs_ok("payment_ref") if "payment_ref" in present else pl.lit(False)).alias("ref"),
        (refs_ok("loan_ref") if "loan_ref" in present else pl.lit(False)).alias("loan_ref"),
        (
            (pl.col("reverses") == "") | refs_ok("reverses")
            if "reverses" in present
            else pl.lit(True)
        ).alias("reverses"),
        (
            amount_minor("amount", "currency")
            if {"amount", "currency"} <= present
            else pl.lit(None, dtype=pl.Int64)
        ).alias("amount"),
    )
    bad: set[int] = set()
    for name in ("ref", "loan_ref", "reverses"):
        column = checks.get_column(name)
        if not column.all():
            bad.update(column.not_().arg_true().to_list())
    values: dict[str, list[Any]] = {
        "ref": _column(frame, "payment_ref"),
        "loan_ref": _column(frame, "loan_ref"),
        "reverses": _column(frame, "reverses"),
    }
    for key, parse in (("value_date", rows.VALUE_DATE), ("currency", parsers.currency)):
        values[key], refused = each_distinct(_column(frame, key), parse, required=True)
        bad |= refused

    values["amount"] = _amounts(checks, frame, values, "amount", bad)

    parsed: list[rows.Parsed] = []
    columns = [values[key] for key in _PAYMENT_KEYS]
    for i, row_values in enumerate(zip(*columns, strict=True)):
        row = first_row + i
        if i in bad:
            f = parsers.Fields(row, frame.row(i, named=True), errors)
            parsed.append((f, rows.payment_fields(f)))
        else:
            parsed.append(
                (
                    parsers.Fields(row, {}, errors),
                    dict(zip(_PAYMENT_KEYS, row_values, strict=True)),
                )
            )
    return parsed
