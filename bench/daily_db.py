"""Benchmark: one full day on the database — ledger states, workflow, app steps, outbox.

Run (SQLite, the default): ``PYTHONPATH=src:. .venv/bin/python bench/daily_db.py --borrowers
100000``; on PostgreSQL set ``DATABASE_URL=postgres://…/NAME`` (the bench owns that database
and a ``NAME_seed_…`` template next to it: both are dropped and rebuilt as needed).

It seeds a synthetic book (:mod:`arrears.engine.synthetic`: one loan per borrower,
``--instalments`` monthly instalments, ``--unpaid`` of the loans stop paying) in bulk —
``executemany`` on SQLite, ``COPY`` on PostgreSQL, then ``ANALYZE``, as autovacuum would on a
live database (without statistics PostgreSQL plans the ledger's reads badly and spills its
sorts to disk) — into a seed database kept under
``bench/out/`` (or the template database) and reused while the arguments are the same; every
run then starts from a fresh copy of it. It closes the day with
:func:`arrears.collections.dayflow.close_day`, then closes the same day again (the rerun must
change nothing), and prints one line per stage — ``read``, ``compute`` and ``store`` (the
ledger run, ``daily.services.day_run``), ``workflow`` and every other registered step, the
``outbox`` — with seconds and loans per second, then the totals and the peak RSS.

``--profile N`` also prints the first run's top N functions (cProfile, by own time and by
cumulative time) over the steps after the ledger.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pgdb  # bench/pgdb.py: the scripts run from bench/, which is on sys.path

AS_OF = date(2026, 11, 29)
OUT = Path(__file__).resolve().parent / "out"
#: Internal collectors seeded (each with room for :data:`CAPACITY` open cases).
COLLECTORS, CAPACITY = 40, 400
BATCH = 50_000


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--borrowers", "--loans", type=int, default=100_000, help="one loan each, so also loans"
    )
    parser.add_argument("--instalments", type=int, default=10)
    parser.add_argument("--unpaid", type=float, default=0.1, help="share of loans in arrears")
    parser.add_argument("--as-of", type=date.fromisoformat, default=AS_OF)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reseed", action="store_true", help="rebuild the seed database")
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    return parser.parse_args()


# --- databases ------------------------------------------------------------------------------


def _postgres(url: str) -> tuple[str, dict[str, Any]]:
    """(database name, connection arguments for psycopg) of a postgres:// URL."""
    return urlparse(url).path.lstrip("/"), pgdb.server_params(url)


def _point_django_at(name: str) -> None:
    """Make Django's next connection go to database ``name`` (a path on SQLite)."""
    from django.db import connections

    connections["default"].close()
    connections["default"].settings_dict["NAME"] = name


# --- seeding --------------------------------------------------------------------------------


