"""Import of loans and payments from CSV or Parquet: every row validated, then all or nothing.

The shape is beancount's: reading and validation return values plus a list of errors
(:class:`RowError`, numbered as a spreadsheet user sees rows: the header is row 1), and only
a plan without a single error is applied, in one transaction. A row whose reference is already
in the database with identical data is *skipped* (so importing a file twice changes nothing);
the same reference with different data is an error. References are checked with one query per
chunk of rows, never one per row, and rows are written with ``bulk_create``.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
from django.db import IntegrityError, connection, transaction
from django.db.models import Q

from arrears.kernel.calendar import parse_date
from arrears.kernel.errors import ArrearsError, InvalidAmount, UnknownCurrency
from arrears.kernel.money import CURRENCY_EXPONENTS, Money
from arrears.kernel.terms import DayCount, Instalment, InterestRate, RateBasis, ScheduleMethod
from arrears.ledger import models, services
from arrears.ledger.validators import (
    ID_TYPES,
    LOCALES,
    InvalidChoice,
    normalise_choice,
    normalise_email,
    normalise_national_id,
    normalise_phone,
    normalise_postal_address,
    normalise_time_zone,
    parse_decimal,
)

T = TypeVar("T")

LOAN_COLUMNS: tuple[str, ...] = (
    "loan_ref",
    "borrower_ref",
    "borrower_name",
    "id_type",
    "national_id",
    "phone",
    "time_zone",
    "locale",
    "product_code",
    "product_version",
    "currency",
    "principal",
    "rate_basis",
    "rate",
    "term",
    "method",
    "start_date",
)
#: ``email`` and ``postal_address`` are the borrower's: for e-mail notices and letters.
LOAN_OPTIONAL: tuple[str, ...] = ("day_count", "email", "postal_address")
PAYMENT_COLUMNS: tuple[str, ...] = ("payment_ref", "loan_ref", "value_date", "amount", "currency")
PAYMENT_OPTIONAL: tuple[str, ...] = ("reverses",)

#: References per ``IN (…)`` query (well under SQLite's bound-parameter limit).
LOOKUP_CHUNK = 500
BULK_BATCH = 1000
INSERT_BATCH = 5000
FIRST_DATA_ROW = 2  # row 1 is the header
MAX_REF_LENGTH = 64


class ImportRejected(ArrearsError):
    """The file was not applied at all; ``errors`` lists every problem found."""

    code = "ledger-import-rejected"

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = tuple(errors)
        lines = "\n".join(str(error) for error in self.errors)
        super().__init__(f"{len(self.errors)} error(s); nothing was imported:\n{lines}")


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem: ``row`` as a spreadsheet numbers it (``None`` for the file as a whole)."""

    row: int | None
    field: str
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return f"{self.field}: {self.message}"
        return f"row {self.row}, field {self.field}: {self.message}"


@dataclass(frozen=True, slots=True)
class Table:
    """A file read as text: every value a stripped ``str`` (empty when missing)."""

    file_name: str
    sha256: str
    rows: tuple[dict[str, str], ...]


@dataclass(frozen=True, slots=True)
class ImportResult:
    kind: str
    file_name: str
    rows: int
    applied: int
    skipped: int
    batch_id: int
    #: known borrowers whose blank e-mail or postal address the file filled in
    contacts_added: int = 0

    def summary(self) -> str:
        text = f"{self.kind} from {self.file_name}: applied {self.applied}, skipped {self.skipped}"
        if self.contacts_added:
            text += f"; contact details added to {self.contacts_added} known borrower(s)"
        return text


# --- reading --------------------------------------------------------------------------------


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _file_error(message: str) -> ImportRejected:
    return ImportRejected([RowError(None, "file", message)])


