"""An SMS provider that times out or answers 5xx (issue 14, fault tests 3).

A real HTTP server on the loopback plays Twilio (``TWILIO_BASE_URL`` points the real channel,
built by ``channels.from_env`` exactly as the dispatcher builds it, at it). The server counts
every request it receives per phone number and what it did with it: *delivered* (it answered
201, or it took the message and answered too late — the client timed out after the request
left) or *refused* (5xx: nothing sent). The rule under test: transient failures are retried
with backoff (1, 2, 4, 8 minutes) and then the message fails; a timeout after the request left
is "outcome unknown" and is never sent again, by this dispatcher or any later one; at most one
delivery per person and message, however often the dispatcher runs.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest

from arrears.channels import from_env
from arrears.contact import dispatch
from arrears.contact.models import OutboxMessage
from arrears.contact.outbox import enqueue_due
from arrears.ledger import models
from tests.channels.servers import Reply, Request, closed_port, serve
from tests.contact.conftest import (  # noqa: F401  (fixtures)
    DAY,
    _contact_book,
    at,
    plain_templates,
    shared_book,
)

pytestmark = pytest.mark.usefixtures("plain_templates")


@pytest.fixture
def book(shared_book: list[models.Borrower]) -> list[models.Borrower]:  # noqa: F811
    """Every test here starts from the contact book as built (three borrowers a day late,
    their reminders due): built once for the module."""
    return shared_book


#: Seconds the channel waits for the provider; the slow provider answers after three times that.
TIMEOUT = 0.3


@dataclass
class Provider:
    """What the fake provider does with each request: ``answers`` in turn (the last repeats)."""

    answers: list[str]  # "ok" | "503" | "slow"
    received: Counter[str] = field(default_factory=Counter)
    delivered: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: Request) -> Reply:
        to = parse_qs(request.body.decode())["To"][0]
        with self.lock:
            answer = self.answers[min(self.received[to], len(self.answers) - 1)]
            self.received[to] += 1
            if answer in ("ok", "slow"):
                self.delivered[to] += 1  # a slow provider still sends the text
        if answer == "503":
            body = {"code": 20503, "message": "Service unavailable", "status": 503}
            return Reply(503, json.dumps(body).encode())
        sid = f"SM{to[-4:]}{self.received[to]}"
        body = {"sid": sid, "status": "queued", "error_code": None}
        return Reply(201, json.dumps(body).encode(), delay=TIMEOUT * 3 if answer == "slow" else 0)


@pytest.fixture
def provider() -> Iterator[Callable[[list[str]], tuple[Provider, dict[str, str]]]]:
    servers = []

    def start(answers: list[str]) -> tuple[Provider, dict[str, str]]:
        fake = Provider(answers)
        context = serve(fake)
        server = context.__enter__()
        servers.append(context)
        return fake, twilio_env(server.url)

    yield start
    for context in servers:
        context.__exit__(None, None, None)


def twilio_env(base_url: str) -> dict[str, str]:
    return {
        "ARREARS_SMS_PROVIDER": "twilio",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "secret",
        "TWILIO_FROM": "+15005550006",
        "TWILIO_BASE_URL": base_url,
        "ARREARS_CHANNEL_TIMEOUT": str(TIMEOUT),
    }


Run = Callable[[dict[str, str], datetime], dispatch.DispatchSummary]


@pytest.fixture
def run() -> Iterator[Run]:
    """``run(env, when)``: one dispatcher pass at ``when``, with channels built from ``env`` as
    the ``dispatch`` command builds them — once, then pass after pass — and closed at the end
    (each build loads the CA bundle for a new HTTP client: ~20 ms of CPU)."""
    built: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}

    def one_pass(env: dict[str, str], when: datetime) -> dispatch.DispatchSummary:
        key = tuple(sorted(env.items()))
        if key not in built:
            built[key] = from_env(env)
        return dispatch.dispatch_once(built[key], now=lambda: when)

    yield one_pass
    for channels in built.values():
        channels["sms"].close()


def statuses() -> dict[str, str]:
    return dict(OutboxMessage.objects.values_list("to_address", "status"))


def test_5xx_is_retried_with_backoff_then_failed_and_never_delivered_twice(
    book: list[models.Borrower],
    provider: Callable[[list[str]], tuple[Provider, dict[str, str]]],
    run: Run,
) -> None:
    fake, env = provider(["503"])
    enqueue_due(DAY)
    when = at(10)
    first = run(env, when)
    assert (first.claimed, first.retried) == (3, 3)
    waits = []
    for _ in range(1, dispatch.MAX_ATTEMPTS):
        message = OutboxMessage.objects.order_by("id").first()
        assert message is not None
        waits.append(message.not_before - when)
        assert run(env, when + timedelta(seconds=30)).claimed == 0  # not before the backoff
        when = message.not_before
        summary = run(env, when)
        assert summary.claimed == 3
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert summary.failed == 3
    assert set(statuses().values()) == {"failed"}
    assert set(fake.received.values()) == {dispatch.MAX_ATTEMPTS}  # one request per attempt
    assert not fake.delivered
    # later dispatchers leave a failed message alone
    assert run(env, when + timedelta(hours=1)).claimed == 0
    assert set(fake.received.values()) == {dispatch.MAX_ATTEMPTS}


def test_a_provider_that_recovers_delivers_each_message_once(
    book: list[models.Borrower],
    provider: Callable[[list[str]], tuple[Provider, dict[str, str]]],
    run: Run,
) -> None:
    fake, env = provider(["503", "503", "ok"])
    enqueue_due(DAY)
    when = at(10)
    for _ in range(3):
        run(env, when)
        when += timedelta(minutes=5)  # past each backoff (1, then 2 minutes)
    assert set(statuses().values()) == {"sent"}
    assert set(fake.received.values()) == {3}
    assert set(fake.delivered.values()) == {1}
    for _ in range(3):  # more dispatchers, later: nothing is sent again
        when += timedelta(minutes=30)
        assert run(env, when).claimed == 0
    assert set(fake.delivered.values()) == {1} and set(fake.received.values()) == {3}
    assert OutboxMessage.objects.filter(provider_ref__startswith="SM").count() == 3


def test_a_timeout_after_the_request_left_is_uncertain_and_never_sent_again(
    book: list[models.Borrower],
    provider: Callable[[list[str]], tuple[Provider, dict[str, str]]],
    run: Run,
) -> None:
    fake, env = provider(["slow", "ok"])
    enqueue_due(DAY)
    summary = run(env, at(10))
    assert summary.uncertain == 3 and summary.retried == 0
    assert set(statuses().values()) == {"uncertain"}
    for message in OutboxMessage.objects.all():
        assert message.status_reason.startswith("not retried, it may have been delivered")
        assert message.handed_at is not None and message.attempts == 1
    # dispatchers keep running, past every lease and backoff: nobody gets the text twice
    when = at(10)
    for minutes in (1, 2, 4, 8, 16, 60):
        when += timedelta(minutes=minutes)
        run(env, when)
    assert set(fake.received.values()) == {1}
    assert set(fake.delivered.values()) == {1}
    assert set(statuses().values()) == {"uncertain"}


def test_a_provider_that_cannot_be_reached_is_retried_then_sent(
    book: list[models.Borrower],
    provider: Callable[[list[str]], tuple[Provider, dict[str, str]]],
    run: Run,
) -> None:
    """Connection refused: the request never left, so a retry is safe."""
    enqueue_due(DAY)
    down = run(twilio_env(f"http://127.0.0.1:{closed_port()}"), at(10))
    assert down.retried == 3
    reasons = set(OutboxMessage.objects.values_list("status_reason", flat=True))
    assert all(r.startswith("retry after 0:01:00: not sent: ConnectError") for r in reasons)
    fake, env = provider(["ok"])
    assert run(env, at(10, 2)).sent == 3
    assert set(fake.received.values()) == {1}


def test_the_database_lost_after_the_provider_took_the_message_never_leads_to_a_resend(
    book: list[models.Borrower],
    provider: Callable[[list[str]], tuple[Provider, dict[str, str]]],
    run: Run,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The provider answered 201, then the dispatcher could not record it (the database went
    away and the dispatcher died). The next dispatcher, once the lease is over, finds the
    message handed over and marks it uncertain instead of sending it again."""
    from django.db import OperationalError

    fake, env = provider(["ok"])
    enqueue_due(DAY)
    finish = dispatch._finish

    def lost(message: OutboxMessage, worker: str, **changes: object) -> None:
        if changes.get("status") == OutboxMessage.Status.SENT:
            raise OperationalError("server closed the connection unexpectedly")
        finish(message, worker, **changes)

    monkeypatch.setattr(dispatch, "_finish", lost)
    with pytest.raises(OperationalError):
        run(env, at(10))
    monkeypatch.undo()
    assert sum(fake.delivered.values()) == 1  # the first message left; the pass died there
    assert run(env, at(10, 1)).uncertain == 0  # its lease still runs: left alone
    later = run(env, at(10) + dispatch.DEFAULT_LEASE + timedelta(minutes=1))
    assert later.uncertain == 1 and later.sent == 2
    assert set(fake.delivered.values()) == {1} and set(fake.received.values()) == {1}
