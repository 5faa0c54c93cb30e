"""A small book for the integrators' API: one product, a borrower with a loan in arrears and
an open case, and keys with every scope or with one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from arrears.api import access
from arrears.collections.models import Case
from arrears.ledger.models import Borrower, Loan, Product
from tests import factories

BASE = "/api/v1/"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class Book:
    product: Product
    borrower: Borrower
    loan: Loan
    case: Case
    key: str  # every scope

    def client(self, key: str | None = None) -> Client:
        return Client(HTTP_AUTHORIZATION=f"Bearer {key or self.key}", HTTP_ACCEPT_LANGUAGE="en")


def key_with(*scopes: str, name: str = "core", rate_limit: int = 600) -> str:
    return access.create_token(access.integration(name), list(scopes), rate_limit=rate_limit)


@pytest.fixture
def office_hours(_frozen_clock: time_machine.Traveller) -> None:
    """Mid-morning in Shanghai, so the gate's hours rule is not what a test meets."""
    _frozen_clock.move_to(datetime(2026, 12, 2, 10, 30, tzinfo=SHANGHAI))


@pytest.fixture
def book(db: None, office_hours: None) -> Book:
    product = factories.product()
    borrower = factories.borrower("B1")
    loan = factories.loan("L1", borrower, product, start=date(2026, 6, 15))
    case = Case.objects.create(borrower=borrower, currency="CNY", opened_on=date(2026, 8, 1))
    return Book(product, borrower, loan, case, key_with(*access.SCOPES))


def post(client: Client, path: str, body: Any) -> Any:
    import json

    return client.post(BASE + path, json.dumps(body), content_type="application/json")
