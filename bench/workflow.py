"""Benchmark: the collections workflow on a database (SQLite by default, or DATABASE_URL).

Run: ``.venv/bin/python bench/workflow.py --borrowers 20000``. Seeds a demo portfolio into a
fresh database under ``bench/out/workflow-N`` (once), then times one day of the ledger run and
the workflow (cases, stages, work items, allocation, outbox), then the same day again (which
must create nothing), and prints one line of figures.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import date, timedelta
from io import StringIO
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--borrowers", type=int, default=20_000)
    parser.add_argument("--as-of", default="2026-11-29")
    args = parser.parse_args()
    out = Path(__file__).parent / "out" / f"workflow-{args.borrowers}"
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("ARREARS_DATA_DIR", str(out))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{out / 'arrears.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arrears.project.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from arrears.collections.models import Case, WorkItem
    from arrears.collections.workflow import evaluate_day
    from arrears.contact.outbox import enqueue_due
    from arrears.daily.services import day_run

    seeded = date.fromisoformat(args.as_of)
    call_command("migrate", "--no-input", verbosity=0)
    started = time.perf_counter()
    call_command(
        "demo", "--borrowers", str(args.borrowers), "--as-of", str(seeded), stdout=StringIO()
    )
    seed_s = time.perf_counter() - started
    day = seeded + timedelta(days=1)
    figures = []
    for label in ("first", "rerun"):
        t0 = time.perf_counter()
        ledger = day_run(as_of=day)
        t1 = time.perf_counter()
        flow = evaluate_day(day)
        t2 = time.perf_counter()
        queued = enqueue_due(day)
        t3 = time.perf_counter()
        figures.append(
            f"{label}: ledger_s={t1 - t0:.2f} workflow_s={t2 - t1:.2f} outbox_s={t3 - t2:.2f} "
            f"work={flow.work_created} queued={queued}"
        )
    print(
        f"borrowers={args.borrowers} loans={ledger.loans} open_cases="
        f"{Case.objects.filter(closed_on__isnull=True).count()} work_items="
        f"{WorkItem.objects.count()} seed_s={seed_s:.1f} | " + " | ".join(figures)
    )


if __name__ == "__main__":
    main()
