"""The database goes away in the middle of ``arrears run-day`` (issue 14, fault tests 2).

A real ``run-day`` in a child process pauses inside the replacement of the day's rows — the
old rows deleted, the new ones not yet written (``ARREARS_FAULT_PAUSE=replacing``) — and the
test ends every connection to the database from outside (``pg_terminate_backend``: the run's
own and its date lock's), then lets it go on. The run must exit non-zero with one line and no
traceback, leave the day's stored rows exactly as they were (the replacement is one
transaction), not leave its ``DayRun`` ``running``, and a second run must complete the day
with the figures of an uninterrupted run.

PostgreSQL only: the tests' SQLite database cannot lose a server, and a file that another
process locks only makes SQLite wait out its 30 s busy timeout; CI's PostgreSQL job runs this.
"""

from __future__ import annotations

import os
import subprocess
import time
from datetime import date
from pathlib import Path

import pytest
from django.db import connection

from arrears.daily.models import DayRun, LoanState
from arrears.daily.services import day_run
from arrears.ledger import services
from arrears.ledger.models import Loan
from tests import factories
from tests.faults import database
from tests.processes import arrears, check

AS_OF = "2026-11-29"
#: The runs' engine: what fails is storing the day, the same for every engine, and the
#: reference engine spares each run that computes most of a second (loading the compiled
#: replay from Numba's cache).
ENGINE = ("--engine", "reference")
COLUMNS = ("loan_id", "dpd", "bucket", "principal_outstanding", "penalty_outstanding", "total_due")


def rows() -> list[tuple[object, ...]]:
    return list(
        LoanState.objects.filter(as_of=date.fromisoformat(AS_OF))
        .order_by("loan_id")
        .values_list(*COLUMNS)
    )


def statuses() -> list[str]:
    return list(
        DayRun.objects.filter(as_of=date.fromisoformat(AS_OF))
        .order_by("id")
        .values_list("status", flat=True)
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_run_that_loses_the_database_midway_stops_cleanly_and_a_rerun_completes_it(
    tmp_path: Path,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("ending a run's server connection needs PostgreSQL (CI's PostgreSQL job)")
    settings_dict = connection.settings_dict
    env = {
        **os.environ,
        "ARREARS_DATA_DIR": str(tmp_path),
        "DATABASE_URL": database.url(settings_dict),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    product = factories.product()
    for n in range(8):
        factories.loan(f"L{n}", factories.borrower(f"B{n}", f"+86138000000{n:02d}"), product)
    day_run(as_of=date.fromisoformat(AS_OF), engine="reference")
    # a payment since: what the interrupted run computes differs from the stored rows
    services.record_payment(
        loan=Loan.objects.get(ref="L3"),
        ref="PAY-L3",
        value_date=date(2026, 11, 20),
        amount_minor=300_000,
        currency="CNY",
    )
    before = rows()
    assert len(before) == 8

    paused, resume = tmp_path / "paused", tmp_path / "resume"
    run = arrears(
        {
            **env,
            "ARREARS_FAULT_PAUSE": "replacing",
            "ARREARS_FAULT_FILE": str(paused),
            "ARREARS_FAULT_RESUME_FILE": str(resume),
        },
        "run-day",
        "--as-of",
        AS_OF,
        *ENGINE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not paused.exists():
            assert run.poll() is None, run.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        connection.close()
        assert database.terminate(settings_dict) >= 2  # the run's connection and its lock's
        resume.touch()
        _, err = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()

    assert run.returncode != 0
    lines = [line for line in err.decode().splitlines() if line.strip()]
    assert "Traceback" not in err.decode()
    assert len(lines) == 1, err.decode()
    assert lines[0].startswith(f"CommandError: {AS_OF}: the database failed during the run (")
    assert lines[0].endswith(f"run {AS_OF} again to complete it")
    # nothing half-applied: the deletes of the interrupted replacement were rolled back
    assert rows() == before
    # not stuck: the run reconnected to say it failed
    assert statuses() == ["completed", "failed"]

    check(env, "run-day", "--as-of", AS_OF, *ENGINE)
    completed = rows()
    assert statuses() == ["completed", "failed", "completed"]
    # an uninterrupted full run of the same data gives the same figures
    check(env, "run-day", "--as-of", AS_OF, "--full", "--no-workflow", *ENGINE)
    assert rows() == completed
    assert statuses()[-1] == "completed"
