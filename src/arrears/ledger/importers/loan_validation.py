"""Validating a loans file: its rows (parsed field by field in :mod:`~.rows`) against each
other, the products, and the borrowers and loans already stored.

The result is a :class:`LoanPlan` holding every error found and what is new to write;
:mod:`~.writing` refuses a plan with any error. A loan already stored with identical data is
skipped (so importing a file twice changes nothing); the same reference with different data is
an error. Nothing is written here.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
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
from arrears.ledger.importers.schedules import build_schedules_of

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

    def written(self, refs: Iterable[str]) -> None:
        """Note the borrowers a chunk wrote (their references)."""
        self.written_borrowers.update(ref for ref in refs if ref in self.repeated_borrowers)


def validate_loans(table: Table, file: LoanFile | None = None) -> LoanPlan:
    """Check every row of a loans file (or of one chunk of it, with the ``file``'s shared
    state) against itself, the other rows and the database.

    A chunk's fields come column by column (:func:`~.columns.loan_columns`). Most rows of a
    file are new loans of new borrowers named once, of a known product, with every field
    good: nothing about them can be refused but their schedule, so they are accepted by
    offset without an object per row (:func:`_simple_rows`). The others (a bad field, a
    repeated reference, a stored loan or borrower, an unknown product) go through the checks
    row by row, in row order, so each error is reported as ever."""
    file = file or LoanFile.of(table)
    plan = LoanPlan(table)
    if table.frame is not None and not table.rows and table.blocks is None:  # a chunk: by column
        values, fields = columns.loan_columns(table.frame, table.first_row, plan.errors)
    else:
        parsed = rows.loan_rows(table, plan.errors)
        values = {key: [item[key] for _, item in parsed] for key in columns.LOAN_KEYS}
        fields = dict(enumerate(f for f, _ in parsed))
    plan.fields = values
    n = len(values["loan_ref"])
    first_row = table.first_row

    existing_loans = {
        loan.ref: loan
        for loan in lookups.fetch(
            models.Loan.objects.select_related("borrower", "product"),
            "ref",
            lookups.present(models.Loan, [ref for ref in values["loan_ref"] if ref]),
        )
    }
    existing_borrowers = {
        b.ref: b
        for b in lookups.fetch(
            models.Borrower.objects.all(),
            "ref",
            lookups.present(models.Borrower, [ref for ref in values["borrower_ref"] if ref]),
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
    codes = {code for code in values["product_code"] if code}
    products = {
        (p.code, p.version): p for p in lookups.fetch(models.Product.objects.all(), "code", codes)
    }
    product_errors: dict[int, str] = {}
    for product in products.values():
        try:
            product.terms()
        except ArrearsError as error:
            product_errors[product.pk] = str(error)
    product_ids = {key: product.pk for key, product in products.items()}
    plan.product_ids = [
        product_ids.get((code, version)) if code and version is not None else None
        for code, version in zip(values["product_code"], values["product_version"], strict=True)
    ]
    default_day_count: dict[int, DayCount] = {}
    for product in products.values():
        with suppress(ValueError):  # a product that cannot make terms: its rows are refused
            default_day_count[product.pk] = DayCount(product.day_count)
    plan.day_counts = [
        day_count or default_day_count.get(pk)  # type: ignore[arg-type]
        for day_count, pk in zip(values["day_count"], plan.product_ids, strict=True)
    ]

    simple = _simple_rows(values, fields, plan.product_ids, file, existing_loans,
                          existing_borrowers, set(product_errors))  # fmt: skip
    first_loan_row = file.first_loan_row
    by_pk = {product.pk: product for product in products.values()}
    candidates: list[int] = []
    for i in range(n):
        if simple[i]:
            candidates.append(i)
            continue
        f = _fields(fields, plan, i)
        item = {key: values[key][i] for key in columns.LOAN_KEYS}
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
        borrower = _borrower(item)
        if borrower is not None and (
            borrower.ref in file.repeated_borrowers or borrower.ref in existing_borrowers
        ):
            _check_borrower(f, borrower, file, existing_borrowers, plan)
        if not f.ok or product is None or borrower is None:
            continue
        existing = existing_loans.get(ref)
        if existing is not None:
            day_count = plan.day_counts[i] or DayCount(product.day_count)
            row = _loan_row(f, item, borrower, product, day_count)
            differences = _loan_differences(row, existing)
            if differences:
                f.error(
                    "loan_ref",
                    f"loan {ref} already exists with a different {', '.join(differences)}",
                )
            else:
                plan.skipped += 1
            continue
        candidates.append(i)

    refs, phones = values["borrower_ref"], values["phone"]
    for i in _with_schedules(candidates, plan, fields, by_pk):
        ref = refs[i]
        key = (ref, phones[i])
        if simple[i]:  # a new borrower named on this row alone, so a new phone too
            plan.borrowers.append(i)
            plan.phones.append(key)
            continue
        if ref in file.repeated_borrowers:
            if file.borrowers_in_file[ref][0] != first_row + i:
                if key not in existing_phones and key not in file.phones_planned:
                    file.phones_planned.add(key)
                    plan.phones.append(key)
                continue
            file.phones_planned.add(key)
        if ref not in existing_borrowers:
            plan.borrowers.append(i)
        if key not in existing_phones:
            plan.phones.append(key)
    return plan


def _simple_rows(
    values: dict[str, list[Any]],
    fields: dict[int, parsers.Fields],
    product_ids: list[int | None],
    file: LoanFile,
    existing_loans: dict[str, models.Loan],
    existing_borrowers: dict[str, models.Borrower],
    bad_products: set[int],
) -> list[bool]:
    """By offset, whether a row can only be a new loan of a new borrower: every field good,
    a borrower given whole, named on no other row and not stored, a loan reference on no other
    row and not stored, a product that exists and makes terms. The per-row checks could find
    nothing wrong with such a row and would add its borrower and phone as new."""
    bad = {i for i, f in fields.items() if not f.ok}
    repeated_loans, repeated_borrowers = file.repeated_loans, file.repeated_borrowers
    return [
        i not in bad
        and bool(ref and borrower_ref and name and id_type and national_id and locale)
        and pk is not None
        and pk not in bad_products
        and ref not in repeated_loans
        and ref not in existing_loans
        and borrower_ref not in repeated_borrowers
        and borrower_ref not in existing_borrowers
        for i, (ref, borrower_ref, name, id_type, national_id, locale, pk) in enumerate(
            zip(values["loan_ref"], values["borrower_ref"], values["name"], values["id_type"],
                values["national_id"], values["locale"], product_ids, strict=True)
        )
    ]  # fmt: skip


def _borrower(item: dict[str, Any]) -> BorrowerRow | None:
    """The row's borrower, if every field naming one is there."""
    if not (
        item["borrower_ref"]
        and item["name"]
        and item["id_type"]
        and item["national_id"]
        and item["locale"]
    ):
        return None
    return BorrowerRow(
        ref=item["borrower_ref"],
        name=item["name"],
        id_type=item["id_type"],
        national_id=item["national_id"],
        time_zone=item["time_zone"],
        locale=item["locale"],
        email=item["email"],
        postal_address=item["postal_address"],
    )


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
    day_count: DayCount,
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
        day_count=day_count,
    )


