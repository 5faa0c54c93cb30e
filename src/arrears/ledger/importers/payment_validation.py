"""Validating a payments file: its rows (parsed by :mod:`~.columns` or :mod:`~.rows`), payments
and reversals, against each other, their loans and the payments already stored.

The result is a :class:`PaymentPlan` holding every error found and what is new to write;
:mod:`~.writing` refuses a plan with any error. A payment or reversal already stored with
identical data is skipped; the same reference with different data is an error. Nothing is
written here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl
from django.db.models import Q

from arrears.ledger import models
from arrears.ledger.importers import columns, lookups, parsers, rows
from arrears.ledger.importers.errors import RowError
from arrears.ledger.importers.loan_validation import repeated_values
from arrears.ledger.importers.reading import Table
from arrears.ledger.importers.records import PaymentPlan, PaymentRow, ReversalRow


@dataclass
class PaymentFile:
    """What the chunks of one payments file share, kept only for what repeats or is reversed:
    the first row of a repeated payment reference and of a payment reversed more than once,
    and the parsed rows of the file's payments that a reversal in the file names (found up
    front, so a reversal may come before its payment, in any chunk)."""

    repeated_refs: frozenset[str]
    repeated_targets: frozenset[str]
    in_file: dict[str, tuple[parsers.Fields, dict[str, Any]]]
    first_ref_row: dict[str, int] = field(default_factory=dict)
    first_reversal_row: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, table: Table) -> PaymentFile:
        refs = pl.DataFrame({"ref": table.column("payment_ref")})
        if "reverses" in table.column_names:
            refs = refs.with_columns(table.column("reverses").alias("reverses"))
        else:
            refs = refs.with_columns(pl.lit("").alias("reverses"))
        reverses = refs.get_column("reverses")
        targets = reverses.filter(reverses != "").unique()
        numbers = (
            refs.with_row_index("_n", offset=table.first_row)
            .filter(pl.col("ref").is_in(targets.implode()) & (pl.col("reverses") == ""))
            .get_column("_n")
            .to_list()
        )
        scratch: list[RowError] = []  # each row's own errors are reported by its chunk
        parsed = rows.payment_rows(table.subset(numbers), scratch) if numbers else []
        in_file = {item["ref"]: (f, item) for f, item in reversed(parsed) if item["ref"]}
        return cls(repeated_values(refs.get_column("ref")), repeated_values(reverses), in_file)


def _date(value: date | str) -> date:
    """A date column read by raw SQL (SQLite gives the ISO text Django stored)."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def validate_payments(table: Table, file: PaymentFile | None = None) -> PaymentPlan:
    """Check every row of a payments file (payments and reversals), or of one chunk of it with
    the ``file``'s shared state, before anything is written."""
    file = file or PaymentFile.of(table)
    plan = PaymentPlan(table)
    if table.frame is not None and not table.rows and table.blocks is None:  # a chunk: by column
        parsed = columns.payment_rows(table.frame, table.first_row, plan.errors)
    else:
        parsed = rows.payment_rows(table, plan.errors)

    starts: dict[object, date] = {}  # a file's loans share a few hundred start dates
    loans = {}
    for pk, ref, currency, start in lookups.select_in(
        models.Loan,
        # as text: SQLite's converter of a date column would run once a row
        '"id", "ref", "currency", CAST("start_date" AS text)',
        "ref",
        [item["loan_ref"] for _, item in parsed if item["loan_ref"]],
    ):
        if start not in starts:
            starts[start] = _date(start)
        loans[ref] = {"id": pk, "ref": ref, "currency": currency, "start_date": starts[start]}
    refs = [r for _, item in parsed for r in (item["ref"], item["reverses"]) if r]
    refs = [
        *lookups.present(models.Payment, refs),
        *lookups.present(models.Payment, refs, "reversal_ref"),
    ]
    stored: dict[str, models.Payment] = {}
    stored_reversals: dict[str, models.Payment] = {}
    for chunk in lookups.chunks(refs):
        query = Q(ref__in=chunk) | Q(reversal_ref__in=chunk)
        for payment in models.Payment.objects.filter(query).select_related("loan"):
            stored[payment.ref] = payment
            if payment.reversal_ref:
                stored_reversals[payment.reversal_ref] = payment
    first_ref_row = file.first_ref_row
    for f, item in parsed:
        ref = item["ref"]
        if ref in file.repeated_refs:
            if ref in first_ref_row:
                f.error("payment_ref", f"{ref} appears again (first on row {first_ref_row[ref]})")
            else:
                first_ref_row[ref] = f.row
        if item["reverses"]:
            _check_reversal(f, item, stored, stored_reversals, file, plan)
        else:
            _check_payment(f, item, loans.get(item["loan_ref"]), stored, stored_reversals, plan)
    return plan


def _check_payment(
    f: parsers.Fields,
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
    f: parsers.Fields,
    item: dict[str, Any],
    stored: dict[str, models.Payment],
    stored_reversals: dict[str, models.Payment],
    file: PaymentFile,
    plan: PaymentPlan,
) -> None:
    """A reversal row: ``payment_ref`` is the reversal's own reference, ``value_date`` the
    date it takes effect, and loan, currency and amount must repeat the reversed payment's."""
    ref, target_ref, reversed_on = item["ref"], item["reverses"], item["value_date"]
    if target_ref == ref:
        f.error("reverses", f"{ref} cannot reverse itself")
        return
    first_reversal_row = file.first_reversal_row
    if target_ref in first_reversal_row:
        f.error(
            "reverses",
            f"payment {target_ref} is reversed again "
            f"(first on row {first_reversal_row[target_ref]})",
        )
    elif target_ref in file.repeated_targets:
        first_reversal_row[target_ref] = f.row
    target = stored.get(target_ref)
    if target is not None:
        original = {
            "loan_ref": target.loan.ref,
            "currency": target.currency,
            "amount": target.amount_minor,
            "value_date": target.value_date,
        }
    elif target_ref in file.in_file:
        original = file.in_file[target_ref][1]
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
