"""Benchmark: audit appends per second, the chain's lock in the writer's transaction (before)
against sealing after the commit (after), one writer and four.

Run (PostgreSQL; SQLite serialises writers anyway):
``DATABASE_URL=postgresql://…/bench_audit .venv/bin/python bench/audit_chain.py``.

Each writer runs ``--txns`` transactions; a transaction records one entry and then does
``--work-ms`` of other work before it commits (``pg_sleep``: the rest of a real writer's
transaction — the change itself, a re-evaluation — during which the old design kept the lock).
*before* reproduces the old design: the entry is sealed inside the writer's transaction, so the
advisory lock is held until that transaction commits. *after* is ``services.record`` as it is:
no lock in the writer's transaction, a short sealer transaction after the commit.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections.abc import Callable


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--txns", type=int, default=300, help="transactions per writer")
    parser.add_argument("--work-ms", type=float, nargs="+", default=[0.0, 2.0])
    parser.add_argument(
        "--async-commit",
        action="store_true",
        help="synchronous_commit off: take the disk's fsync out, leave the lock's effect",
    )
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arrears.project.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from arrears.audit import services

    if connection.vendor != "postgresql":
        raise SystemExit("run on PostgreSQL: DATABASE_URL=postgresql://…")
    if args.async_commit:
        from django.db.backends.signals import connection_created

        def no_fsync(sender: object, connection: object, **kwargs: object) -> None:
            with connection.cursor() as cursor:  # type: ignore[attr-defined]
                cursor.execute("SET synchronous_commit TO off")

        connection_created.connect(no_fsync, weak=False)
    call_command("migrate", "--no-input", verbosity=0)

    def work(ms: float) -> None:
        if ms:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(%s)", [ms / 1000])

    def before(n: int, ms: float) -> None:
        with transaction.atomic():
            services.record("bench.before", subject_type="bench", subject_id=n)
            services.seal()  # the lock is now held until this transaction commits
            work(ms)

    def after(n: int, ms: float) -> None:
        with transaction.atomic():
            services.record("bench.after", subject_type="bench", subject_id=n)
            work(ms)

    def rate(append: Callable[[int, float], None], threads: int, ms: float) -> float:
        def writer(offset: int) -> None:
            try:
                for i in range(args.txns):
                    append(offset + i, ms)
            finally:
                connection.close()

        pool = [threading.Thread(target=writer, args=(t * args.txns,)) for t in range(threads)]
        started = time.perf_counter()
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        return threads * args.txns / (time.perf_counter() - started)

    for ms in args.work_ms:
        for threads in (1, 4):
            old = rate(before, threads, ms)
            new = rate(after, threads, ms)
            print(
                f"work={ms:g}ms threads={threads}: before {old:,.0f} appends/s, "
                f"after {new:,.0f} appends/s ({new / old:.1f}x)"
            )
    broken = services.verify_chain()
    print(f"chain after the run: {'holds' if broken is None else broken}")


if __name__ == "__main__":
    main()