def _insert(table: str, columns: list[str], rows: Iterator[tuple[Any, ...]] | list[Any]) -> int:
    """Insert ``rows`` into ``table``: ``COPY`` on PostgreSQL, ``executemany`` on SQLite."""
    from django.db import connection

    count = 0
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # psycopg's cursor under Django's wrapper
            with raw.copy(f"COPY {connection.ops.quote_name(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {connection.ops.quote_name(table)} ({names}) VALUES ({marks})"
        raw = cursor.cursor
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(tuple(_sqlite_value(v) for v in row))
            if len(batch) >= BATCH:
                raw.executemany(sql, batch)
                count += len(batch)
                batch = []
        raw.executemany(sql, batch)
        return count + len(batch)


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def seed(options: argparse.Namespace) -> dict[str, int]:
    """Write the synthetic book, its products and borrowers, and the people who work it."""
    import numpy as np
    import polars as pl
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from arrears.collections.models import Collector, Team
    from arrears.engine import synthetic
    from arrears.ledger import schedules
    from arrears.ledger.models import Borrower, Loan, Payment, Product, Schedule

    now = datetime(2026, 1, 1, 0, 0, 0)
    counts = {"borrowers": 0, "loans": 0, "instalments": 0, "payments": 0}
    with transaction.atomic():
        for product_id, (code, terms) in enumerate(synthetic.synthetic_products(), start=1):
            Product.objects.create(
                id=product_id,
                code=code,
                name=code,
                effective_from=date(2020, 1, 1),
                penalty_multiplier=terms.penalty_multiplier,
                compound=terms.compound,
                grace_days=terms.grace_days,
                grace_retroactive=terms.grace_retroactive,
                cost_cap_annual=terms.cost_cap_annual,
                rounding=terms.rounding.value,
                accrual_rounding=terms.accrual_rounding.value,
                allocation_order=",".join(c.value for c in terms.allocation_order),
                tolerance_minor=terms.tolerance,
            )
        for block, first in enumerate(range(0, options.borrowers, synthetic.BLOCK_LOANS)):
            rng = np.random.default_rng([options.seed, block])
            size = min(synthetic.BLOCK_LOANS, options.borrowers - first)
            loans, instalments, payments = synthetic._block(
                rng, first + 1, size, options.as_of, options.instalments, options.unpaid
            )
            stored = schedules.encode_frame(
                pl.from_arrow(instalments).rename(  # type: ignore[union-attr]
                    {"principal_minor": "principal", "interest_minor": "interest"}
                ),
                "loan_id",
            )
            counts["instalments"] += instalments.num_rows
            loans, payments = loans.to_pylist(), payments.to_pylist()
            counts["borrowers"] += _insert(
                Borrower._meta.db_table,
                [
                    "id",
                    "ref",
                    "name",
                    "id_type",
                    "national_id",
                    "locale",
                    "email",
                    "postal_address",
                    "created_at",
                ],
                (
                    (
                        r["loan_id"],
                        f"SYN-B{r['loan_id']:010d}",
                        f"Borrower {r['loan_id']}",
                        "other",
                        str(r["loan_id"]),
                        "zh-hans",
                        "",
                        "",
                        now,
                    )
                    for r in loans
                ),
            )
            counts["loans"] += _insert(
                Loan._meta.db_table,
                [
                    "id",
                    "ref",
                    "borrower_id",
                    "product_id",
                    "currency",
                    "principal_minor",
                    "rate_value",
                    "rate_basis",
                    "term",
                    "method",
                    "day_count",
                    "start_date",
                    "created_at",
                ],
                (
                    (
                        r["loan_id"],
                        r["ref"],
                        r["loan_id"],
                        r["product_id"],
                        r["currency"],
                        r["principal_minor"],
                        str(r["rate_value"]),
                        r["rate_basis"],
                        options.instalments,
                        "equal-instalment",
                        r["day_count"],
                        r["start_date"],
                        now,
                    )
                    for r in loans
                ),
            )
            _insert(Schedule._meta.db_table, ["loan_id", "text"], stored.rows())
            counts["payments"] += _insert(
                Payment._meta.db_table,
                [
                    "ref",
                    "loan_id",
                    "value_date",
                    "amount_minor",
                    "currency",
                    "reversed_on",
                    "reversal_reason",
                    "source",
                    "created_at",
                ],
                (
                    (
                        r["ref"],
                        r["loan_id"],
                        r["value_date"],
                        r["amount_minor"],
                        "CNY",
                        None,
                        "",
                        "bench",
                        now,
                    )
                    for r in payments
                ),
            )
        users = get_user_model()
        team = Team.objects.create(code="internal", name="Internal team", owner="internal_team")
        for n in range(COLLECTORS):
            user = users.objects.create_user(f"collector{n:03d}", password=None)
            Collector.objects.create(user=user, team=team, capacity=CAPACITY)
    _reset_sequences()
    return counts


def _reset_sequences() -> None:
    """Move PostgreSQL's id sequences past the ids the seed wrote itself."""
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    models = [apps.get_model("ledger", name) for name in ("Borrower", "Loan", "Product")]
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)


