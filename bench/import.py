"""Benchmark: ``arrears import`` of a loans file and a payments file, and refusing a bad last row.

Run (SQLite, the default): ``PYTHONPATH=src:. .venv/bin/python bench/import.py --rows
100000``; on PostgreSQL set ``DATABASE_URL=postgresql://postgres@127.0.0.1:5432/NAME`` (the
bench owns that database: it is dropped and created again). On SQLite the database is
``bench/out/import.sqlite3``, created afresh each run.

It writes ``--rows`` loans (one borrower each, 12 monthly instalments) and one payment per loan
as CSV under ``bench/out/import/``, then runs each stage in a fresh process and prints one line
per stage with seconds, rows per second, the process's CPU seconds (the database server's
are not in it: on PostgreSQL it runs in its own processes, so its backend's CPU seconds are
printed apart when the server runs on this machine) and its peak RSS (so each figure is the
stage's own, Django and the libraries included): the loans file with its last row broken (which
must be refused without writing anything), the loans file, the payments file. The machine's
load average is printed before and after. ``--profile STAGE`` runs that stage under cProfile
and prints its 30 costliest functions. The issue's goal is ≥ 20 000 rows/s with memory
proportional to a chunk. The stages run with ``DEBUG`` off, as in production (``ARREARS_DEBUG=0``).
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pgdb  # bench/pgdb.py: the scripts run from bench/, which is on sys.path

OUT = Path(__file__).resolve().parent / "out"


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="loans (and payments)")
    parser.add_argument(
        "--stages",
        default="bad-last,loans,payments",
        help="comma-separated, in order: bad-last (refuse the file with a bad last row), "
        "loans, payments (needs loans first)",
    )
    parser.add_argument("--profile", default="", help="run this stage under cProfile")
    parser.add_argument("--run-stage", default="", help=argparse.SUPPRESS)  # the child process
    return parser.parse_args()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ric(n: int) -> str:
    from stdnum.cn import ric

    body = f"110101{date(1960, 1, 1) + timedelta(days=n % 15000):%Y%m%d}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def write_files(rows: int, directory: Path) -> tuple[Path, Path, Path]:
    """``loans.csv``, ``payments.csv`` and ``loans_bad_last.csv`` (the last row's principal
    above the limit) with ``rows`` rows each."""
    from arrears.ledger.importers import LOAN_COLUMNS, LOAN_OPTIONAL, PAYMENT_COLUMNS

    directory.mkdir(parents=True, exist_ok=True)
    loans, payments, bad = (directory / n for n in ("loans.csv", "payments.csv", "bad.csv"))
    header = [*LOAN_COLUMNS, *LOAN_OPTIONAL]
    with loans.open("w", newline="") as lf, bad.open("w", newline="") as bf:
        good_writer, bad_writer = csv.writer(lf), csv.writer(bf)
        good_writer.writerow(header)
        bad_writer.writerow(header)
        for n in range(rows):
            start = date(2025, 1, 1) + timedelta(days=n % 300)
            row = [
                f"L{n:08d}", f"B{n:08d}", f"借款人{n}", "cn_ric", _ric(n),
                f"138{n:08d}", "Asia/Shanghai", "zh-hans", "PL", "1", "CNY",
                f"{1000 + n % 50000}.00", "daily", "0.0005", "12", "equal-instalment",
                start.isoformat(), "", "", "",
            ]  # fmt: skip
            good_writer.writerow(row)
            if n == rows - 1:
                row[11] = "92233720368547758.07"
            bad_writer.writerow(row)
    with payments.open("w", newline="") as pf:
        writer = csv.writer(pf)
        writer.writerow(PAYMENT_COLUMNS)
        for n in range(rows):
            value_date = date(2025, 2, 1) + timedelta(days=n % 300)
            writer.writerow([f"P{n:08d}", f"L{n:08d}", value_date.isoformat(), "100.00", "CNY"])
    return loans, payments, bad


def _fresh_database() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        pgdb.recreate(url)
        return "postgresql"
    path = OUT / "import.sqlite3"
    OUT.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    return "sqlite"


def _server_cpu() -> float | None:
    """CPU seconds of this connection's PostgreSQL backend so far (read from ``/proc``: the
    server must run on this machine), or ``None`` (SQLite, or a server elsewhere)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


FILES = {
    "bad-last": ("loans", "bad.csv"),
    "loans": ("loans", "loans.csv"),
    "payments": ("payments", "payments.csv"),
}


def _run_stage(options: argparse.Namespace) -> None:
    """One stage, in this (fresh) process: its line, with this process's peak RSS."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arrears.project.settings")
    import django

    django.setup()
    from django.conf import settings

    # as in production (ARREARS_DEBUG=0) and under the test runner: no debug cursor, which
    # logs every query and on SQLite runs a second query per statement to quote its
    # parameters (a sixth of a payments import's CPU)
    settings.DEBUG = False
    from arrears.ledger.importers import ImportRejected, import_file

    name = options.run_stage
    kind, file_name = FILES[name]
    path = OUT / "import" / file_name
    profiler = None
    if options.profile == name:
        import cProfile

        profiler = cProfile.Profile(time.process_time)  # CPU: the machine may be shared
        profiler.enable()
    server = _server_cpu()
    started, cpu = time.perf_counter(), time.process_time()
    try:
        result = import_file(kind, path)
        outcome = f"applied {result.applied}"
    except ImportRejected as error:
        outcome = f"refused ({len(error.errors)} error: {error.errors[0]})"
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    server_after = _server_cpu() if server is not None else None
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    on_server = (
        "" if server_after is None else f", of its server backend {server_after - server:6.2f}s"
    )
    print(
        f"{name:<10} {seconds:7.2f}s {options.rows / seconds:9.0f} rows/s "
        f"(CPU of this process {cpu:6.2f}s{on_server}) peak RSS {_peak_mb():6.0f} MB  {outcome}"
    )


def main() -> None:
    options = _options()
    if options.run_stage:
        _run_stage(options)
        return
    vendor = _fresh_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arrears.project.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from arrears.ledger import services

    call_command("migrate", verbosity=0)
    services.create_product(code="PL", version=1, name="PL", effective_from=date(2020, 1, 1))
    write_files(options.rows, OUT / "import")
    print(f"{vendor}: {options.rows} rows per file, each stage in a fresh process; {_load()}")
    sys.stdout.flush()
    for name in options.stages.split(","):
        command = [sys.executable, __file__, "--rows", str(options.rows), "--run-stage", name]
        if options.profile:
            command += ["--profile", options.profile]
        subprocess.run(command, check=True, env=os.environ.copy())
    print(f"done; {_load()}")


if __name__ == "__main__":
    main()
