"""A small book for the portal: two borrowers a few days late, each with a case, and an SMS log
channel that captures what the portal sends (``ARREARS_CHANNEL_LOG``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from arrears.channels import read_log
from arrears.collections.models import Case
from arrears.collections.workflow import evaluate_day
from arrears.daily.services import day_run
from arrears.ledger.models import Borrower, Loan
from tests import factories


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


@pytest.fixture
def book(db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Book:
    today = timezone.localdate()
    sms_log = tmp_path / "sms.jsonl"
    monkeypatch.setenv("ARREARS_CHANNEL_LOG", str(sms_log))
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


@pytest.fixture
def client() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")
