"""The database goes away mid-request (issue 14, fault tests 1).

On PostgreSQL the app's own server process is ended from a second connection
(``pg_terminate_backend``) in the middle of the work, or the database refuses connections
(``ALLOW_CONNECTIONS false``) — what the app sees of a restart or a failover. SQLite, in memory
for tests, cannot be taken away from outside; there the same places raise what SQLite raises
when another writer holds the file ("database is locked"), which the app must answer the same
way. Either way: a 503 in the app's style (HTML pages in the reader's language, the APIs' JSON
error shape), logged once and masked, nothing of the write kept, and the next request served
once the database is back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.db.models.signals import post_save
from django.test import Client

from arrears.api import access
from arrears.api.models import IdempotentRequest
from arrears.collections.models import Case
from arrears.ledger.models import Payment
from arrears.web import unavailable
from tests import factories
from tests.faults import database

pytestmark = pytest.mark.django_db(transaction=True)

PAYMENT = {
    "reference": "BANK-77",
    "loan": "L1",
    "value_date": "2026-11-20",
    "amount_minor": 50_000,
    "currency": "CNY",
}


@pytest.fixture
def key() -> str:
    product = factories.product()
    owner = factories.borrower("B1")
    factories.loan("L1", owner, product, start=date(2026, 6, 15))
    Case.objects.create(borrower=owner, currency="CNY", opened_on=date(2026, 8, 1))
    return access.create_token(access.integration("core"), list(access.SCOPES), rate_limit=600)


@pytest.fixture
def lose_connection() -> Iterator[Callable[[], None]]:
    """A function that takes the database away from the app's connection, there and then: on
    PostgreSQL its server process is ended; on SQLite it raises "database is locked"."""

    def lose() -> None:
        if connection.vendor == "postgresql":
            pid = connection.connection.info.backend_pid
            assert database.terminate(connection.settings_dict, pid) == 1
        else:
            raise OperationalError("database is locked")

    yield lose
    connection.close()  # the test database's teardown opens a fresh one


def _errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_a_payment_whose_connection_dies_midway_is_a_json_503_and_a_replay_applies_it_once(
    key: str,
    lose_connection: Callable[[], None],
    caplog: pytest.LogCaptureFixture,
    settings: Any,
    debug: bool,
) -> None:
    """With ``DEBUG`` on (the demo) too: django-ninja would answer a plain-text traceback."""
    settings.DEBUG = debug

    def die_after_the_insert(sender: Any, **kwargs: Any) -> None:
        post_save.disconnect(die_after_the_insert, sender=Payment)
        lose_connection()  # the payment row is written, the transaction not committed

    post_save.connect(die_after_the_insert, sender=Payment, weak=False)
    client = Client(
        HTTP_AUTHORIZATION=f"Bearer {key}",
        HTTP_ACCEPT_LANGUAGE="en",
        raise_request_exception=False,
    )
    caplog.set_level(logging.INFO)
    lost = client.post("/api/v1/payments", json.dumps(PAYMENT), content_type="application/json")

    assert lost.status_code == 503
    assert lost["Content-Type"] == "application/json"
    assert lost["Retry-After"] == str(unavailable.RETRY_AFTER)
    error = lost.json()["error"]
    assert error["code"] == "database-unavailable"
    assert error["message"].startswith("the database is unavailable; nothing was changed")
    errors = _errors(caplog)
    assert [r.name for r in errors] == ["arrears.unavailable"]  # once, not Django's 500 too
    assert errors[0].getMessage().startswith("database unavailable: POST /api/v1/payments: ")
    # nothing of the write stayed: neither the payment nor the idempotency record
    assert not Payment.objects.filter(ref="BANK-77").exists()
    assert not IdempotentRequest.objects.exists()

    again = client.post("/api/v1/payments", json.dumps(PAYMENT), content_type="application/json")
    assert again.status_code == 201, again.content
    replay = client.post("/api/v1/payments", json.dumps(PAYMENT), content_type="application/json")
    assert (replay.status_code, replay.json()) == (201, again.json())
    assert Payment.objects.filter(ref="BANK-77").count() == 1


def test_a_page_whose_connection_dies_in_the_view_is_the_503_page_in_chinese(
    key: str,
    lose_connection: Callable[[], None],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from arrears.web import views

    latest = views.selectors.latest_run_date

    def dies(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(views.selectors, "latest_run_date", latest)
        lose_connection()
        return latest(*args, **kwargs)

    monkeypatch.setattr(views.selectors, "latest_run_date", dies)
    staff = _staff()
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans", raise_request_exception=False)
    client.force_login(staff)
    caplog.set_level(logging.INFO)
    page = client.get("/loans/L1/")

    assert page.status_code == 503
    text = page.content.decode()
    assert "数据库暂时不可用" in text and 'id="database-unavailable"' in text
    assert "Traceback" not in text
    assert [r.name for r in _errors(caplog)] == ["arrears.unavailable"]
    assert client.get("/loans/L1/").status_code == 200  # served again


def _staff() -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user("ops", password="x", is_staff=True)


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "The database is unavailable"), ("zh-hans", "数据库暂时不可用")],
)
def test_while_the_database_refuses_connections_pages_and_apis_are_503(
    key: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    language: str,
    words: str,
) -> None:
    page_client = Client(HTTP_ACCEPT_LANGUAGE=language, raise_request_exception=False)
    page_client.force_login(_staff())
    api_client = Client(
        HTTP_AUTHORIZATION=f"Bearer {key}",
        HTTP_ACCEPT_LANGUAGE=language,
        raise_request_exception=False,
    )
    caplog.set_level(logging.INFO)
    with _refusing(monkeypatch):
        page = page_client.get("/loans/13812345678/")  # a number in the path: masked in the log
        api = api_client.get("/api/v1/loans/L1")
    try:
        assert page.status_code == 503
        assert words in page.content.decode()
        assert page["Retry-After"] == str(unavailable.RETRY_AFTER)
        assert api.status_code == 503
        assert api.json()["error"]["code"] == "database-unavailable"
        logged = [r.getMessage() for r in _errors(caplog)]
        assert len(logged) == 2  # one line per request
        assert "13812345678" not in logged[0] and "5678" in logged[0]
        # the database is back: both are served again
        assert api_client.get("/api/v1/loans/L1").status_code == 200
        assert page_client.get("/loans/L1/").status_code == 200
    finally:
        connection.close()


class _refusing:
    """The database refuses connections: on PostgreSQL really (``ALLOW_CONNECTIONS false``
    and the open connections ended), on SQLite by making the connection step fail the way a
    missing or unreadable file does."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch

    def __enter__(self) -> None:
        if connection.vendor == "postgresql":
            database.set_accepting(connection.settings_dict, False)
            database.terminate(connection.settings_dict)
            connection.close()
        else:

            def refuse() -> None:
                raise OperationalError("unable to open database file")

            self.monkeypatch.setattr(connection, "ensure_connection", refuse)

    def __exit__(self, *exc: object) -> None:
        if connection.vendor == "postgresql":
            database.set_accepting(connection.settings_dict, True)
        else:
            self.monkeypatch.undo()


def test_a_connection_ended_between_requests_is_a_503_from_a_middleware_then_recovers(
    key: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The connection is still open in the app but its server process is gone (a persistent
    connection across a restart): the first query is the session's, in a middleware, before
    any view — Django turns it into a 500 there, which becomes the 503 page."""
    if connection.vendor != "postgresql":
        pytest.skip("an open SQLite connection cannot lose its server (CI's PostgreSQL job)")
    client = Client(HTTP_ACCEPT_LANGUAGE="en", raise_request_exception=False)
    client.force_login(_staff())
    assert client.get("/loans/L1/").status_code == 200
    connection.ensure_connection()
    database.terminate(connection.settings_dict, connection.connection.info.backend_pid)
    caplog.set_level(logging.INFO)
    try:
        page = client.get("/loans/L1/")
        assert page.status_code == 503
        assert "The database is unavailable" in page.content.decode()
        assert len(_errors(caplog)) == 1  # Django's own line for the middleware's error
        assert client.get("/loans/L1/").status_code == 200
    finally:
        connection.close()
