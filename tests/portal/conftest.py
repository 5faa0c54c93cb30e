"""A small book for the portal: two borrowers a few days late, each with a case, and an SMS log
channel that captures what the portal sends (``ARREARS_CHANNEL_LOG``)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from arrears.channels import read_log
from arrears.collections.models import Case
from arrears.collections.workflow import evaluate_day
from arrears.daily.services import day_run
from arrears.ledger.models import Borrower, Loan
from tests import factories, sharing


@dataclass
class Book:
    today: date
    borrower: Borrower
    loan: Loan
    other: Borrower
    other_loan: Loan
    case: Case
    sms_log: Path

    def codes(self) -> list[str]:
        """Every sign-in code the SMS log holds, oldest first."""
        found = []
        for entry in read_log(self.sms_log):
            match = re.search(r"(?<![0-9])([0-9]{6})(?![0-9])", str(entry.get("body", "")))
            if entry.get("metadata", {}).get("template") == "portal_sign_in_code" and match:
                found.append(match.group(1))
        return found

    def sign_in(self, client: Client, ref: str | None = None) -> None:
        """Sign in as the loan's borrower with the code from the captured SMS."""
        response = client.post("/my/", {"loan": ref or self.loan.ref})
        assert response.status_code == 302, response.content.decode()[:500]
        response = client.post("/my/code/", {"code": self.codes()[-1]})
        assert response.status_code == 302 and response["Location"].endswith("/my/home/")


def build_book(sms_log: Path) -> Book:
    """Two borrowers a few days late (B-P's L-P with a case, B-Q's L-Q), after a day run and
    the workflow; ``sms_log`` is where the test's channel log is (the build sends nothing)."""
    today = timezone.localdate()
    product = factories.product()
    owner = factories.borrower("B-P", phone="+8613900000021")
    Borrower.objects.filter(pk=owner.pk).update(locale="en", name="Alex Chen")
    owner.refresh_from_db()
    loan = factories.loan(
        "L-P", owner, product, principal_minor=1_200_000, start=today - timedelta(days=40)
    )
    other = factories.borrower("B-Q", phone="+8613900000022")
    other_loan = factories.loan(
        "L-Q", other, product, principal_minor=600_000, start=today - timedelta(days=45)
    )
    day_run(as_of=today, engine="reference")
    evaluate_day(today)
    return Book(
        today=today,
        borrower=owner,
        loan=loan,
        other=other,
        other_loan=other_loan,
        case=Case.objects.get(borrower=owner),
        sms_log=sms_log,
    )


def _sms_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's own channel log (``ARREARS_CHANNEL_LOG``), where sign-in codes are read."""
    sms_log = tmp_path / "sms.jsonl"
    monkeypatch.setenv("ARREARS_CHANNEL_LOG", str(sms_log))
    return sms_log


@pytest.fixture
def book(db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Book:
    """The book, built for this test."""
    return build_book(_sms_log(tmp_path, monkeypatch))


@dataclass(frozen=True)
class BookKeys:
    """What a test needs to load a book built once for its module (tests/sharing.py)."""

    today: date
    borrower: int
    loan: int
    other: int
    other_loan: int
    case: int

    @classmethod
    def of(cls, book: Book) -> BookKeys:
        return cls(
            today=book.today,
            borrower=book.borrower.pk,
            loan=book.loan.pk,
            other=book.other.pk,
            other_loan=book.other_loan.pk,
            case=book.case.pk,
        )

    def load(self, sms_log: Path) -> Book:
        borrowers = Borrower.objects.in_bulk([self.borrower, self.other])
        loans = Loan.objects.in_bulk([self.loan, self.other_loan])
        return Book(
            today=self.today,
            borrower=borrowers[self.borrower],
            loan=loans[self.loan],
            other=borrowers[self.other],
            other_loan=loans[self.other_loan],
            case=Case.objects.get(pk=self.case),
            sms_log=sms_log,
        )


def _build_shared() -> Book:
    return build_book(Path(os.devnull))  # each test reads its own log (``_sms_log``)


@pytest.fixture(scope="module")
def _portal_book(django_db_setup: None, django_db_blocker: Any) -> Iterator[BookKeys]:
    """The book, built once for the module (tests/sharing.py); only modules whose tests ask
    for ``shared_book`` build it."""
    yield from sharing.module_book(django_db_blocker, _build_shared, BookKeys.of)


@pytest.fixture
def shared_book(
    request: pytest.FixtureRequest,
    _portal_book: BookKeys,
    db: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Book:
    """The module's book as built, loaded afresh (each test in its own savepoint): a module
    whose every test can share it overrides ``book`` with this."""
    sharing.refuse_transactional(request, "book")
    return _portal_book.load(_sms_log(tmp_path, monkeypatch))


@pytest.fixture
def client() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")