def _with_schedules(
    candidates: list[int],
    plan: LoanPlan,
    fields: dict[int, parsers.Fields],
    products: dict[int, models.Product],
) -> list[int]:
    """The candidates (row offsets) whose schedule builds, added to ``plan`` (loans and
    instalments, all the batch's schedules at once: :func:`~.schedules.build_schedules_of`);
    the others' rows get the kernel's error.

    The terms of loans alike but for the principal are made once (the product's calendar, the
    enums) and each loan given its principal; terms that cannot be made are tried again for
    each of their loans, which get the kernel's error as ever."""
    v = plan.fields
    keys = zip(plan.product_ids, v["currency"], v["rate"], v["rate_basis"], v["term"],
               v["method"], v["start_date"], plan.day_counts, strict=True)  # fmt: skip
    key_of = list(keys)
    templates: list[ScheduleTerms] = []
    # a key's template, or None once the kernel refused its terms for a loan
    made: dict[tuple[object, ...], int | None] = {}
    template_of: list[int] = []
    buildable: list[int] = []
    for i in candidates:
        key = key_of[i]
        at = made.get(key)
        if at is None:  # a new key, or a refused one: this loan tries its own terms
            try:
                templates.append(_terms(key, v["principal"][i], products))
            except ArrearsError as error:
                _fields(fields, plan, i).error("schedule", str(error))
                made.setdefault(key, None)
                continue
            at = len(templates) - 1
            made.setdefault(key, at)
        template_of.append(at)
        buildable.append(i)
    principals = np.array([v["principal"][i] for i in buildable], dtype=np.int64)
    built = build_schedules_of(templates, np.array(template_of, dtype=np.int64), principals)
    accepted: list[int] = []
    position = np.full(len(buildable), -1, dtype=np.int64)  # batch position → plan.loans
    for at, i in enumerate(buildable):
        error = built.errors.get(at)
        if error is not None:
            _fields(fields, plan, i).error("schedule", str(error))
            continue
        position[at] = len(plan.loans)
        plan.loans.append(i)
        accepted.append(i)
    frame = built.frame
    if built.errors:
        frame = frame.filter(pl.col("loan").is_in(list(built.errors)).not_())
    frame = frame.with_columns(pl.Series("loan", position[frame["loan"].to_numpy()]))
    plan.instalments = frame if plan.instalments is None else pl.concat([plan.instalments, frame])
    return accepted


def _fields(fields: dict[int, parsers.Fields], plan: LoanPlan, i: int) -> parsers.Fields:
    """The row's :class:`~.parsers.Fields`, made when a check first finds it wrong."""
    f = fields.get(i)
    if f is None:
        f = fields[i] = parsers.Fields(plan.table.first_row + i, {}, plan.errors)
    return f


def _terms(
    key: tuple[Any, ...], principal: int, products: dict[int, models.Product]
) -> ScheduleTerms:
    """The kernel's terms of a loan, from its terms key (:func:`_with_schedules`)."""
    pk, currency, rate, rate_basis, term, method, start_date, day_count = key
    return services.schedule_terms(
        product=products[pk],
        currency=currency,
        principal_minor=principal,
        rate=InterestRate(rate, rate_basis),
        term=term,
        method=method,
        start_date=start_date,
        day_count=day_count,
    )
