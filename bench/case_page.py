"""Benchmark: one request to the case page (``arrears.web.workbench.case_detail``).

Run (SQLite, the default): ``PYTHONPATH=src:. .venv/bin/python bench/case_page.py``; on
PostgreSQL set ``DATABASE_URL=postgresql://postgres@127.0.0.1:5432/NAME`` (the bench owns that
database: it seeds it when it holds no demo of ``--as-of`` yet, and ``--reseed`` drops and
creates it again). On SQLite the database is ``bench/out/case_page-N/arrears.sqlite3``, seeded
once per ``--borrowers`` (``--reseed`` seeds it afresh).

The book is the demo's (``arrears demo --borrowers N --as-of DAY``, about a minute for 200
borrowers on SQLite): a portfolio run through the day, with the demo's long-overdue borrowers
taken to the field-visit stage through a seeded history of failed calls and broken promises,
visits in every state, letters, placements. The bench opens the open case with the longest
history (contacts, then events; ``--case`` picks another) as its collector, with the clock
frozen at 15:00 of the demo's day in Asia/Shanghai (calling hours, so the gate's answer is the
same on every run), and times in-process requests through Django's test client (middleware,
session, rendering included; no HTTP):

* ``get``: ``GET /cases/<id>/``, the page as a collector opens it;
* ``refused``: a promise above what the borrower owes, ``POST``-ed to the page: the service
  refuses it and the page is rendered again with status 400, the reason and the typed input
  (nothing is written).

Each kind runs ``--warmup`` times untimed (first-request imports, template loading), then
``--repeat`` times; the bench prints the median and the best CPU milliseconds of this process
per request (``time.process_time``: the PostgreSQL server's own CPU is not in it), the median
wall milliseconds and the number of SQL queries of one request. ``--profile KIND`` runs that
kind's timed requests under cProfile and prints the 40 costliest functions (cumulative).
Figures are in ``docs/architecture.md`` (the case page).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import time
from datetime import date, datetime
from io import StringIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pgdb  # bench/pgdb.py: the scripts run from bench/, which is on sys.path

OUT = Path(__file__).resolve().parent / "out"


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--borrowers", type=int, default=200, help="the demo's book size")
    parser.add_argument("--as-of", default="2026-12-02", help="the demo's business date")
    parser.add_argument("--case", type=int, default=0, help="case id (default: richest open)")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--language", default="zh-hans", help="Accept-Language of the reader")
    parser.add_argument("--profile", default="", choices=["", "get", "refused"])
    parser.add_argument("--reseed", action="store_true", help="seed the database afresh")
    return parser.parse_args()


def _database(options: argparse.Namespace) -> Path:
    """Point ``DATABASE_URL`` at the bench's database (dropped first with ``--reseed``);
    returns the data directory (the demo writes its files there)."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        out = OUT / "case_page-pg"
        if options.reseed:
            pgdb.recreate(url)
    else:
        out = OUT / f"case_page-{options.borrowers}"
        path = out / "arrears.sqlite3"
        if options.reseed:
            path.unlink(missing_ok=True)
        out.mkdir(parents=True, exist_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    out.mkdir(parents=True, exist_ok=True)
    return out


def _seed(options: argparse.Namespace, day: date) -> None:
    """Migrate, then the demo as of ``day`` unless the database already holds it."""
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", "--no-input", verbosity=0)
    from arrears.collections.models import Case
    from arrears.daily.models import DayRun

    if DayRun.objects.filter(as_of=day).exists() and Case.objects.exists():
        return
    if connection.vendor == "postgresql" and Case.objects.exists():
        raise SystemExit("the database holds another book: run with --reseed")
    started = time.perf_counter()
    call_command(
        "demo",
        "--borrowers",
        str(options.borrowers),
        "--as-of",
        day.isoformat(),
        stdout=StringIO(),
        stderr=StringIO(),
    )
    print(
        f"seeded the demo ({options.borrowers} borrowers) in {time.perf_counter() - started:.0f} s"
    )


def _pick(options: argparse.Namespace) -> Any:
    """The case to open: ``--case``, or the open case with the most contacts, then events."""
    from django.db.models import Count

    from arrears.collections.models import Case

    cases = Case.objects.filter(closed_on__isnull=True, collector__isnull=False)
    if options.case:
        return cases.get(pk=options.case)
    return (
        cases.annotate(
            n_contacts=Count("contacts", distinct=True), n_events=Count("events", distinct=True)
        )
        .order_by("-n_contacts", "-n_events", "pk")
        .select_related("collector__user")
        .first()
    )


def _requests(case: Any, options: argparse.Namespace) -> dict[str, Any]:
    """kind -> a function making one request (asserting its status)."""
    from django.test import Client

    from arrears.collections.services import owed_on
    from arrears.collections.workflow import business_date

    client = Client(HTTP_HOST="127.0.0.1", HTTP_ACCEPT_LANGUAGE=options.language)
    client.force_login(case.collector.user)
    address = f"/cases/{case.pk}/"
    owed = owed_on(case, business_date())
    above = owed + 100  # one major unit above what is owed: the service refuses it
    refused = {
        "action": "promise",
        "promise-amount": f"{above // 100}.{above % 100:02d}",
        "promise-due_date": business_date().isoformat(),
        "promise-tolerance": "",
    }

    def get() -> Any:
        response = client.get(address)
        assert response.status_code == 200, response.status_code
        return response

    def post() -> Any:
        response = client.post(address, refused)
        assert response.status_code == 400, response.status_code
        return response

    return {"get": get, "refused": post}


def _measure(kind: str, call: Any, options: argparse.Namespace) -> str:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(options.warmup):
        call()
    with CaptureQueriesContext(connection) as captured:
        call()
    queries = len(captured.captured_queries)
    profile = cProfile.Profile() if options.profile == kind else None
    cpu: list[float] = []
    wall: list[float] = []
    for _ in range(options.repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        if profile:
            profile.enable()
        call()
        if profile:
            profile.disable()
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
    if profile:
        stats = pstats.Stats(profile)
        stats.sort_stats("cumulative").print_stats(40)
    return (
        f"{kind}: cpu_ms median={statistics.median(cpu):.1f} best={min(cpu):.1f} "
        f"wall_ms median={statistics.median(wall):.1f} queries={queries}"
    )


def main() -> None:
    options = _options()
    day = date.fromisoformat(options.as_of)
    out = _database(options)
    os.environ.setdefault("ARREARS_DATA_DIR", str(out))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arrears.project.settings")
    import django
    import time_machine

    # the demo's day at 15:00 in the lender's zone: seeded and opened in calling hours
    now = datetime(day.year, day.month, day.day, 15, tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(now, tick=True):
        django.setup()
        import logging

        from django.conf import settings

        # as under the test runner and in production (ARREARS_DEBUG=0): no debug cursors, no
        # template reload checks; set before the first request builds the template engines
        settings.DEBUG = False

        logging.getLogger("django.request").setLevel(logging.ERROR)  # the refusals' 400s
        from django.db import connection

        _seed(options, day)
        case = _pick(options)
        calls = _requests(case, options)
        print(
            f"database={connection.vendor} borrowers={options.borrowers} case={case.pk} "
            f"stage={case.stage} user={case.collector.user.username} "
            f"contacts={case.contacts.count()} events={case.events.count()} "
            f"repeat={options.repeat} load={os.getloadavg()[0]:.2f}"
        )
        for kind, call in calls.items():
            print(_measure(kind, call, options))


if __name__ == "__main__":
    main()