def _read_frame(path: Path, data: bytes) -> pl.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            # Every column as text: nothing is coerced (leading zeros, "1e3", 0.1) behind our back.
            return pl.read_csv(io.BytesIO(data), infer_schema=False, encoding="utf8")
        if suffix in {".parquet", ".pq"}:
            frame = pl.read_parquet(io.BytesIO(data))
            floats = [name for name, dtype in frame.schema.items() if dtype.is_float()]
            if floats:
                raise _file_error(
                    f"column(s) {', '.join(floats)} hold floating-point numbers; write amounts "
                    "and rates as text or decimal so no value is rounded"
                )
            return frame.with_columns(pl.all().cast(pl.String))
    except pl.exceptions.NoDataError:
        raise _file_error(f"{path.name} is empty") from None
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException) as error:
        raise _file_error(
            f"{path.name} is not a readable {suffix.lstrip('.')} file: {_first_line(error)}"
        ) from None
    raise _file_error(f"{path.name}: expected a .csv or .parquet file, got {suffix or 'none'!r}")


def read_table(path: Path | str, *, required: Sequence[str], optional: Sequence[str]) -> Table:
    """Read ``path`` (CSV or Parquet by extension) as text and check its columns by name."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise _file_error(f"cannot read {path.name}: {error.strerror or error}") from None
    frame = _read_frame(path, data)
    names = [name.lstrip("\ufeff").strip() for name in frame.columns]
    errors: list[RowError] = []
    seen: set[str] = set()
    known = (*required, *optional)
    for name in names:
        duplicate = re.fullmatch(r"(.+)_duplicated_\d+", name)
        if name in seen or (duplicate and duplicate.group(1) in names):
            base = duplicate.group(1) if duplicate else name
            errors.append(RowError(1, base, "column appears more than once"))
        elif name not in known:
            errors.append(RowError(1, name, f"unknown column (expected {', '.join(known)})"))
        seen.add(name)
    errors.extend(
        RowError(1, name, "required column is missing") for name in required if name not in seen
    )
    if errors:
        raise ImportRejected(errors)
    rows = tuple(
        {
            name: ("" if value is None else str(value).strip())
            for name, value in zip(names, values, strict=True)
        }
        for values in frame.iter_rows()
    )
    return Table(path.name, hashlib.sha256(data).hexdigest(), rows)


# --- field parsing --------------------------------------------------------------------------


def _message(error: ArrearsError, name: str) -> str:
    text = str(error)
    prefix = f"{name}: "
    return text[len(prefix) :] if text.startswith(prefix) else text


class _Fields:
    """Reads the fields of one row, recording an error per bad field and carrying on."""

    def __init__(self, row: int, values: dict[str, str], errors: list[RowError]) -> None:
        self.row = row
        self.values = values
        self.errors = errors
        self.ok = True

    def error(self, name: str, message: str) -> None:
        self.ok = False
        self.errors.append(RowError(self.row, name, message))

    def text(self, name: str, *, required: bool = True) -> str:
        value = self.values.get(name, "")
        if required and not value:
            self.error(name, "is required")
        return value

    def parse(self, name: str, parser: Callable[[str], T], *, required: bool = True) -> T | None:
        value = self.text(name, required=required)
        if not value:
            return None
        try:
            return parser(value)
        except ArrearsError as error:
            self.error(name, _message(error, name))
            return None

    def ref(self, name: str) -> str:
        value = self.text(name)
        if len(value) > MAX_REF_LENGTH:
            self.error(name, f"is longer than {MAX_REF_LENGTH} characters")
        return value


def _national_id(text: str, *, id_type: str) -> str:
    return normalise_national_id(text, id_type)


def _currency(text: str) -> str:
    if text not in CURRENCY_EXPONENTS:
        raise UnknownCurrency(f"{text!r} is not a supported ISO 4217 currency code (e.g. CNY, USD)")
    return text


def _positive_amount(currency: str | None, name: str) -> Callable[[str], int | None]:
    """Major units → minor units; refuses signs, zero, and more decimals than the currency has.
    Without a valid currency only the number itself can be checked (``None`` is returned)."""

    def parse(text: str) -> int | None:
        value = parse_decimal(text, name)
        if value < 0:
            raise InvalidAmount(f"{text} is negative")
        if value == 0:
            raise InvalidAmount(f"{text} is zero; expected a positive amount")
        return None if currency is None else Money.parse(text, currency).minor

    return parse


def _integer(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not re.fullmatch(r"\d+", text) or not low <= int(text) <= high:
            raise InvalidChoice(f"{text!r} is not a whole number from {low} to {high}")
        return int(text)

    return parse


def _enum(kind: type[T], label: str) -> Callable[[str], T]:
    def parse(text: str) -> T:
        try:
            return kind(text)  # type: ignore[call-arg]
        except ValueError:
            allowed = ", ".join(str(v) for v in kind)  # type: ignore[attr-defined]
            raise InvalidChoice(f"{text!r} is not a {label} (expected {allowed})") from None

    return parse


def _date(name: str) -> Callable[[str], date]:
    return lambda text: parse_date(text, field_name=name)


def _chunks(values: Iterable[T]) -> Iterator[list[T]]:
    items = list(dict.fromkeys(values))
    for start in range(0, len(items), LOOKUP_CHUNK):
        yield items[start : start + LOOKUP_CHUNK]


def _fetch(
    queryset: Any, lookup: str, values: Iterable[str], select: Callable[[Any], Any] = lambda q: q
) -> list[Any]:
    """Rows of ``queryset`` whose ``lookup`` is in ``values``: one query per chunk."""
    found: list[Any] = []
    for chunk in _chunks(values):
        found.extend(select(queryset.filter(**{f"{lookup}__in": chunk})))
    return found


# --- loans ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BorrowerRow:
    ref: str
    name: str
    id_type: str
    national_id: str
    time_zone: str | None
    locale: str
    email: str = ""
    postal_address: str = ""


@dataclass(frozen=True, slots=True)
class LoanRow:
    row: int
    ref: str
    borrower: BorrowerRow
    phone: str
    product: models.Product
    currency: str
    principal_minor: int
    rate: Decimal
    rate_basis: RateBasis
    term: int
    method: ScheduleMethod
    start_date: date
    day_count: DayCount
    schedule: tuple[Instalment, ...]


@dataclass
class LoanPlan:
    table: Table
    borrowers: list[BorrowerRow] = field(default_factory=list)
    phones: list[tuple[str, str]] = field(default_factory=list)
    loans: list[LoanRow] = field(default_factory=list)
    #: stored borrowers whose blank contact fields this file fills: ref → {field: value}
    contacts: dict[str, dict[str, str]] = field(default_factory=dict)
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)


_BORROWER_FIELDS = (
    ("name", "borrower_name"),
    ("id_type", "id_type"),
    ("national_id", "national_id"),
    ("time_zone", "time_zone"),
    ("locale", "locale"),
)
#: Where a borrower is reached: a stored blank is filled in from a file, a stored value must
#: match (a change of address is made on the borrower, not by a loans file).
_CONTACT_FIELDS = (("email", "email"), ("postal_address", "postal_address"))


def _borrower_differences(a: BorrowerRow, b: Any) -> list[tuple[str, str]]:
    """``(attribute, column)`` pairs where ``a`` and ``b`` (a row or a model) disagree."""
    return [
        (attr, column)
        for attr, column in (*_BORROWER_FIELDS, *_CONTACT_FIELDS)
        if getattr(a, attr) != getattr(b, attr)
    ]


def _loan_differences(row: LoanRow, loan: models.Loan) -> list[str]:
    pairs = {
        "borrower_ref": (row.borrower.ref, loan.borrower.ref),
        "product_code": (row.product.code, loan.product.code),
        "product_version": (row.product.version, loan.product.version),
        "currency": (row.currency, loan.currency),
        "principal": (row.principal_minor, loan.principal_minor),
        "rate": (row.rate, Decimal(loan.rate_value)),
        "rate_basis": (row.rate_basis.value, loan.rate_basis),
        "term": (row.term, loan.term),
        "method": (row.method.value, loan.method),
        "start_date": (row.start_date, loan.start_date),
        "day_count": (row.day_count.value, loan.day_count),
    }
    return [name for name, (mine, theirs) in pairs.items() if mine != theirs]


def _loan_fields(f: _Fields) -> dict[str, Any]:
    """Each field of a loans row on its own (``None`` where it is bad, with the error noted)."""
    id_type = f.parse("id_type", lambda t: normalise_choice(t, "id_type", ID_TYPES))
    currency = f.parse("currency", _currency)
    return {
        "loan_ref": f.ref("loan_ref"),
        "borrower_ref": f.ref("borrower_ref"),
        "name": f.text("borrower_name"),
        "id_type": id_type,
        "national_id": (
            f.parse("national_id", partial(_national_id, id_type=id_type))
            if id_type
            else f.text("national_id")
        ),
        "phone": f.parse("phone", normalise_phone),
        "time_zone": f.parse("time_zone", normalise_time_zone, required=False),
        "locale": f.parse("locale", lambda t: normalise_choice(t, "locale", LOCALES)),
        "email": f.parse("email", normalise_email, required=False) or "",
        "postal_address": f.parse("postal_address", normalise_postal_address, required=False) or "",
        "product_code": f.text("product_code"),
        "product_version": f.parse("product_version", _integer(1, 2**31 - 1)),
        "currency": currency,
        "principal": f.parse("principal", _positive_amount(currency, "principal")),
        "rate_basis": f.parse("rate_basis", _enum(RateBasis, "rate basis")),
        "rate": f.parse("rate", lambda t: services.check_rate(parse_decimal(t, "rate"))),
        "term": f.parse("term", _integer(1, 600)),
        "method": f.parse("method", _enum(ScheduleMethod, "schedule method")),
        "start_date": f.parse("start_date", _date("start_date")),
        "day_count": f.parse("day_count", _enum(DayCount, "day count"), required=False),
    }


def validate_loans(table: Table) -> LoanPlan:
    """Check every row of a loans file against itself, the other rows and the database."""
    plan = LoanPlan(table)
    parsed: list[tuple[_Fields, dict[str, Any]]] = []
    for index, values in enumerate(table.rows):
        f = _Fields(index + FIRST_DATA_ROW, values, plan.errors)
        parsed.append((f, _loan_fields(f)))

    loan_refs = [item["loan_ref"] for _, item in parsed if item["loan_ref"]]
    borrower_refs = [item["borrower_ref"] for _, item in parsed if item["borrower_ref"]]
    existing_loans = {
        loan.ref: loan
        for loan in _fetch(
            models.Loan.objects.select_related("borrower", "product"), "ref", loan_refs
        )
    }
    existing_borrowers = {
        b.ref: b for b in _fetch(models.Borrower.objects.all(), "ref", borrower_refs)
    }
    existing_phones = set(
        _fetch(
            models.Phone.objects.all(),
            "borrower__ref",
            existing_borrowers,
            lambda q: q.values_list("borrower__ref", "number"),
        )
    )
    codes = {item["product_code"] for _, item in parsed if item["product_code"]}
    products = {(p.code, p.version): p for p in _fetch(models.Product.objects.all(), "code", codes)}
    product_errors: dict[int, str] = {}
    for product in products.values():
        try:
            product.terms()
        except ArrearsError as error:
            product_errors[product.pk] = str(error)

    first_loan_row: dict[str, int] = {}
    borrowers_in_file: dict[str, tuple[int, BorrowerRow]] = {}
    phones_planned: set[tuple[str, str]] = set()
    for f, item in parsed:
        ref = item["loan_ref"]
        if ref:
            if ref in first_loan_row:
                f.error("loan_ref", f"{ref} appears again (first on row {first_loan_row[ref]})")
            else:
                first_loan_row[ref] = f.row
        product = None
        code, version = item["product_code"], item["product_version"]
        if code and version is not None:
            product = products.get((code, version))
            if product is None:
                column = (
                    "product_version" if any(c == code for c, _ in products) else "product_code"
                )
                f.error(column, f"product {code} version {version} does not exist")
            elif product.pk in product_errors:
                f.error("product_code", f"product {code} v{version}: {product_errors[product.pk]}")
        borrower = None
        if all(item[k] for k in ("borrower_ref", "name", "id_type", "national_id", "locale")):
            borrower = BorrowerRow(
                ref=item["borrower_ref"],
                name=item["name"],
                id_type=item["id_type"],
                national_id=item["national_id"],
                time_zone=item["time_zone"],
                locale=item["locale"],
                email=item["email"],
                postal_address=item["postal_address"],
            )
            _check_borrower(f, borrower, borrowers_in_file, existing_borrowers, plan)
        if not f.ok or product is None or borrower is None:
            continue
        row = _loan_row(f, item, borrower, product)
        existing = existing_loans.get(ref)
        if existing is not None:
            differences = _loan_differences(row, existing)
            if differences:
                f.error(
                    "loan_ref",
                    f"loan {ref} already exists with a different {', '.join(differences)}",
                )
            else:
                plan.skipped += 1
            continue
        if not _build_schedule(f, row, plan):
            continue
        if borrower.ref not in existing_borrowers and borrowers_in_file[borrower.ref][0] == f.row:
            plan.borrowers.append(borrower)
        key = (borrower.ref, row.phone)
        if key not in existing_phones and key not in phones_planned:
            phones_planned.add(key)
            plan.phones.append(key)
    return plan


def _check_borrower(
    f: _Fields,
    borrower: BorrowerRow,
    in_file: dict[str, tuple[int, BorrowerRow]],
    in_db: dict[str, models.Borrower],
    plan: LoanPlan,
) -> None:
    """A borrower on several rows is one person: the rows (and the database) must agree,
    except that a stored borrower's blank e-mail or postal address is filled in."""
    if not borrower.ref:
        return
    first = in_file.setdefault(borrower.ref, (f.row, borrower))
    if first[0] != f.row:
        for _, column in _borrower_differences(borrower, first[1]):
            f.error(column, f"borrower {borrower.ref} has a different {column} on row {first[0]}")
    stored = in_db.get(borrower.ref)
    if stored is None:
        return
    contact = {attr for attr, _ in _CONTACT_FIELDS}
    for attr, column in _borrower_differences(borrower, stored):
        if attr in contact and (not getattr(borrower, attr) or not getattr(stored, attr)):
            if getattr(borrower, attr):  # a blank on file: fill it in, once per borrower
                plan.contacts.setdefault(borrower.ref, {})[attr] = getattr(borrower, attr)
            continue
        f.error(column, f"borrower {borrower.ref} already exists with a different {column}")


