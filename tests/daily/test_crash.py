"""Kill a real `arrears run-day` process mid-run; running the day again completes it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.processes import arrears, check, migrated_copy

AS_OF = "2026-11-29"


def table(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchall()


STATES = "SELECT loan_id, dpd, bucket, penalty_outstanding, total_due FROM daily_loanstate "


@pytest.mark.slow
def test_a_run_killed_after_computing_leaves_nothing_half_written_and_a_rerun_completes(
    tmp_path: Path, migrated_sqlite: Path
) -> None:
    db = tmp_path / "arrears.sqlite3"
    env = {
        **os.environ,
        "ARREARS_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{db}",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    migrated_copy(migrated_sqlite, db)
    check(env, "demo", "--borrowers", "60", "--as-of", "2026-11-28")
    before = table(db, STATES + f"WHERE as_of = '{AS_OF}'")
    assert before == []

    marker = tmp_path / "paused"
    killed = arrears(
        {**env, "ARREARS_FAULT_PAUSE": "computed", "ARREARS_FAULT_FILE": str(marker)},
        "run-day",
        "--as-of",
        AS_OF,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert killed.poll() is None, "run-day ended before reaching the fault point"
        assert time.monotonic() < deadline
        time.sleep(0.1)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)

    assert table(db, STATES + f"WHERE as_of = '{AS_OF}'") == []
    assert table(db, f"SELECT status FROM daily_dayrun WHERE as_of = '{AS_OF}'") == [("running",)]

    check(env, "run-day", "--as-of", AS_OF)
    rerun = table(db, STATES + f"WHERE as_of = '{AS_OF}' ORDER BY loan_id")
    statuses = table(db, f"SELECT status FROM daily_dayrun WHERE as_of = '{AS_OF}' ORDER BY id")
    assert statuses == [("abandoned",), ("completed",)]

    # the same day computed by an uninterrupted run on the same data is identical
    check(env, "run-day", "--as-of", AS_OF)
    assert table(db, STATES + f"WHERE as_of = '{AS_OF}' ORDER BY loan_id") == rerun
    assert len(rerun) == table(db, "SELECT count(*) FROM ledger_loan")[0][0]
