"""Kill a real `arrears run-day` process mid-run; running the day again completes it."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from datetime import date
from pathlib import Path

import pytest

from tests.processes import arrears, check, migrated_copy, sqlite_env

AS_OF = "2026-11-29"
#: The day before, closed when the book is loaded: the run killed is a next day's run.
LOADED = date(2026, 11, 28)
BOOK = """
from tests.daily.test_crash import load_book
load_book()
"""


def load_book() -> None:
    """The ledger ``arrears demo --borrowers 60`` loads — its generator's 60 borrowers and its
    large ones, 88 loans of every behaviour, through the real import path — with
    :data:`LOADED` closed (states, workflow, outbox). Not the demo itself: its staff, agencies,
    field history and sent messages (nine-tenths of its CPU) are not what a crash of the day's
    computation is about; nor is the engine that closes :data:`LOADED` — the reference one,
    which spares this process loading the compiled replay (the runs under test use the
    default, compiled, engine). Runs in ``arrears shell`` (see :data:`BOOK`)."""
    from django.conf import settings
    from django.core.management import call_command

    from arrears.collections.dayflow import close_day
    from arrears.demo.files import write_import_files
    from arrears.demo.management.commands.demo import DEMO_PRODUCT
    from arrears.demo.partners import LARGE_BORROWERS
    from arrears.demo.portfolio import generate
    from arrears.engine.names import REFERENCE
    from arrears.ledger.models import Product

    product = Product.objects.create(
        code=DEMO_PRODUCT, version=1, name="demo", effective_from=date(2020, 1, 1)
    )
    portfolio = generate(borrowers=60, as_of=LOADED, product=product.terms(), large=LARGE_BORROWERS)
    loans, payments, _ = write_import_files(
        portfolio, settings.DATA_DIR / "demo", product_code=DEMO_PRODUCT, product_version=1
    )
    call_command("import", "loans", str(loans))
    call_command("import", "payments", str(payments))
    for line in close_day(LOADED, engine=REFERENCE).lines():
        print(line)


#: The rerun of the killed day and the uninterrupted run to compare it with, in one child
#: (starting Django and the compiled engine is most of a run-day's CPU on this book): both
#: as their management commands; the rerun's stored rows and the day's runs are printed
#: between them, as one JSON line at the end.
RERUN_THEN_FULL = """
import json
from django.core.management import call_command
from django.db import connection
from tests.daily.test_crash import AS_OF, RUNS, STATES

def rows(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [list(row) for row in cursor.fetchall()]

call_command("run-day", "--as-of", AS_OF)
seen = {"rerun": rows(STATES + f"WHERE as_of = '{AS_OF}' ORDER BY loan_id"), "statuses": rows(RUNS)}
call_command("run-day", "--as-of", AS_OF, "--full", "--no-workflow")
print(json.dumps(seen))
"""


def table(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchall()


STATES = "SELECT loan_id, dpd, bucket, penalty_outstanding, total_due FROM daily_loanstate "
RUNS = f"SELECT status FROM daily_dayrun WHERE as_of = '{AS_OF}' ORDER BY id"


@pytest.mark.slow
def test_a_run_killed_after_computing_leaves_nothing_half_written_and_a_rerun_completes(
    tmp_path: Path, migrated_sqlite: Path
) -> None:
    db = tmp_path / "arrears.sqlite3"
    env = sqlite_env(tmp_path)
    migrated_copy(migrated_sqlite, db)
    check(env, "shell", "--no-imports", "-c", BOOK)
    loans = table(db, "SELECT count(*) FROM ledger_loan")[0][0]
    assert loans > 60  # the demo's book, not an empty one
    assert table(db, f"SELECT count(*) FROM daily_loanstate WHERE as_of = '{LOADED}'") == [(loans,)]
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

    # the rerun (a fresh process), then in the same process the same day computed by an
    # uninterrupted run on the same data (--full: a rerun of a completed day would otherwise
    # keep the stored rows of unchanged loans); what the rerun stored is read in between
    output = check(env, "shell", "--no-imports", "-c", RERUN_THEN_FULL)
    seen = json.loads(output.splitlines()[-1])
    rerun = [tuple(row) for row in seen["rerun"]]
    assert [tuple(row) for row in seen["statuses"]] == [("abandoned",), ("completed",)]
    assert len(rerun) == loans

    assert table(db, STATES + f"WHERE as_of = '{AS_OF}' ORDER BY loan_id") == rerun
    statuses = table(db, f"SELECT status FROM daily_dayrun WHERE as_of = '{AS_OF}' ORDER BY id")
    assert statuses == [("abandoned",), ("completed",), ("completed",)]
