"""Fixtures for the letter tests: a law firm, a case whose loan is overdue with penalty, and a
PDF directory of the test's own."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from arrears.collections.models import Case
from arrears.ledger import models
from arrears.legal.models import LawFirm
from tests import factories

#: The letter date: the loan (first due 2026-02-15) is months overdue, penalty has accrued.
DAY = date(2026, 6, 1)


@pytest.fixture(autouse=True)
def _letter_dir(tmp_path: Path, settings: object) -> Path:
    directory = tmp_path / "legal"
    settings.ARREARS_LEGAL_DIR = directory  # type: ignore[attr-defined]
    settings.ARREARS_PUBLIC_URL = "https://arrears.example"  # type: ignore[attr-defined]
    return directory


@pytest.fixture
def firm(db: None) -> LawFirm:
    return LawFirm.objects.create(
        code="demo-law",
        name="Demo Law LLP",
        name_zh="演示律师事务所",
        licence_number="31310000MD0123456X",
        address="上海市浦东新区世纪大道100号 20楼",
        phone="021-6000-0000",
    )


@pytest.fixture
def borrower(db: None) -> models.Borrower:
    owner = factories.borrower("B1")
    owner.postal_address = "上海市黄浦区南京东路1号 1201室\n200001"
    owner.save(update_fields=["postal_address"])
    factories.loan("L-2026-0001", owner, factories.product())
    return owner


@pytest.fixture
def case(borrower: models.Borrower) -> Case:
    return Case.objects.create(borrower=borrower, currency="CNY", opened_on=date(2026, 2, 16))


def pdf_text(content: bytes) -> str:
    """The PDF's text with line breaks taken out (a wrapped line splits a phrase anywhere in
    Chinese text); single spaces between words are kept."""
    pages = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(line.strip() for line in pages.splitlines())
