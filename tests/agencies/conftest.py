"""Two agencies and three borrowers about twenty days late: ``acme`` has cases 0 and 1
placed, ``bolt`` case 2.

Kept small and fast: loans through the ledger services, cases and placements created directly
(no daily run; the placement service is another part of the app). Each agency has one agency
user (``amy`` at acme, ``ben`` at bolt); ``ann`` is an internal collector with case 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from arrears.agencies.models import Agency, AgencyMember, Placement
from arrears.collections.models import Case, Collector, Team
from arrears.ledger.models import Loan
from tests import factories

PHONES = ("+8613800000001", "+8613800000002", "+8613800000003")

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def make_agency(code: str, **extra: object) -> Agency:
    fields: dict[str, object] = {
        "name": f"{code.title()} Collections",
        "licence_number": f"LIC-{code}",
        "licence_valid_to": date(2027, 12, 31),
        "contract_starts": date(2026, 1, 1),
        "contract_ends": date(2027, 12, 31),
        "phone": "+864000000000",
        "permitted_channels": ["call", "sms"],
        "permitted_parties": [],
    }
    fields.update(extra)
    return Agency.objects.create(code=code, **fields)


def place(case: Case, agency: Agency, on: date, days: int = 30) -> Placement:
    return Placement.objects.create(
        key=f"placement:{case.pk}:{on}",
        case=case,
        agency=agency,
        placed_on=on,
        ends_on=on + timedelta(days=days - 1),
        bucket=case.bucket or "M1",
        dpd=case.dpd,
        total_due_minor=case.total_due_minor,
        currency=case.currency,
        method="round_robin",
    )


@dataclass
class Book:
    today: date
    cases: list[Case]
    staff: dict[str, Collector]


def make_book() -> Book:
    today = timezone.localdate()
    team = Team.objects.create(code="internal", name="Internal team", owner="internal_team")
    ann = Collector.objects.create(user=User.objects.create_user("ann"), team=team)
    product = factories.product()
    cases = []
    for n, phone in enumerate(PHONES):
        owner = factories.borrower(f"B-{n}", phone=phone)
        factories.loan(f"L-{n}", owner, product, start=today - timedelta(days=50))
        cases.append(
            Case.objects.create(
                borrower=owner,
                currency="CNY",
                opened_on=today - timedelta(days=20),
                stage="external",
                owner="agency",
                dpd=20,
                bucket="M1",
                total_due_minor=90_000,
                collector=ann if n == 0 else None,
            )
        )
    return Book(today=today, cases=cases, staff={"ann": ann})


@dataclass
class Agencies:
    book: Book
    acme: Agency
    bolt: Agency
    members: dict[str, AgencyMember]
    placements: list[Placement]

    def client(self, who: str) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(self.members[who].user)
        return client


@pytest.fixture
def agencies(db: None) -> Agencies:
    """Acme with cases 0 and 1, bolt with case 2 (``tests/agencies/book.py``, which modules
    that share one book build it with)."""
    from tests.agencies.book import build_agencies

    return build_agencies()


@pytest.fixture
def office_hours(_frozen_clock: time_machine.Traveller) -> None:
    """Mid-morning of the frozen day, for tests whose subject is not the hours."""
    _frozen_clock.move_to(local(timezone.localdate(), 10, 30))


# --- placements through the day step (tests of placement, allocation, commission, scorecard,
# --- cli, admin): a small book that reaches ``external`` by itself, two agencies to place with.


@pytest.fixture
def pair(db: None) -> tuple[Agency, Agency]:
    """``alpha`` (10% commission from the first fen, any bucket) and ``beta``, capacity 100."""
    from tests.agencies.daystep import two_agencies

    return two_agencies()


@pytest.fixture
def book(db: None) -> Callable[[int], list[Loan]]:
    """``book(n)``: n borrowers with one unpaid loan each (started 2026-01-15)."""
    from tests.agencies.daystep import loans

    return loans
