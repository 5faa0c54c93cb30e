from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from arrears.collections.reports import compare_variants
from arrears.kernel.calendar import parse_date
from arrears.kernel.errors import InvalidDate


class Command(BaseCommand):
    help = "Reports. `report variants --from D --to D`: champion vs challenger outcomes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("report", choices=["variants"])
        parser.add_argument("--from", dest="first", required=True)
        parser.add_argument("--to", dest="last", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            first = parse_date(options["first"], field_name="--from")
            last = parse_date(options["last"], field_name="--to")
        except InvalidDate as error:
            raise CommandError(str(error)) from None
        header = (
            f"{'variant':<12} {'cases':>6} {'resolved':>9} {'rate':>7} {'cured':>6} "
            f"{'paid':>5} {'promises':>8} {'kept':>5} {'broken':>6} {'kept%':>7} "
            f"{'collected':>16} {'work':>6}"
        )
        self.stdout.write(header)
        for v in compare_variants(first, last):
            self.stdout.write(
                f"{v.variant:<12} {v.cases:>6} {v.resolved:>9} {v.resolution_rate:>7} "
                f"{v.cured:>6} {v.paid_off:>5} {v.promises:>8} {v.kept:>5} {v.broken:>6} "
                f"{v.kept_rate:>7} {v.collected_text():>16} {v.work_items:>6}"
            )
