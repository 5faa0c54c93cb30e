"""The two file formats, by column name: what a lender writes and the demo generates.

In one place because three parties share them: the pipeline checks a file's columns against
them, the demo writes its files by them and the tests build files from them.
"""

from __future__ import annotations

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