def _loan_row(
    f: _Fields, item: dict[str, Any], borrower: BorrowerRow, product: models.Product
) -> LoanRow:
    return LoanRow(
        row=f.row,
        ref=item["loan_ref"],
        borrower=borrower,
        phone=item["phone"],
        product=product,
        currency=item["currency"],
        principal_minor=item["principal"],
        rate=item["rate"],
        rate_basis=item["rate_basis"],
        term=item["term"],
        method=item["method"],
        start_date=item["start_date"],
        day_count=item["day_count"] or DayCount(product.day_count),
        schedule=(),
    )


def _build_schedule(f: _Fields, row: LoanRow, plan: LoanPlan) -> bool:
    try:
        schedule = services.schedule_for(
            product=row.product,
            currency=row.currency,
            principal_minor=row.principal_minor,
            rate=InterestRate(row.rate, row.rate_basis),
            term=row.term,
            method=row.method,
            start_date=row.start_date,
            day_count=row.day_count,
        )
    except ArrearsError as error:
        f.error("schedule", str(error))
        return False
    plan.loans.append(replace(row, schedule=schedule))
    return True


def _ids(model: Any, refs: Iterable[str]) -> dict[str, int]:
    return dict(_fetch(model.objects.all(), "ref", refs, lambda q: q.values_list("ref", "id")))


