"""Write a generated demo portfolio as import files (the same CSV format lenders use).

The demo goes through the real import path on purpose: what a newcomer sees was loaded exactly
as a lender's own files would be.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from arrears.demo.portfolio import DemoBorrower, DemoLoan
from arrears.kernel.money import Money

LOAN_COLUMNS = (
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
    "day_count",
)
PAYMENT_COLUMNS = ("payment_ref", "loan_ref", "value_date", "amount", "currency", "reverses")


def write_import_files(
    portfolio: Iterable[tuple[DemoBorrower, list[DemoLoan]]],
    directory: Path,
    *,
    product_code: str,
    product_version: int,
) -> tuple[Path, Path, int]:
    """Write ``loans.csv`` and ``payments.csv`` into ``directory``; return paths and loan count."""
    directory.mkdir(parents=True, exist_ok=True)
    loans_path, payments_path = directory / "loans.csv", directory / "payments.csv"
    count = 0
    with (
        loans_path.open("w", newline="", encoding="utf-8") as lf,
        payments_path.open("w", newline="", encoding="utf-8") as pf,
    ):
        loans = csv.writer(lf)
        payments = csv.writer(pf)
        loans.writerow(LOAN_COLUMNS)
        payments.writerow(PAYMENT_COLUMNS)
        for borrower, borrower_loans in portfolio:
            for loan in borrower_loans:
                t = loan.terms
                count += 1
                loans.writerow(
                    (
                        loan.ref,
                        borrower.ref,
                        borrower.name,
                        "cn_ric",
                        borrower.national_id,
                        borrower.phone,
                        borrower.time_zone,
                        borrower.locale,
                        product_code,
                        product_version,
                        t.currency,
                        Money(t.principal, t.currency).amount,
                        t.rate.basis.value,
                        t.rate.value,
                        t.term,
                        t.method.value,
                        t.start.isoformat(),
                        t.day_count.value,
                    )
                )
                for p in loan.payments:
                    payments.writerow(
                        (
                            p.ref,
                            loan.ref,
                            p.value_date.isoformat(),
                            Money(p.amount, t.currency).amount,
                            t.currency,
                            "",
                        )
                    )
    return loans_path, payments_path, count
