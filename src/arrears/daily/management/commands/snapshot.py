"""``arrears snapshot export DIR [--force]``: write the ledger as a Parquet snapshot (the daily
run's input format, :mod:`arrears.engine.snapshot`) through the ledger's exporter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from arrears.commands import OFFLINE_CHECKS
from arrears.engine.snapshot import MANIFEST, TABLES, SnapshotError, file_name
from arrears.ledger.snapshot_export import export_snapshot


class Command(BaseCommand):
    requires_system_checks = OFFLINE_CHECKS  # not the URL checks: a command serves no page
    help = (
        "Export the portfolio as a Parquet snapshot (products, loans, instalments, payments, "
        "waivers, plans, plan instalments)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        export = actions.add_parser(
            "export",
            help="write every loan with its product, schedule, payments and concessions to DIR",
            description="Write every loan with its product, schedule, payments, waivers and "
            "repayment plans to DIR as a snapshot (format version 2): seven Parquet files and "
            "manifest.json (written last).",
        )
        export.add_argument("directory", metavar="DIR", type=Path)
        export.add_argument(
            "--force",
            action="store_true",
            help="export into a non-empty DIR, replacing a snapshot there (other files are kept)",
        )
        export.add_argument(
            "--batch-size",
            type=int,
            default=100_000,
            help="loans read and written at a time (default 100000)",
        )
        export.add_argument(
            "--exclude-adjusted",
            action="store_true",
            help="no effect (kept for one release): the snapshot format carries waivers and "
            "plans since version 2, so no loan is left out",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory: Path = options["directory"]
        if directory.exists() and not directory.is_dir():
            raise CommandError(f"{directory} is a file, not a directory")
        if directory.is_dir() and any(directory.iterdir()) and not options["force"]:
            raise CommandError(
                f"{directory} is not empty; choose an empty directory, or pass --force to "
                f"replace the snapshot files there ({', '.join(self._files())})"
            )
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be positive")
        try:
            counts = export_snapshot(
                directory,
                batch_size=options["batch_size"],
                exclude_adjusted=options["exclude_adjusted"],
            )
        except SnapshotError as error:
            raise CommandError(str(error)) from None
        summary = ", ".join(f"{counts[name]} {name}" for name in TABLES)
        self.stdout.write(f"exported {summary} to {directory}")

    @staticmethod
    def _files() -> list[str]:
        return [*(file_name(name) for name in TABLES), MANIFEST]