def apply_loans(plan: LoanPlan) -> ImportResult:
    """Write a plan without errors: new borrowers, phones, loans and their schedules."""
    if plan.errors:
        raise ImportRejected(plan.errors)
    models.Borrower.objects.bulk_create(
        [
            models.Borrower(
                ref=b.ref,
                name=b.name,
                id_type=b.id_type,
                national_id=b.national_id,
                time_zone=b.time_zone,
                locale=b.locale,
                email=b.email,
                postal_address=b.postal_address,
            )
            for b in plan.borrowers
        ],
        batch_size=BULK_BATCH,
    )
    filled = _fetch(models.Borrower.objects.all(), "ref", plan.contacts)
    for borrower in filled:
        for attr, value in plan.contacts[borrower.ref].items():
            setattr(borrower, attr, value)
    models.Borrower.objects.bulk_update(
        filled, [attr for attr, _ in _CONTACT_FIELDS], batch_size=BULK_BATCH
    )
    borrower_ids = _ids(
        models.Borrower, [ref for ref, _ in plan.phones] + [row.borrower.ref for row in plan.loans]
    )
    models.Phone.objects.bulk_create(
        [
            models.Phone(
                borrower_id=borrower_ids[ref],
                number=number,
                kind=models.Phone.Kind.MOBILE,
                source=models.Phone.Source.APPLICATION,
            )
            for ref, number in plan.phones
        ],
        batch_size=BULK_BATCH,
    )
    models.Loan.objects.bulk_create(
        [
            models.Loan(
                ref=row.ref,
                borrower_id=borrower_ids[row.borrower.ref],
                product=row.product,
                currency=row.currency,
                principal_minor=row.principal_minor,
                rate_value=row.rate,
                rate_basis=row.rate_basis.value,
                term=row.term,
                method=row.method.value,
                day_count=row.day_count.value,
                start_date=row.start_date,
            )
            for row in plan.loans
        ],
        batch_size=BULK_BATCH,
    )
    loan_ids = _ids(models.Loan, [row.ref for row in plan.loans])
    day = connection.ops.adapt_datefield_value
    _insert_rows(
        models.Instalment,
        ("loan", "seq", "due_date", "principal_minor", "interest_minor", "period_start",
         "period_end"),
        (
            (loan_ids[row.ref], i.seq, day(i.due_date), i.principal, i.interest,
             day(i.period_start), day(i.period_end))
            for row in plan.loans
            for i in row.schedule
        ),
    )  # fmt: skip
    result = _record(models.ImportBatch.Kind.LOANS, plan.table, len(plan.loans), plan.skipped)
    return replace(result, contacts_added=len(filled))


