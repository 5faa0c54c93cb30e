"""Validating a loans file: its rows (parsed field by field in :mod:`~.rows`) against each
other, the products, and the borrowers and loans already stored.

The result is a :class:`LoanPlan` holding every error found and what is new to write;
:mod:`~.writing` refuses a plan with any error. A loan already stored with identical data is
skipped (so importing a file twice changes nothing); the same reference with different data is
an error. Nothing is written here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl

from arrears.kernel.errors import ArrearsError
from arrears.kernel.terms import DayCount, InterestRate, ScheduleTerms
from arrears.ledger import models, services
from arrears.ledger.importers import columns, lookups, parsers, rows
from arrears.ledger.importers.reading import Table
from arrears.ledger.importers.records import CONTACT_FIELDS, BorrowerRow, LoanPlan, LoanRow
from arrears.ledger.importers.schedules import build_schedules

_BORROWER_FIELDS = (
    ("name", "borrower_name"),
    ("id_type", "id_type"),
    ("national_id", "national_id"),
    ("time_zone", "time_zone"),
    ("locale", "locale"),
)


def _borrower_differences(a: BorrowerRow, b: Any) -> list[tuple[str, str]]:
    """``(attribute, column)`` pairs where ``a`` and ``b`` (a row or a model) disagree."""
    return [
        (attr, column)
        for attr, column in (*_BORROWER_FIELDS, *CONTACT_FIELDS)
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


def repeated(table: Table, column: str) -> frozenset[str]:
    """The non-blank values of ``column`` on more than one row of ``table`` (one vectorised
    pass over that column of the file: only the column is held, not the file)."""
    return repeated_values(table.column(column))


def repeated_values(values: pl.Series) -> frozenset[str]:
    """The non-blank values of ``values`` found more than once."""
    return frozenset(values.filter(values.is_duplicated() & (values != "")).unique())


@dataclass
class LoanFile:
    """What the chunks of one loans file share, kept only for the references that repeat in
    the file (found up front), so it grows with the repeats, not the file: the first row of a
    repeated loan reference and of a repeated borrower, the phones planned for a repeated
    borrower, and the repeated borrowers an earlier chunk of this import has written (a later
    chunk compares them with their first row, not with what this import stored)."""

    repeated_loans: frozenset[str]
    repeated_borrowers: frozenset[str]
    first_loan_row: dict[str, int] = field(default_factory=dict)
    borrowers_in_file: dict[str, tuple[int, BorrowerRow]] = field(default_factory=dict)
    phones_planned: set[tuple[str, str]] = field(default_factory=set)
    written_borrowers: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, table: Table) -> LoanFile:
        return cls(repeated(table, "loan_ref"), repeated(table, "borrower_ref"))

    def written(self, borrowers: Iterable[BorrowerRow]) -> None:
        """Note the borrowers a chunk wrote."""
        self.written_borrowers.update(b.ref for b in borrowers if b.ref in self.repeated_borrowers)


def validate_loans(table: Table, file: LoanFile | None = None) -> LoanPlan:
    """Check every row of a loans file (or of one chunk of it, with the ``file``'s shared
    state) against itself, the other rows and the database."""
    file = file or LoanFile.of(table)
    plan = LoanPlan(table)
    if table.frame is not None and not table.rows and table.blocks is None:  # a chunk: by column
        parsed = columns.loan_rows(table.frame, table.first_row, plan.errors)
    else:
        parsed = rows.loan_rows(table, plan.errors)

    loan_refs = [item["loan_ref"] for _, item in parsed if item["loan_ref"]]
    borrower_refs = [item["borrower_ref"] for _, item in parsed if item["borrower_ref"]]
    existing_loans = {
        loan.ref: loan
        for loan in lookups.fetch(
            models.Loan.objects.select_related("borrower", "product"),
            "ref",
            lookups.present(models.Loan, loan_refs),
        )
    }
    existing_borrowers = {
        b.ref: b
        for b in lookups.fetch(
            models.Borrower.objects.all(), "ref", lookups.present(models.Borrower, borrower_refs)
        )
        if b.ref not in file.written_borrowers
    }
    existing_phones = set(
        lookups.fetch(
            models.Phone.objects.all(),
            "borrower__ref",
            existing_borrowers,
            lambda q: q.values_list("borrower__ref", "number"),
        )
    )
    codes = {item["product_code"] for _, item in parsed if item["product_code"]}
    products = {
        (p.code, p.version): p for p in lookups.fetch(models.Product.objects.all(), "code", codes)
    }
    product_errors: dict[int, str] = {}
    for product in products.values():
        try:
            product.terms()
        except ArrearsError as error:
            product_errors[product.pk] = str(error)

    first_loan_row = file.first_loan_row
    day_counts: dict[int, DayCount] = {}  # a product's default day count, made once
    candidates: list[tuple[parsers.Fields, LoanRow]] = []
    for f, item in parsed:
        ref = item["loan_ref"]
        if ref in file.repeated_loans:
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
        if (
            item["borrower_ref"]
            and item["name"]
            and item["id_type"]
            and item["national_id"]
            and item["locale"]
        ):
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
            if borrower.ref in file.repeated_borrowers or borrower.ref in existing_borrowers:
                _check_borrower(f, borrower, file, existing_borrowers, plan)
        if not f.ok or product is None or borrower is None:
            continue
        day_count = day_counts.get(product.pk)
        if day_count is None:
            day_count = day_counts[product.pk] = DayCount(product.day_count)
        row = _loan_row(f, item, borrower, product, day_count)
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
        candidates.append((f, row))
    for f, row in _with_schedules(candidates, plan):
        borrower = row.borrower
        key = (borrower.ref, row.phone)
        if borrower.ref in file.repeated_borrowers:
            if file.borrowers_in_file[borrower.ref][0] != f.row:
                if key not in existing_phones and key not in file.phones_planned:
                    file.phones_planned.add(key)
                    plan.phones.append(key)
                continue
            file.phones_planned.add(key)
        if borrower.ref not in existing_borrowers:
            plan.borrowers.append(borrower)
        if key not in existing_phones:
            plan.phones.append(key)
    return plan


def _check_borrower(
    f: parsers.Fields,
    borrower: BorrowerRow,
    file: LoanFile,
    in_db: dict[str, models.Borrower],
    plan: LoanPlan,
) -> None:
    """A borrower on several rows is one person: the rows (and the database) must agree,
    except that a stored borrower's blank e-mail or postal address is filled in. (Nothing to
    check for a borrower on one row and not stored: the caller skips the call then.)"""
    if not borrower.ref:
        return
    if borrower.ref in file.repeated_borrowers:
        first = file.borrowers_in_file.setdefault(borrower.ref, (f.row, borrower))
    else:
        first = (f.row, borrower)
    if first[0] != f.row:
        for _, column in _borrower_differences(borrower, first[1]):
            f.error(column, f"borrower {borrower.ref} has a different {column} on row {first[0]}")
    stored = in_db.get(borrower.ref)
    if stored is None:
        return
    contact = {attr for attr, _ in CONTACT_FIELDS}
    for attr, column in _borrower_differences(borrower, stored):
        if attr in contact and (not getattr(borrower, attr) or not getattr(stored, attr)):
            if getattr(borrower, attr):  # a blank on file: fill it in, once per borrower
                plan.contacts.setdefault(borrower.ref, {})[attr] = getattr(borrower, attr)
            continue
        f.error(column, f"borrower {borrower.ref} already exists with a different {column}")


def _loan_row(
    f: parsers.Fields,
    item: dict[str, Any],
    borrower: BorrowerRow,
    product: models.Product,
    default_day_count: DayCount,
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
        day_count=item["day_count"] or default_day_count,
    )


def _terms(row: LoanRow) -> ScheduleTerms:
    return services.schedule_terms(
        product=row.product,
        currency=row.currency,
        principal_minor=row.principal_minor,
        rate=InterestRate(row.rate, row.rate_basis),
        term=row.term,
        method=row.method,
        start_date=row.start_date,
        day_count=row.day_count,
    )


def _terms_key(row: LoanRow) -> tuple[object, ...]:
    """What a loan's terms depend on but its principal."""
    return (row.product.pk, row.currency, row.rate, row.rate_basis, row.term, row.method,
            row.start_date, row.day_count)  # fmt: skip


