"""Fixtures for the contact tests: a small delinquent book, a recording channel, plain text,
and a real SMTP server on the loopback (aiosmtpd) for end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from arrears.collections import strategies
from arrears.collections.workflow import evaluate_day
from arrears.contact import render
from arrears.daily.services import day_run
from arrears.ledger import models
from tests import factories, sharing
from tests.smtp import Mailbox, smtp_server

DAY = date(2026, 2, 16)  # day 1 past the first due date: the reminder stage sends an SMS
SHANGHAI = ZoneInfo("Asia/Shanghai")
TEXT = (
    "【{lender_name}】{borrower_name}您好，截至{as_of}您的应还金额为{amount_due}（含罚息{penalty}），"
    "请通过{repayment_channels}还款。如有疑问请拨打{complaint_channel}投诉。验证码{verification_code}。"
)


@dataclass
class Result:
    status: str
    provider_ref: str = ""
    detail: str = ""


@dataclass
class Recorder:
    """A channel that records what it was asked to send (and can be told to fail)."""

    name: str = "sms"
    sent: list[Any] = field(default_factory=list)
    answer: str = "sent"

    def send(self, message: Any) -> Result:
        self.sent.append(message)
        return Result(self.answer, provider_ref=f"ref-{len(self.sent)}", detail="test")


@pytest.fixture
def plain_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Render with a fixed compliant text (the template catalogue is tested on its own)."""
    monkeypatch.setattr(
        render, "_render_template", lambda message, context: ("", TEXT.format(**context))
    )

    @dataclass(frozen=True)
    class Outbound:
        idempotency_key: str
        channel: str
        to: str
        subject: str
        body: str
        locale: str
        sender_name: str = ""
        metadata: Any = None

    monkeypatch.setattr(
        render.Rendered,
        "outbound",
        lambda self, m: Outbound(m.key, m.channel, self.to, self.subject, self.body, self.locale),
    )


def make_borrowers() -> list[models.Borrower]:
    """Three borrowers B0…B2 with one loan each (first instalment due 15 Feb 2026), and the
    active strategy; no day has been run."""
    strategies.active()
    product = factories.product()
    people = []
    for n in range(3):
        owner = factories.borrower(f"B{n}", phone=f"+861380000000{n}")
        factories.loan(f"L{n}", owner, product)
        people.append(owner)
    return people


def build_book() -> list[models.Borrower]:
    """:func:`make_borrowers` after the day run and the workflow of :data:`DAY`."""
    people = make_borrowers()
    day_run(as_of=DAY, engine="reference")
    evaluate_day(DAY)
    return people


def borrower_ids(people: list[models.Borrower]) -> list[int]:
    """What a test needs to load a shared book's borrowers afresh (tests/sharing.py)."""
    return [person.pk for person in people]


def load_borrowers(ids: list[int]) -> list[models.Borrower]:
    """The borrowers of ``ids``, in that order, as the database has them now."""
    found = models.Borrower.objects.in_bulk(ids)
    return [found[pk] for pk in ids]


@pytest.fixture
def book(db: None) -> list[models.Borrower]:
    """:func:`build_book`, built for this test."""
    return build_book()


@pytest.fixture(scope="module")
def _contact_book(django_db_setup: None, django_db_blocker: Any) -> Iterator[list[int]]:
    """:func:`build_book`, built once for the module (tests/sharing.py); only modules whose
    tests ask for ``shared_book`` build it."""
    yield from sharing.module_book(django_db_blocker, build_book, borrower_ids)


@pytest.fixture
def shared_book(
    request: pytest.FixtureRequest, _contact_book: list[int], db: None
) -> list[models.Borrower]:
    """The module's book as built, loaded afresh (each test in its own savepoint): a module
    whose every test can share it overrides ``book`` with this."""
    sharing.refuse_transactional(request, "book")
    return load_borrowers(_contact_book)


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, dict[str, str]]]:
    with smtp_server() as (box, port):
        yield (
            box,
            {
                "ARREARS_SMTP_HOST": "127.0.0.1",
                "ARREARS_SMTP_PORT": str(port),
                "ARREARS_SMTP_FROM": "collections@arrears.example",
                "ARREARS_SMTP_STARTTLS": "0",
            },
        )