def _insert_rows(model: Any, fields: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert rows that need no model logic, fast: ``COPY`` on PostgreSQL, ``executemany``
    elsewhere (SQLite runs in-process, so a statement per row costs no round trip).

    A 10 000-loan file has ~120 000 instalments; building and compiling a model instance for
    each made ``bulk_create`` most of an import's time. Values are adapted by the caller.
    """
    quote = connection.ops.quote_name
    meta = model._meta
    table = quote(meta.db_table)
    columns = ", ".join(quote(meta.get_field(name).column) for name in fields)
    iterator = iter(rows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in iterator:
                    copy.write_row(row)
            return
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
        while batch := list(islice(iterator, INSERT_BATCH)):
            cursor.executemany(sql, batch)


def _record(kind: str, table: Table, applied: int, skipped: int) -> ImportResult:
    batch = models.ImportBatch.objects.create(
        kind=kind,
        file_name=table.file_name,
        sha256=table.sha256,
        row_count=len(table.rows),
        applied_count=applied,
        skipped_count=skipped,
    )
    return ImportResult(kind, table.file_name, len(table.rows), applied, skipped, batch.pk)


# --- payments -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PaymentRow:
    row: int
    ref: str
    loan_id: int
    value_date: date
    amount_minor: int
    currency: str


@dataclass(frozen=True, slots=True)
class ReversalRow:
    row: int
    ref: str
    reverses: str
    reversed_on: date


@dataclass
class PaymentPlan:
    table: Table
    payments: list[PaymentRow] = field(default_factory=list)
    reversals: list[ReversalRow] = field(default_factory=list)
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)


def validate_payments(table: Table) -> PaymentPlan:
    """Check every row of a payments file (payments and reversals) before anything is written."""
    plan = PaymentPlan(table)
    parsed: list[tuple[_Fields, dict[str, Any]]] = []
    for index, values in enumerate(table.rows):
        f = _Fields(index + FIRST_DATA_ROW, values, plan.errors)
        currency = f.parse("currency", _currency)
        item = {
            "ref": f.ref("payment_ref"),
            "loan_ref": f.text("loan_ref"),
            "value_date": f.parse("value_date", _date("value_date")),
            "amount": f.parse("amount", _positive_amount(currency, "amount")),
            "currency": currency,
            "reverses": f.text("reverses", required=False),
        }
        parsed.append((f, item))

    loans = {
        row["ref"]: row
        for row in _fetch(
            models.Loan.objects.all(),
            "ref",
            [item["loan_ref"] for _, item in parsed if item["loan_ref"]],
            lambda q: q.values("id", "ref", "currency", "start_date"),
        )
    }
    refs = [r for _, item in parsed for r in (item["ref"], item["reverses"]) if r]
    stored: dict[str, models.Payment] = {}
    stored_reversals: dict[str, models.Payment] = {}
    for chunk in _chunks(refs):
        query = Q(ref__in=chunk) | Q(reversal_ref__in=chunk)
        for payment in models.Payment.objects.filter(query).select_related("loan"):
            stored[payment.ref] = payment
            if payment.reversal_ref:
                stored_reversals[payment.reversal_ref] = payment
    in_file = {
        item["ref"]: (f, item)
        for f, item in reversed(parsed)
        if item["ref"] and not item["reverses"]
    }
    first_ref_row: dict[str, int] = {}
    first_reversal_row: dict[str, int] = {}
    for f, item in parsed:
        ref = item["ref"]
        if ref:
            if ref in first_ref_row:
                f.error("payment_ref", f"{ref} appears again (first on row {first_ref_row[ref]})")
            else:
                first_ref_row[ref] = f.row
        if item["reverses"]:
            _check_reversal(f, item, stored, stored_reversals, in_file, first_reversal_row, plan)
        else:
            _check_payment(f, item, loans.get(item["loan_ref"]), stored, stored_reversals, plan)
    return plan


def _check_payment(
    f: _Fields,
    item: dict[str, Any],
    loan: dict[str, Any] | None,
    stored: dict[str, models.Payment],
    stored_reversals: dict[str, models.Payment],
    plan: PaymentPlan,
) -> None:
    ref, currency, value_date = item["ref"], item["currency"], item["value_date"]
    if item["loan_ref"] and loan is None:
        f.error("loan_ref", f"loan {item['loan_ref']} does not exist")
    if loan is not None:
        if currency and currency != loan["currency"]:
            f.error(
                "currency",
                f"{currency} does not match loan {loan['ref']}'s currency {loan['currency']}",
            )
        if value_date and value_date < loan["start_date"]:
            f.error(
                "value_date",
                f"{value_date} is before loan {loan['ref']} started ({loan['start_date']})",
            )
    if ref in stored_reversals:
        f.error(
            "payment_ref",
            f"{ref} is already the reference of the reversal of payment "
            f"{stored_reversals[ref].ref}",
        )
        return
    if not f.ok or loan is None:
        return
    existing = stored.get(ref)
    if existing is None:
        plan.payments.append(
            PaymentRow(f.row, ref, loan["id"], value_date, item["amount"], currency)
        )
        return
    different = [
        name
        for name, mine, theirs in (
            ("loan_ref", loan["id"], existing.loan_id),
            ("value_date", value_date, existing.value_date),
            ("amount", item["amount"], existing.amount_minor),
            ("currency", currency, existing.currency),
        )
        if mine != theirs
    ]
    if different:
        f.error(
            "payment_ref", f"payment {ref} already exists with a different {', '.join(different)}"
        )
    else:
        plan.skipped += 1


def _check_reversal(
    f: _Fields,
    item: dict[str, Any],
    stored: dict[str, models.Payment],
    stored_reversals: dict[str, models.Payment],
    in_file: dict[str, tuple[_Fields, dict[str, Any]]],
    first_reversal_row: dict[str, int],
    plan: PaymentPlan,
) -> None:
    """A reversal row: ``payment_ref`` is the reversal's own reference, ``value_date`` the
    date it takes effect, and loan, currency and amount must repeat the reversed payment's."""
    ref, target_ref, reversed_on = item["ref"], item["reverses"], item["value_date"]
    if target_ref == ref:
        f.error("reverses", f"{ref} cannot reverse itself")
        return
    if target_ref in first_reversal_row:
        f.error(
            "reverses",
            f"payment {target_ref} is reversed again "
            f"(first on row {first_reversal_row[target_ref]})",
        )
    else:
        first_reversal_row[target_ref] = f.row
    target = stored.get(target_ref)
    if target is not None:
        original = {
            "loan_ref": target.loan.ref,
            "currency": target.currency,
            "amount": target.amount_minor,
            "value_date": target.value_date,
        }
    elif target_ref in in_file:
        original = in_file[target_ref][1]
    else:
        f.error("reverses", f"payment {target_ref} does not exist")
        return
    if item["loan_ref"] and original["loan_ref"] and item["loan_ref"] != original["loan_ref"]:
        f.error("loan_ref", f"payment {target_ref} belongs to loan {original['loan_ref']}")
    if item["currency"] and original["currency"] and item["currency"] != original["currency"]:
        f.error("currency", f"payment {target_ref} is in {original['currency']}")
    if item["amount"] is not None and original["amount"] not in (None, item["amount"]):
        f.error("amount", f"must equal the amount of payment {target_ref}")
    if reversed_on and original["value_date"] and reversed_on < original["value_date"]:
        f.error(
            "value_date",
            f"reversal date {reversed_on} is before payment {target_ref}'s value date "
            f"{original['value_date']}",
        )
    if ref in stored:
        f.error("payment_ref", f"{ref} is already the reference of a payment")
    elif ref in stored_reversals and stored_reversals[ref].ref != target_ref:
        f.error(
            "payment_ref",
            f"{ref} is already the reference of the reversal of payment "
            f"{stored_reversals[ref].ref}",
        )
    if target is not None and target.reversed_on is not None:
        if target.reversal_ref == ref and target.reversed_on == reversed_on:
            if f.ok:
                plan.skipped += 1
            return
        f.error(
            "reverses",
            f"payment {target_ref} was already reversed on {target.reversed_on} "
            f"by {target.reversal_ref}",
        )
    if f.ok:
        plan.reversals.append(ReversalRow(f.row, ref, target_ref, reversed_on))


def apply_payments(plan: PaymentPlan) -> ImportResult:
    """Write a plan without errors: new payments, then reversals (of stored or new payments)."""
    if plan.errors:
        raise ImportRejected(plan.errors)
    reversal_of = {r.reverses: r for r in plan.reversals}
    reason = f"imported from {plan.table.file_name}"
    new = []
    for row in plan.payments:
        reversal = reversal_of.pop(row.ref, None)
        new.append(
            models.Payment(
                ref=row.ref,
                loan_id=row.loan_id,
                value_date=row.value_date,
                amount_minor=row.amount_minor,
                currency=row.currency,
                source=plan.table.file_name,
                reversed_on=reversal.reversed_on if reversal else None,
                reversal_ref=reversal.ref if reversal else None,
                reversal_reason=reason if reversal else "",
            )
        )
    models.Payment.objects.bulk_create(new, batch_size=BULK_BATCH)
    targets = _fetch(models.Payment.objects.all(), "ref", reversal_of)
    for payment in targets:
        reversal = reversal_of[payment.ref]
        payment.reversed_on = reversal.reversed_on
        payment.reversal_ref = reversal.ref
        payment.reversal_reason = reason
    models.Payment.objects.bulk_update(
        targets, ["reversed_on", "reversal_ref", "reversal_reason"], batch_size=BULK_BATCH
    )
    applied = len(plan.payments) + len(plan.reversals)
    return _record(models.ImportBatch.Kind.PAYMENTS, plan.table, applied, plan.skipped)


# --- entry point ----------------------------------------------------------------------------

_KINDS: dict[
    str, tuple[Sequence[str], Sequence[str], Callable[[Table], Any], Callable[[Any], ImportResult]]
] = {
    "loans": (LOAN_COLUMNS, LOAN_OPTIONAL, validate_loans, apply_loans),
    "payments": (PAYMENT_COLUMNS, PAYMENT_OPTIONAL, validate_payments, apply_payments),
}
IMPORT_KINDS: tuple[str, ...] = tuple(_KINDS)


def import_file(kind: str, path: Path | str) -> ImportResult:
    """Import a loans or payments file: all rows or none (:class:`ImportRejected` lists why)."""
    if kind not in _KINDS:
        raise ImportRejected(
            [RowError(None, "kind", f"{kind!r} is not one of {', '.join(IMPORT_KINDS)}")]
        )
    required, optional, validate, apply = _KINDS[kind]
    table = read_table(path, required=required, optional=optional)
    try:
        with transaction.atomic():
            plan = validate(table)
            return apply(plan)
    except IntegrityError as error:
        raise _file_error(
            "the database changed while the file was being imported (another import at the "
            f"same time?); nothing was imported, run it again ({_first_line(error)})"
        ) from None
