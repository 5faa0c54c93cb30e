"""Benchmark: ``arrears report roll_rates`` end to end on the database — the path users take.

Run: ``DATABASE_URL=postgresql://…/NAME PYTHONPATH=src:. .venv/bin/python bench/reports_db.py
--loans 1000000 --months 12`` (the bench owns ``NAME`` and the ``NAME_seed_…`` template of
``bench/daily_db.py``, whose seeding it uses: one loan per borrower, one instalment, started
before the first month end). Into that book it stores the month-end states of
``bench/reports.py``'s Markov chain as ``daily.LoanState`` rows, with a finished ``DayRun`` per
month end that started after every ledger row was recorded (so no loan is replayed), once: a
database that already holds them (the table's comment says so) is reused. Then it times
``roll_rates.compute`` — the stored runs, the grouped read, the suspects, the known loans, the
write-offs, the roll states and transitions — and prints each stage, the total, the states
read stored and replayed, a digest of the result's tables (equal digests: equal tables, so a
reader before and after a change can be compared on the same database) and the load average.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from bench import daily_db
from bench.reports import FIGURES, month_ends, synthetic_states

#: The seeded book's loans are drawn down a month before this; the month ends follow.
SEEDED_AS_OF = date(2025, 11, 29)


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--reseed", action="store_true", help="rebuild the book and states")
    return parser.parse_args()


def _store(loans: int, months: int) -> int:
    """Store the synthetic month-end states of every seeded loan and a finished run a day."""
    from django.db import connection

    from arrears.daily.models import DayRun, LoanState
    from arrears.ledger.models import Loan

    ids = list(Loan.objects.order_by("id").values_list("id", flat=True))
    states, _written = synthetic_states(len(ids), months)
    mapping = pl.DataFrame({"loan_id": range(1, len(ids) + 1), "id": ids})
    states = states.join(mapping, on="loan_id").drop("loan_id").rename({"id": "loan_id"})
    table = LoanState._meta.db_table
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY {table} (loan_id, as_of, {', '.join(FIGURES)}) FROM STDIN") as copy:
            for day in sorted(set(states["as_of"].to_list())):  # a day at a time, as runs store
                buffer = io.BytesIO()
                states.filter(pl.col("as_of") == day).select(
                    "loan_id",
                    "as_of",
                    *(pl.col(n) if n in states.columns else pl.lit(0).alias(n) for n in FIGURES),
                ).write_csv(buffer, include_header=False, separator="\t")
                copy.write(buffer.getvalue())
    # every run started after the ledger's rows were recorded: nothing to replay
    started = datetime(2026, 12, 1, 1, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    for day in month_ends(months):
        DayRun.objects.create(as_of=day, engine="bench", status=DayRun.Status.COMPLETED)
    DayRun.objects.update(started_at=started, finished_at=started + timedelta(minutes=5))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute(f"COMMENT ON TABLE {table} IS %s", [f"reports_db {loans} {months}"])
    return len(states)


def _marked(loans: int, months: int) -> bool:
    from django.db import connection

    from arrears.daily.models import LoanState

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT obj_description(to_regclass(%s), 'pg_class')", [LoanState._meta.db_table]
        )
        (comment,) = cursor.fetchone()
    return bool(comment == f"reports_db {loans} {months}")


class Stages:
    """Seconds per stage, by wrapping module functions (the first call's caller counts it)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, module: Any, name: str, label: str) -> None:
        original: Callable[..., Any] | None = getattr(module, name, None)
        if original is None:  # an older reader's stage (the bench times the code it finds)
            return

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + (time.perf_counter() - started)

        setattr(module, name, timed)


def main() -> None:
    options = _options()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("set DATABASE_URL=postgresql://…/NAME (the bench owns NAME)")
    seed = argparse.Namespace(
        borrowers=options.loans,
        instalments=1,
        unpaid=0.1,
        as_of=SEEDED_AS_OF,
        seed=1,
        reseed=options.reseed,
        profile=0,
    )
    name, params = daily_db._postgres(url)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arrears.project.settings")
    if options.reseed or not daily_db._pg_exists(params, name):
        print(daily_db.prepare(seed), flush=True)
    else:
        import django
        from django.core.management import call_command

        django.setup()
        # a book kept from an earlier run may predate a migration: bring it up to date
        call_command("migrate", "--no-input", verbosity=0)
    if not _marked(options.loans, options.months):
        started = time.perf_counter()
        rows = _store(options.loans, options.months)
        print(f"stored {rows:,} month-end states in {time.perf_counter() - started:.1f} s")
    from arrears.reports import states
    from arrears.reports.base import ReportParams
    from arrears.reports.library import roll_rates

    stages = Stages()
    for module, function, label in (
        (states, "_stored_runs", "stored runs"),
        (states, "_stored_frames", "read stored states"),
        (states, "_stored_frame", "read stored states"),  # the reader before, a day a time
        (states, "_attributes", "known loans"),
        (states, "_in_force_since", "concessions since"),
        (states, "_suspects", "suspects"),
        (states, "_known_attributes", "known loans"),
        (states, "_stored_days", "keep known, replay"),
        (roll_rates, "written_off", "written off"),
        (roll_rates, "roll_state", "roll states"),
        (roll_rates, "transitions", "transitions"),
        (roll_rates, "matrix", "matrix"),
    ):
        stages.wrap(module, function, label)
    days = month_ends(options.months)
    report = ReportParams(as_of=days[-1], start=days[0] + timedelta(days=1), end=days[-1])
    started, cpu = time.perf_counter(), time.process_time()
    result = roll_rates.compute(report)
    total, cpu = time.perf_counter() - started, time.process_time() - cpu
    counts = result.table("matrix")
    moved = sum(int(row[-1]) for row in counts.rows)  # type: ignore[call-overload]
    print(f"roll_rates.compute over {options.loans:,} loans × {len(days)} month ends:")
    for label, seconds in stages.seconds.items():
        print(f"  {label:<24} {seconds:6.2f} s")
    print(f"  {'total':<24} {total:6.2f} s ({cpu:.2f} CPU-s in this process)")
    digest = hashlib.sha256(repr([(t.key, t.rows) for t in result.tables]).encode()).hexdigest()[
        :16
    ]
    print(f"  loans moved {moved:,}; {result.notes[-1]}; tables' digest {digest}")
    print(f"  load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
