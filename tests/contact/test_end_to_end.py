"""End to end: the daily run → reminders → gate → outbox → a real SMTP server (aiosmtpd).

Exactly one email per borrower, stating the residual as of the moment it is sent; re-running the
day and running the dispatcher again add none. A second test kills a real `arrears dispatch`
process in the middle of a batch and shows the restart loses nothing and sends nothing twice.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from arrears.channels import from_env
from arrears.collections import strategies
from arrears.collections.workflow import evaluate_day
from arrears.contact import dispatch
from arrears.contact.models import OutboxMessage
from arrears.contact.outbox import enqueue_due
from arrears.daily.services import day_run
from arrears.formatting import format_money
from arrears.kernel.money import Money
from arrears.ledger import models, selectors
from arrears.ledger import services as ledger
from tests import factories
from tests.processes import Book, Build, arrears, check, commands, migrated_copy, sqlite_env
from tests.smtp import Mailbox

DAY = date(2026, 2, 16)
SHANGHAI = ZoneInfo("Asia/Shanghai")
EMAIL_TREATMENT = """      - channel: email
        template: overdue_notice
        cadence: {first: 1}
      - channel: voice"""


def email_strategy() -> str:
    """The default ladder, v2, with an overdue email on day 1 of the reminder stage."""
    text = strategies.default_source().replace("version: 1", "version: 2", 1)
    return text.replace("      - channel: voice", EMAIL_TREATMENT, 1)


def seed(borrowers: int) -> None:
    product = factories.product()
    for n in range(borrowers):
        owner = factories.borrower(f"B{n}", phone=f"+86138000000{n:02d}")
        owner.email = f"b{n}@example.cn"
        owner.save(update_fields=["email"])
        factories.loan(f"L{n}", owner, product)


def the_day() -> None:
    day_run(as_of=DAY, engine="reference")
    evaluate_day(DAY)
    enqueue_due(DAY)


def residual_text(borrower: models.Borrower) -> str:
    total = sum(selectors.loan_state(loan, DAY)[1].total_due for loan in borrower.loans.all())
    return format_money(Money(total, "CNY"), "zh-CN")


@pytest.mark.django_db
def test_one_email_per_borrower_with_the_residual_at_sending_time(
    mailbox: tuple[Mailbox, dict[str, str]],
) -> None:
    box, env = mailbox
    strategies.publish(email_strategy(), source_name="email.yaml")
    seed(3)
    the_day()
    # after the work was made, one borrower pays part: the email must state what is left
    ledger.record_payment(
        loan=models.Loan.objects.get(ref="L1"),
        ref="PART",
        value_date=DAY,
        amount_minor=30_000,
        currency="CNY",
    )
    channels = from_env(env)
    ten = datetime(2026, 2, 16, 10, tzinfo=SHANGHAI)
    summary = dispatch.dispatch_once(channels, now=lambda: ten)
    emails = [m for m in OutboxMessage.objects.filter(channel="email")]
    assert summary.sent >= 3 and len(box.received) == 3, [m.status_reason for m in emails]
    by_rcpt = {m["To"].addresses[0].addr_spec: m for m in box.received}
    assert set(by_rcpt) == {"b0@example.cn", "b1@example.cn", "b2@example.cn"}
    for n in range(3):
        borrower = models.Borrower.objects.get(ref=f"B{n}")
        body = by_rcpt[f"b{n}@example.cn"].get_body(preferencelist=("plain",)).get_content()
        assert residual_text(borrower) in body, body
    partial = models.Borrower.objects.get(ref="B1")
    assert residual_text(partial) != residual_text(models.Borrower.objects.get(ref="B0"))

    the_day()  # re-running the day queues nothing new …
    dispatch.dispatch_once(channels, now=lambda: ten + timedelta(minutes=5))
    assert len(box.received) == 3  # … and a second dispatcher pass sends nothing


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    import sqlite3

    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchall()


#: The book's commands in one ``arrears shell`` (each child process starts Django anew, about
#: a CPU-second): the seed, then ``strategy publish`` and ``run-day`` as their management
#: commands, printing what they print on the command line.
SEED = """
from django.core.management import call_command
from tests.contact.test_end_to_end import DAY, seed
seed(6)
call_command("strategy", "publish", {strategy!r})
call_command("run-day", "--as-of", str(DAY), "--engine", "reference")
"""


def queued_book(env: dict[str, str]) -> str:
    """Through the real commands: six borrowers a day past due (:data:`SEED`), the email
    strategy published as v2, and ``run-day`` of :data:`DAY`, which queues an SMS and an email
    for each. What the tests that dispatch start from (``sqlite_book``: built once a session,
    each test on its own copy). The set-up, not what the tests prove: their runs and
    dispatches after it are each a fresh ``arrears`` process."""
    strategy = Path(env["ARREARS_DATA_DIR"]) / "email.yaml"
    strategy.write_text(email_strategy(), "utf-8")
    return check(env, "shell", "--no-imports", "-c", SEED.format(strategy=str(strategy)))


def copy_queued_book(sqlite_book: Callable[[Build], Book], folder: Path) -> Path:
    """:func:`queued_book`, copied into ``folder``; its database file."""
    book = sqlite_book(queued_book)
    # an SMS and an email for each of the six, the v2 strategy's
    assert "12 message(s) queued" in book.output, book.output
    db = folder / "arrears.sqlite3"
    migrated_copy(book.db, db)
    return db


@pytest.mark.slow
def test_a_killed_dispatcher_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path,
    mailbox: tuple[Mailbox, dict[str, str]],
    sqlite_book: Callable[[Build], Book],
) -> None:
    box, smtp = mailbox
    db = copy_queued_book(sqlite_book, tmp_path)  # 12 messages queued, the SMS to the log channel
    env = sqlite_env(tmp_path, **smtp)

    marker = tmp_path / "paused"
    start = "2026-02-16T10:00:00+08:00"
    killed = arrears(
        {**env, "ARREARS_FAULT_PAUSE": "after-message", "ARREARS_FAULT_FILE": str(marker)},
        "dispatch",
        "--once",
        "--batch",
        "20",
        "--lease",
        "60",
        "--now",
        start,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert killed.poll() is None, "the dispatcher ended before the fault point"
        assert time.monotonic() < deadline
        time.sleep(0.1)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    assert len(box.received) <= 1  # killed right after its first message

    # a restart after the dead dispatcher's lease ran out sends the rest, once each
    output = check(env, "dispatch", "--once", "--now", "2026-02-16T10:02:00+08:00")
    assert "recovered" in output
    recipients = [m["To"].addresses[0].addr_spec for m in box.received]
    assert len(recipients) == len(set(recipients)) == 6, recipients
    statuses = {row[0] for row in _rows(db, "SELECT status FROM contact_outboxmessage")}
    assert statuses == {"sent"}
    # the day again and the dispatcher again, in one fresh process (tests.processes.commands)
    commands(
        env,
        ("run-day", "--as-of", str(DAY), "--engine", "reference"),
        ("dispatch", "--once", "--now", "2026-02-16T10:05:00+08:00"),
    )
    assert len(box.received) == len(recipients)
