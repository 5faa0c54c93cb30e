"""The server is killed in the middle of a write (issue 14, fault tests 4).

gunicorn serves the app (as ``bench/api_load.py`` starts it) on a free loopback port against a
migrated SQLite file. A payment is posted to the REST API; a gunicorn hook (test-only, in the
config file below: nothing in the app knows about it) pauses the worker at a chosen point of
the request, and the test SIGKILLs the master and its worker there:

* ``before-commit``: the payment row is inserted, its transaction not committed;
* ``after-commit``: the transaction committed (``payment_changed`` is sent on commit), the
  answer not yet written.

Then: the payment is wholly absent or wholly there (the payment row and its idempotency record
together, never one without the other); the server starts again and serves; the client,
which got no answer, sends the same request again with the same reference, and it is applied
exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.processes import REPO, Book, Build, check, migrated_copy, sqlite_env

SEED = """
from datetime import date
from arrears.api import access
from tests import factories
product = factories.product()
factories.loan("L1", factories.borrower("B1"), product, start=date(2026, 6, 15))
print("KEY=" + access.create_token(access.integration("core"), ["payments:write"], rate_limit=600))
"""


#: The server's settings, production's but for plain http on the loopback (production
#: settings would redirect every request to https); the seed is made with them too.
SERVER = {
    "ARREARS_DEBUG": "0",
    "ARREARS_SECRET_KEY": "faults-test-" + "k" * 40,
    "ARREARS_SSL_REDIRECT": "0",
}


def seeded(env: dict[str, str]) -> str:
    """A loan and an API key that may post payments (:data:`SEED`): what both kill points
    start from, built once a session (``sqlite_book``), each test on its own copy."""
    return check({**env, **SERVER}, "shell", "--no-imports", "-c", SEED)


#: The gunicorn config: a hook that pauses the worker at ``FAULTS_PAUSE`` (touching
#: ``FAULTS_MARKER`` first), for the test to kill the server there.
HOOKS = """
import os, pathlib, time

def post_worker_init(worker):
    stage = os.environ.get("FAULTS_PAUSE")
    if not stage:
        return
    marker = pathlib.Path(os.environ["FAULTS_MARKER"])

    def pause(*args, **kwargs):
        marker.touch()
        time.sleep(600)

    if stage == "before-commit":
        from django.db.models.signals import post_save
        from arrears.ledger.models import Payment
        post_save.connect(pause, sender=Payment, weak=False)
    else:
        from arrears.ledger.signals import payment_changed
        payment_changed.connect(pause, weak=False)
"""
PAYMENT = {
    "reference": "BANK-KILL-1",
    "loan": "L1",
    "value_date": "2026-11-20",
    "amount_minor": 50_000,
    "currency": "CNY",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(env: dict[str, str], config: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "arrears.project.wsgi:application",
        "--config",
        str(config),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--worker-class",
        "sync",
        "--timeout",
        "120",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(
        command,
        env=env,
        cwd=REPO,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert server.poll() is None, "gunicorn exited at start"
        try:
            # the sign-in page: the worker is up and serves (the OpenAPI document the test
            # fetches at the end costs the worker a quarter of a CPU-second a fetch)
            if httpx.get(f"{base}/accounts/login/", timeout=2).is_success:
                return server, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    _kill(server)
    raise AssertionError("gunicorn did not answer within 90 s")


def _kill(server: subprocess.Popen[bytes], how: int = signal.SIGKILL) -> None:
    if server.poll() is None:
        os.killpg(server.pid, how)
        server.wait(timeout=30)


def _rows(db: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with sqlite3.connect(db) as con:
        payments = con.execute(
            "SELECT ref, amount_minor FROM ledger_payment WHERE ref = ?", [PAYMENT["reference"]]
        ).fetchall()
        records = con.execute(
            "SELECT kind, reference FROM api_idempotentrequest WHERE reference = ?",
            [PAYMENT["reference"]],
        ).fetchall()
    return payments, records


def _post(base: str, key: str) -> httpx.Response:
    return httpx.post(
        f"{base}/api/v1/payments",
        content=json.dumps(PAYMENT),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        timeout=60,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("stage", "kept"),
    [("before-commit", False), ("after-commit", True)],
)
def test_a_server_killed_mid_payment_keeps_all_or_nothing_and_a_replay_applies_it_once(
    tmp_path: Path, sqlite_book: Callable[[Build], Book], stage: str, kept: bool
) -> None:
    db = tmp_path / "arrears.sqlite3"
    env = sqlite_env(tmp_path, **SERVER)
    book = sqlite_book(seeded)
    migrated_copy(book.db, db)
    key = next(line[4:] for line in book.output.splitlines() if line.startswith("KEY="))
    config = tmp_path / "gunicorn_hooks.py"
    config.write_text(HOOKS)
    marker = tmp_path / "paused"

    server, base = _start({**env, "FAULTS_PAUSE": stage, "FAULTS_MARKER": str(marker)}, config)
    answers: list[object] = []
    client = threading.Thread(target=lambda: answers.append(_try_post(base, key)), daemon=True)
    try:
        client.start()
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert server.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        _kill(server)  # master and worker, mid-request
        client.join(30)
    finally:
        _kill(server)
    assert len(answers) == 1 and isinstance(answers[0], httpx.TransportError)  # no answer

    payments, records = _rows(db)
    if kept:
        assert (payments, records) == ([("BANK-KILL-1", 50_000)], [("payment", "BANK-KILL-1")])
    else:
        assert (payments, records) == ([], [])  # neither the row nor its record

    server, base = _start(env, config)
    try:
        again = _post(base, key)
        assert again.status_code == 201, again.text
        assert again.json()["reference"] == "BANK-KILL-1"
        assert again.headers.get("Idempotent-Replayed") == ("true" if kept else None)
        replay = _post(base, key)
        assert (replay.status_code, replay.json()) == (201, again.json())
        assert httpx.get(f"{base}/api/v1/openapi.json", timeout=10).is_success
    finally:
        _kill(server, signal.SIGTERM)
    assert _rows(db) == ([("BANK-KILL-1", 50_000)], [("payment", "BANK-KILL-1")])


def _try_post(base: str, key: str) -> object:
    try:
        return _post(base, key)
    except httpx.TransportError as error:
        return error
