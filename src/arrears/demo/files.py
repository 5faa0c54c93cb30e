"""Write a generated demo portfolio as import files (the same CSV format lenders use).

The demo goes through the real import path on purpose: what a newcomer sees was loaded exactly
as a lender's own files would be, e-mail and postal address included (so letters can be sent).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from arrears.demo.portfolio import DemoBorrower, DemoLoan
from arrears.kernel.money import Money
from arrears.ledger.importers import (
    LOAN_COLUMNS,
    LOAN_OPTIONAL,
    PAYMENT_COLUMNS,
    PAYMENT_OPTIONAL,
)

LOAN_FILE_COLUMNS = (*LOAN_COLUMNS, *LOAN_OPTIONAL)
PAYMENT_FILE_COLUMNS = (*PAYMENT_COLUMNS, *PAYMENT_OPTIONAL)


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
        loans.writerow(LOAN_FILE_COLUMNS)
        payments.writerow(PAYMENT_FILE_COLUMNS)
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
                        borrower.email,
                        borrower.postal_address,
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