def prepare(options: argparse.Namespace) -> str:
    """Set up Django on a fresh copy of the seeded book; returns a one-line description."""
    tag = f"{options.borrowers}x{options.instalments}-u{options.unpaid}-s{options.seed}"
    tag += f"-{options.as_of.isoformat()}"
    url = os.environ.get("DATABASE_URL", "")
    out = OUT / f"daily_db-{tag}"
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("ARREARS_DATA_DIR", str(out))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arrears.project.settings")
    postgres = url.startswith("postgres")
    if postgres:
        run_name, params = _postgres(url)
        seed_name = f"{run_name}_seed_{tag.replace('.', '').replace('-', '_')}"[:63]
        seeded = not options.reseed and pgdb.exists(params, seed_name)
        if not seeded:
            pgdb.recreate_named(params, seed_name)
        os.environ["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + seed_name
    else:
        seed_file, run_file = out / "seed.sqlite3", out / "run.sqlite3"
        seeded = not options.reseed and seed_file.exists()
        if not seeded:
            seed_file.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{seed_file}"
    import django

    django.setup()
    line = "seed reused"
    if not seeded:
        from django.core.management import call_command

        started = time.perf_counter()
        call_command("migrate", "--no-input", verbosity=0)
        migrated = time.perf_counter() - started
        counts = seed(options)
        from django.db import connection

        with connection.cursor() as cursor:  # the statistics a live database keeps (autovacuum)
            cursor.execute("ANALYZE")
        seconds = time.perf_counter() - started - migrated
        rows = " ".join(f"{k}={v}" for k, v in counts.items())
        line = f"seeded {rows} in {seconds:.1f}s (migrate {migrated:.1f}s)"
    from django.db import connections

    connections["default"].close()
    if postgres:
        pgdb.recreate_named(params, run_name, template=seed_name)
        _point_django_at(run_name)
    else:
        if not seeded:
            with sqlite3.connect(seed_file) as db:
                db.execute("pragma wal_checkpoint(truncate)")
        shutil.copyfile(seed_file, run_file)
        _point_django_at(str(run_file))
    if seeded:  # a seed made by older code: its copy brought up to this code's migrations
        from django.core.management import call_command

        call_command("migrate", "--no-input", verbosity=0)
    return line


# --- timing ---------------------------------------------------------------------------------


class Clock:
    """Seconds per stage of one close_day, gathered by wrapping the functions that do them."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    def wrap(self, stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(stage, time.perf_counter() - started)

        return timed


@contextmanager
def instrumented(clock: Clock, profiler: cProfile.Profile | None) -> Iterator[None]:
    """Time the ledger's engine (its chunk computation; the rest of it is the read) and store,
    and each dayflow step, for one close_day."""
    from arrears.collections import dayflow
    from arrears.daily import engines, services

    saved_chunk, saved_replace = engines.chunk_states, services.replace_day
    saved_engines, saved_steps = dict(services.ENGINES), dict(dayflow._STEPS)
    engines.chunk_states = clock.wrap("compute", saved_chunk)
    services.replace_day = clock.wrap("store", saved_replace)
    for name, fn in saved_engines.items():
        services.ENGINES[name] = clock.wrap("engine", fn)
    for name, registered in saved_steps.items():
        step = clock.wrap(name, registered.step)
        if profiler is not None:
            step = _profiled(profiler, step)
        dayflow._STEPS[name] = dayflow.Registered(name, registered.order, step)
    try:
        yield
    finally:
        engines.chunk_states, services.replace_day = saved_chunk, saved_replace
        services.ENGINES.update(saved_engines)
        dayflow._STEPS.update(saved_steps)


def _profiled(profiler: cProfile.Profile, fn: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        profiler.enable()
        try:
            return fn(*args, **kwargs)
        finally:
            profiler.disable()

    return run


def close(label: str, as_of: date, profile: int) -> tuple[float, int]:
    """Close ``as_of`` once, printing its stage lines; returns (seconds, loans)."""
    from arrears.collections import dayflow

    clock = Clock()
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    with instrumented(clock, profiler):
        closed = dayflow.close_day(as_of)
    wall = time.perf_counter() - started
    loans = closed.ledger.loans
    seconds = clock.seconds
    ledger = closed.ledger.seconds
    stages: list[tuple[str, float]] = [
        # the engine reads the ledger (``ledger.frames``) between the chunks it computes
        ("read", seconds.get("engine", 0.0) - seconds.get("compute", 0.0)),
        ("compute", seconds.get("compute", 0.0)),
        ("store", seconds.get("store", 0.0)),
        ("ledger", ledger),
    ]
    stages += [(step.name, seconds.get(step.name, 0.0)) for step in dayflow.steps()]
    for stage, spent in stages:
        rate = loans / spent if spent > 0 else float("inf")
        print(f"{label} {stage:<16} {spent:8.2f}s {rate:>12,.0f} loans/s")
    print(f"{label} {'total':<16} {wall:8.2f}s {loans / wall:>12,.0f} loans/s")
    for line in closed.steps:
        print(f"{label}   | {line}")
    if profiler is not None:
        for order in ("tottime", "cumulative"):
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats(order).print_stats(profile)
            print(f"{label} profile by {order}:")
            print("\n".join(text.getvalue().splitlines()[6:]))
    return wall, loans


def main() -> None:
    options = _options()
    print(prepare(options), flush=True)
    from django.db import connection

    database = connection.vendor
    first, loans = close("first", options.as_of, options.profile)
    rerun, _ = close("rerun", options.as_of, options.profile)
    rss_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(
        f"database={database} borrowers={options.borrowers} loans={loans} "
        f"instalments={options.instalments} unpaid={options.unpaid} first_s={first:.2f} "
        f"rerun_s={rerun:.2f} rerun_share={rerun / first:.2f} peak_rss_gib={rss_gib:.2f}"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
