"""``arrears snapshot export``: the ledger written as a portfolio snapshot.

The snapshot format, its writer and its readers belong to the engine
(:mod:`arrears.engine.snapshot`), which runs on a lender's machine without Django; reading the
rows out of our database is the ledger's job, so it lives here and the engine imports no app.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.db.models.functions import Collate

from arrears.engine.snapshot import (
    INSTALMENTS,
    LOANS,
    PAYMENTS,
    PRODUCTS,
    SnapshotError,
    SnapshotWriter,
)
from arrears.kernel.terms import PRODUCT_KEYS
from arrears.ledger import models, selectors


def _ref_collation(vendor: str) -> str | None:
    """A byte-order collation, so payments leave the database in the order Python sorts refs."""
    return {"postgresql": "C", "sqlite": "BINARY"}.get(vendor)


def export_snapshot(
    directory: Path,
    loans: QuerySet[models.Loan] | None = None,
    *,
    batch_size: int = 100_000,
    exclude_adjusted: bool = False,
) -> dict[str, int]:
    """Write ``loans`` (default: every loan) with their products, instalments and payments as a
    snapshot in ``directory``; returns the row count of each file.

    Every table is streamed (``values_list().iterator()``) and written ``batch_size`` rows at a
    time, so memory does not grow with the portfolio. The four reads run in one read-only
    transaction — ``REPEATABLE READ`` on PostgreSQL — so the files agree with each other even
    while payments keep arriving.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    selected = models.Loan.objects.all() if loans is None else loans
    adjusted = selectors.loans_with_concessions(selected)
    if adjusted.exists():
        if not exclude_adjusted:
            refs = list(adjusted.order_by("ref").values_list("ref", flat=True)[:5])
            raise SnapshotError(
                f"{adjusted.count()} loan(s) have waivers or repayment plans in force "
                f"({', '.join(refs)}…): this snapshot format does not carry them, so their "
                "figures would be wrong. Run those days on the database, or export the other "
                "loans with --exclude-adjusted.",
                code="snapshot-adjusted-loans",
            )
        selected = selected.exclude(id__in=adjusted.values("id"))
        loans = selected
    instalments = models.Instalment.objects.all()
    payments = models.Payment.objects.all()
    if loans is not None:  # rows of the chosen loans only (one semi-join, not a list of ids)
        instalments = instalments.filter(loan_id__in=loans.values("id"))
        payments = payments.filter(loan_id__in=loans.values("id"))
    collation = _ref_collation(connection.vendor)
    payment_order: list[Any] = ["loan_id", "value_date"]
    payment_order.append(Collate("ref", collation) if collation else "ref")
    outermost = not connection.in_atomic_block

    def stream(name: str, rows: Iterator[tuple[Any, ...]], writer: SnapshotWriter) -> None:
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == batch_size:
                writer.write_rows(name, batch)
                batch = []
        if batch:
            writer.write_rows(name, batch)

    with transaction.atomic(), SnapshotWriter(directory) as writer:
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        products = (
            models.Product.objects.filter(id__in=selected.values("product_id"))
            .order_by("id")
            .values_list("id", *PRODUCT_KEYS)  # the snapshot's column order: id, then the terms
        )
        stream(
            PRODUCTS,
            (
                (*row[:-1], json.dumps(row[-1], ensure_ascii=False))
                for row in products.iterator(chunk_size=batch_size)
            ),
            writer,
        )
        stream(
            LOANS,
            selected.order_by("id")
            .values_list(
                "id",
                "ref",
                "product_id",
                "currency",
                "principal_minor",
                "rate_value",
                "rate_basis",
                "day_count",
                "start_date",
            )
            .iterator(chunk_size=batch_size),
            writer,
        )
        stream(
            INSTALMENTS,
            instalments.order_by("loan_id", "seq")
            .values_list(
                "loan_id",
                "seq",
                "due_date",
                "principal_minor",
                "interest_minor",
                "period_start",
                "period_end",
            )
            .iterator(chunk_size=batch_size),
            writer,
        )
        stream(
            PAYMENTS,
            payments.order_by(*payment_order)
            .values_list("loan_id", "ref", "value_date", "amount_minor", "reversed_on")
            .iterator(chunk_size=batch_size),
            writer,
        )
    return dict(writer.counts)
