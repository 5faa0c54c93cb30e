"""The demo's borrowers can be written to: an e-mail and a postal address each, loaded through
the import format like everything else (issue 9, item 20)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from arrears.demo.files import write_import_files
from arrears.demo.portfolio import generate
from arrears.ledger import services
from arrears.ledger.importers import import_file
from arrears.ledger.models import Borrower
from arrears.ledger.validators import normalise_email, normalise_postal_address

AS_OF = date(2026, 11, 29)


def test_every_demo_borrower_has_an_address_and_an_email_the_import_accepts():
    for borrower, _ in generate(borrowers=60, as_of=AS_OF, seed=7):
        assert normalise_postal_address(borrower.postal_address) == borrower.postal_address
        assert normalise_email(borrower.email) == borrower.email


@pytest.mark.django_db
def test_the_demo_files_carry_the_addresses_into_the_ledger(tmp_path: Path):
    product = services.create_product(
        code="demo", version=1, name="demo", effective_from=date(2020, 1, 1)
    )
    portfolio = list(generate(borrowers=15, as_of=AS_OF, seed=7))
    loans, _, _ = write_import_files(
        portfolio, tmp_path, product_code=product.code, product_version=product.version
    )
    import_file("loans", loans)
    stored = {b.ref: (b.email, b.postal_address) for b in Borrower.objects.all()}
    assert stored == {b.ref: (b.email, b.postal_address) for b, _ in portfolio}
    assert all(email and address for email, address in stored.values())