def _with_schedules(
    candidates: list[tuple[parsers.Fields, LoanRow]], plan: LoanPlan
) -> list[tuple[parsers.Fields, LoanRow]]:
    """The candidates whose schedule builds, added to ``plan`` (loans and instalments, all the
    batch's schedules at once: :func:`~.schedules.build_schedules`); the others' rows get
    the kernel's error."""
    batch: list[ScheduleTerms] = []
    buildable: list[tuple[parsers.Fields, LoanRow]] = []
    # the terms of loans alike but for the principal are made once (the product's calendar,
    # the enums) and given each loan's principal, which ``ScheduleTerms`` checks as ever
    made: dict[tuple[object, ...], dict[str, Any]] = {}
    for f, row in candidates:
        key = _terms_key(row)
        try:
            template = made.get(key)
            if template is None:
                terms = _terms(row)
                made[key] = {
                    name.name: getattr(terms, name.name)
                    for name in dataclasses.fields(terms)
                    if name.name != "principal"
                }
            else:
                terms = ScheduleTerms(principal=row.principal_minor, **template)
        except ArrearsError as error:
            f.error("schedule", str(error))
            continue
        batch.append(terms)
        buildable.append((f, row))
    built = build_schedules(batch)
    accepted: list[tuple[parsers.Fields, LoanRow]] = []
    position = np.full(len(batch), -1, dtype=np.int64)  # batch position → plan.loans position
    for at, (f, row) in enumerate(buildable):
        error = built.errors.get(at)
        if error is not None:
            f.error("schedule", str(error))
            continue
        position[at] = len(plan.loans)
        plan.loans.append(row)
        accepted.append((f, row))
    frame = built.frame
    if built.errors:
        frame = frame.filter(pl.col("loan").is_in(list(built.errors)).not_())
    frame = frame.with_columns(pl.Series("loan", position[frame["loan"].to_numpy()]))
    plan.instalments = frame if plan.instalments is None else pl.concat([plan.instalments, frame])
    return accepted
