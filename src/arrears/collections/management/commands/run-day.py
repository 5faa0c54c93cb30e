"""``arrears run-day``: close a business day (or each day of a range) with
:func:`arrears.collections.dayflow.close_day`, or run the engine alone on a Parquet snapshot.

The command lives in ``collections``, not ``daily``, because closing a day reaches past the
ledger state (the workflow, the apps' steps, the outbox) and ``daily`` imports no app above it.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connection
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from arrears.collections.dayflow import close_day
from arrears.commands import OFFLINE_CHECKS
from arrears.daily.services import DayRunBusy
from arrears.engine import names
from arrears.kernel.calendar import parse_date
from arrears.kernel.errors import ArrearsError, InvalidDate


def database_lost(day: date, error: Exception) -> str:
    """The one line ``run-day`` prints when the database fails mid-run (``--traceback`` for
    the rest). Each part of closing a day commits whole or not at all, so what did not commit
    was rolled back, and running the day again completes it."""
    text = str(error).strip()
    first = text.splitlines()[0][:300] if text else type(error).__name__
    return (
        f"{day}: the database failed during the run ({type(error).__name__}: {first}); "
        f"what the run had not committed was rolled back — run {day} again to complete it"
    )


class Command(BaseCommand):
    requires_system_checks = OFFLINE_CHECKS  # not the URL checks: a command serves no page
    help = (
        "Compute and store every loan's state as of a date (or each date of a range), then run "
        "the collections workflow: cases, the active strategy's stages and the day's work items."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", help="the business date (YYYY-MM-DD)")
        parser.add_argument("--from", dest="date_from", help="first date of a catch-up range")
        parser.add_argument("--to", dest="date_to", help="last date of a catch-up range")
        parser.add_argument(
            "--engine",
            choices=[*names.ENGINES, "spark", *names.ALIASES],
            default=names.COMPILED,
            help="compiled: the Numba-compiled replay (default); reference: the kernel loop; "
            "spark: the compiled replay per partition on a Spark cluster (needs --snapshot); "
            "polars: the old name of compiled (deprecated)",
        )
        parser.add_argument(
            "--snapshot",
            help="run on a Parquet snapshot directory (no database); with --engine spark also "
            "a URI Spark reads (s3a://, hdfs://)",
        )
        parser.add_argument(
            "--out",
            help="with --snapshot: where to write loan_state.parquet; with --engine spark a "
            "directory or URI (s3a://, hdfs://) the executors write partitioned Parquet to, "
            "replaced on a rerun",
        )
        parser.add_argument(
            "--chunk-loans",
            type=int,
            default=None,
            help="loans per chunk (--snapshot; default: engine.runner.CHUNK_LOANS)",
        )
        parser.add_argument(
            "--master",
            "--spark-master",
            dest="spark_master",
            default="local[2]",
            help="with --engine spark: the master URL (local[2], spark://host:7077, yarn, k8s://…)",
        )
        parser.add_argument(
            "--partitions",
            type=int,
            default=None,
            help="with --engine spark: partitions of loans (default: spark.sql.shuffle.partitions)",
        )
        parser.add_argument(
            "--full",
            action="store_true",
            help="recompute every loan's state, even on a rerun of a day that already ran "
            "(a rerun otherwise recomputes only the loans whose ledger rows changed since); "
            "also ARREARS_FULL_DAY_RUN=1",
        )
        parser.add_argument(
            "--no-workflow",
            action="store_true",
            help="only the ledger state: skip cases, the strategy and work items",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        notice = names.deprecation(options["engine"])
        if notice is not None:
            self.stderr.write(f"arrears run-day: {notice}")
            options["engine"] = names.canonical(options["engine"])
        try:
            if options["as_of"]:
                first = last = parse_date(options["as_of"], field_name="--as-of")
            elif options["date_from"] and options["date_to"]:
                first = parse_date(options["date_from"], field_name="--from")
                last = parse_date(options["date_to"], field_name="--to")
            else:
                raise CommandError("give --as-of DATE, or --from DATE --to DATE")
        except InvalidDate as error:
            raise CommandError(str(error)) from None
        if last < first:
            raise CommandError(f"--to {last} is before --from {first}")
        if options["snapshot"] or options["out"]:
            self._snapshot_days(first, last, options)
            return
        if options["engine"] == "spark":
            raise CommandError("--engine spark runs on a snapshot: give --snapshot DIR --out DIR")
        day = first
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=not sys.stderr.isatty(),
            transient=True,
        ) as bar:
            while day <= last:
                task = bar.add_task(f"{day} loans", total=None)

                def progress(done: int, total: int, task: TaskID = task) -> None:
                    bar.update(task, completed=done, total=total)

                try:
                    closed = close_day(
                        day,
                        engine=options["engine"],
                        progress=progress,
                        workflow=not options["no_workflow"],
                        full=options["full"],
                    )
                except DayRunBusy as error:  # another process is running this date
                    raise CommandError(str(error)) from None
                except (DatabaseError, connection.Database.Error) as error:
                    # the database went away mid-run (the driver's own errors too: COPY reads)
                    raise CommandError(database_lost(day, error)) from error
                bar.remove_task(task)
                for line in closed.lines():
                    self.stdout.write(line)
                day += timedelta(days=1)

    def _snapshot_days(self, first: date, last: date, options: dict[str, Any]) -> None:
        if not (options["snapshot"] and options["out"]):
            raise CommandError("--snapshot and --out go together")
        if options["engine"] == "spark":
            self._spark_days(first, last, options)
            return
        # imported here: the snapshot runner brings Numba and Parquet, which closing a day on
        # the database with the reference engine never needs
        from arrears.engine.runner import CHUNK_LOANS, run_snapshot

        chunk_loans = CHUNK_LOANS if options["chunk_loans"] is None else options["chunk_loans"]
        snapshot, out = Path(options["snapshot"]), Path(options["out"])
        if not snapshot.is_dir():
            raise CommandError(f"--snapshot: {snapshot} is not a directory")
        day = first
        while day <= last:
            target = out if first == last else out / day.isoformat()
            try:
                stats = run_snapshot(
                    snapshot,
                    target,
                    day,
                    chunk_loans=chunk_loans,
                    engine=options["engine"],
                )
                self.stdout.write(stats.line(day))
            except (FileNotFoundError, ArrearsError) as error:
                raise CommandError(str(error)) from None
            day += timedelta(days=1)

    def _spark_days(self, first: date, last: date, options: dict[str, Any]) -> None:
        """The snapshot run on Spark: ``--snapshot`` and ``--out`` may be URIs (kept as text,
        which ``Path`` would fold), read and written by the executors."""
        from arrears.engine.spark import is_local, local_path, location, run_snapshot_spark

        snapshot, out = location(options["snapshot"]), location(options["out"])
        if is_local(snapshot) and not local_path(snapshot).is_dir():
            raise CommandError(f"--snapshot: {options['snapshot']} is not a directory")
        day = first
        while day <= last:
            target = out if first == last else f"{out}/{day.isoformat()}"
            try:
                stats = run_snapshot_spark(
                    snapshot,
                    target,
                    day,
                    master=options["spark_master"],
                    partitions=options["partitions"],
                )
            except (FileNotFoundError, ArrearsError) as error:
                raise CommandError(str(error)) from None
            self.stdout.write(stats.line(day))
            day += timedelta(days=1)
