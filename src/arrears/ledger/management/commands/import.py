"""``arrears import loans FILE`` / ``arrears import payments FILE`` (CSV or Parquet).

Thin: parse the arguments, call :func:`arrears.ledger.importers.import_file`, print the
summary or every error. The rules (all rows or none, re-import is a no-op) live there.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from arrears.commands import OFFLINE_CHECKS
from arrears.kernel.errors import ArrearsError
from arrears.ledger.importers import IMPORT_KINDS, import_file


class Command(BaseCommand):
    requires_system_checks = OFFLINE_CHECKS  # not the URL checks: a command serves no page
    help = (
        "Import loans or payments from a .csv or .parquet file. Every row is validated first; "
        "if any row is wrong nothing is imported and every error is listed. Rows already "
        "imported with identical data are skipped."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("kind", choices=IMPORT_KINDS, help="what the file holds")
        parser.add_argument("file", help="path to a .csv or .parquet file")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = import_file(options["kind"], options["file"])
        except ArrearsError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(result.summary())
