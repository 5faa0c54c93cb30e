from __future__ import annotations

import sys
from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from arrears.daily.services import day_run
from arrears.kernel.calendar import parse_date
from arrears.kernel.errors import InvalidDate


class Command(BaseCommand):
    help = "Compute and store every loan's state as of a date (or each date of a range)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", help="the business date (YYYY-MM-DD)")
        parser.add_argument("--from", dest="date_from", help="first date of a catch-up range")
        parser.add_argument("--to", dest="date_to", help="last date of a catch-up range")
        parser.add_argument(
            "--engine",
            choices=["polars", "reference"],
            default="polars",
            help="polars: the compiled vectorised engine (default); reference: the kernel loop",
        )

    def handle(self, *args: Any, **options: Any) -> None:
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
        show = sys.stderr.isatty()
        day = first
        while day <= last:

            def progress(done: int, total: int, day: date = day) -> None:
                if show and (done % 500 == 0 or done == total):
                    sys.stderr.write(f"\r{day}: {done}/{total} loans")
                    sys.stderr.flush()

            summary = day_run(as_of=day, engine=options["engine"], progress=progress)
            if show:
                sys.stderr.write("\n")
            self.stdout.write(summary.line())
            day += timedelta(days=1)
