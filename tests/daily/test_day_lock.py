"""One run of a date at a time (issue 14 #4): a second `arrears run-day` of the same date is
refused with "already running" while the first holds the date's lock, and a run killed midway
leaves a `running` record that the next run marks abandoned and completes."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from arrears.daily.models import DayRun
from arrears.daily.services import DayRunBusy, day_lock, day_run
from tests import factories
from tests.processes import arrears, check, migrated_copy, sqlite_env

AS_OF = "2026-11-29"
#: What is raced is the date, not the book or the engine: a few loans are enough to hold the
#: lock (seeding them through the factories takes a second where the demo takes tens), and the
#: runs use the reference engine (the compiled one adds most of a second, loading its replay
#: from Numba's cache, to every run that computes, and changes nothing about the lock).
RUN = ("run-day", "--as-of", AS_OF, "--no-workflow", "--engine", "reference")
#: :func:`seed` in a child, for a database the test's process does not use (SQLite's file).
SEED = """
from tests.daily.test_day_lock import seed
seed()
"""


def seed() -> None:
    """Eight borrowers with a loan each."""
    product = factories.product()
    for n in range(8):
        owner = factories.borrower(f"B{n}", phone=f"+86138000000{n:02d}")
        factories.loan(f"L{n}", owner, product)


def _pause_then_race(env: dict[str, str], marker: Path) -> None:
    """Start a run that stops after computing (holding the lock); race a second one against
    it; kill the first; the next run completes the day."""
    first = arrears(
        {**env, "ARREARS_FAULT_PAUSE": "computed", "ARREARS_FAULT_FILE": str(marker)},
        *RUN,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 180
        while not marker.exists():
            assert first.poll() is None, "the first run ended before reaching the fault point"
            assert time.monotonic() < deadline
            time.sleep(0.1)
        second = arrears(env, *RUN, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        output, _ = second.communicate(timeout=300)
        assert second.returncode != 0
        assert f"a run of {AS_OF} is already running" in output.decode()
        assert "Traceback" not in output.decode()
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    check(env, *RUN)


@pytest.mark.slow
def test_sqlite_a_second_run_of_the_date_is_refused_and_a_killed_one_resumed(
    tmp_path: Path, migrated_sqlite: Path
) -> None:
    db = tmp_path / "arrears.sqlite3"
    migrated_copy(migrated_sqlite, db)
    env = sqlite_env(tmp_path)
    check(env, "shell", "--no-imports", "-c", SEED)
    _pause_then_race(env, tmp_path / "paused")
    import sqlite3

    with sqlite3.connect(db) as con:
        rows = con.execute(
            f"SELECT status FROM daily_dayrun WHERE as_of = '{AS_OF}' ORDER BY id"
        ).fetchall()
    assert rows == [("abandoned",), ("completed",)]


def _postgres_url() -> str:
    s: dict[str, Any] = connection.settings_dict
    user = s.get("USER") or "postgres"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or 5432
    return f"postgresql://{user}{password}@{host}:{port}/{s['NAME']}"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_postgresql_two_processes_one_date(tmp_path: Path) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's; SQLite has its own test (a file lock)")
    env = {**os.environ, "ARREARS_DATA_DIR": str(tmp_path), "DATABASE_URL": _postgres_url()}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    seed()  # committed (a transactional test): the children see it
    _pause_then_race(env, tmp_path / "paused")
    statuses = list(
        DayRun.objects.filter(as_of=date.fromisoformat(AS_OF))
        .order_by("id")
        .values_list("status", flat=True)
    )
    assert statuses == ["abandoned", "completed"]


@pytest.mark.django_db(transaction=True)
def test_postgresql_the_lock_is_per_date_and_released(tmp_path: Path) -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "advisory locks are PostgreSQL's (an in-memory SQLite test database is "
            "private to this process)"
        )
    day = date(2026, 6, 10)
    with day_lock(day):
        with pytest.raises(DayRunBusy, match="a run of 2026-06-10 is already running"):
            day_run(as_of=day)
        day_run(as_of=date(2026, 6, 11))  # another date runs meanwhile
    assert day_run(as_of=day).as_of == day  # released
