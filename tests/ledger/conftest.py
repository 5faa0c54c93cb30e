"""Books of the import tests, each built once for the module that asks for it
(``tests/sharing.py``): creating a product, and loans with their schedules, cost more than
most of the tests that only import into them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from arrears.ledger import models, services
from tests import sharing


def import_product() -> models.Product:
    """The product every loan of the import tests' files names: ``PL`` version 1."""
    return services.create_product(
        code="PL", version=1, name="Personal loan", effective_from=date(2026, 1, 1)
    )


def payment_loans() -> dict[str, models.Loan]:
    """The loans the payments files pay: L1 and L2 in CNY and LJ in JPY, 12 000.00 (12 000
    yen) over twelve months from 15 January 2026, of one borrower, under :func:`import_product`."""
    product = import_product()
    borrower = services.create_borrower(ref="B", name="B", id_type="other", national_id="E1")
    return {
        ref: services.create_loan(
            ref=ref,
            borrower=borrower,
            product=product,
            currency=currency,
            principal_minor=1_200_000,
            rate_value=Decimal("0.0005"),
            rate_basis="daily",
            term=12,
            method="equal-instalment",
            start_date=date(2026, 1, 15),
        )
        for ref, currency in (("L1", "CNY"), ("L2", "CNY"), ("LJ", "JPY"))
    }


@pytest.fixture(scope="module")
def shared_import_product(django_db_setup: None, django_db_blocker: Any) -> Iterator[int]:
    """:func:`import_product` built once for the module, its id."""
    yield from sharing.module_book(django_db_blocker, import_product, lambda product: product.pk)


@pytest.fixture(scope="module")
def shared_payment_loans(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, int]]:
    """:func:`payment_loans` built once for the module: each loan's id by reference."""
    yield from sharing.module_book(
        django_db_blocker, payment_loans, lambda loans: {ref: x.pk for ref, x in loans.items()}
    )
