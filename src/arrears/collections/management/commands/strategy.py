from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from arrears.collections import strategies
from arrears.collections.models import StrategyVersion
from arrears.commands import OFFLINE_CHECKS
from arrears.strategy.loader import read_strategy_file
from arrears.strategy.model import StrategyError


class Command(BaseCommand):
    requires_system_checks = OFFLINE_CHECKS  # not the URL checks: a command serves no page
    help = (
        "Publish, list or show collection strategies. `strategy publish FILE` validates the YAML "
        "and makes it active from the next run; a bad file is refused and the active one stays."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        publish = sub.add_parser("publish", help="validate FILE and make it the active strategy")
        publish.add_argument("file")
        publish.add_argument("--note", default="")
        sub.add_parser(
            "list",
            help="every published version, the active one marked (times in ARREARS_TIME_ZONE)",
        )
        sub.add_parser("show", help="print the active strategy's YAML")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "publish":
            path = Path(options["file"])
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            try:
                record = strategies.publish(
                    read_strategy_file(path), source_name=path.name, note=options["note"]
                )
            except StrategyError as error:
                active = StrategyVersion.objects.filter(active=True).first()
                kept = f"; the active strategy stays {active}" if active else ""
                raise CommandError(f"{error}{kept}") from None
            self.stdout.write(f"active: {record} (sha256 {record.sha256[:12]})")
        elif action == "list":
            strategies.active()
            for record in StrategyVersion.objects.order_by("name", "version"):
                mark = "*" if record.active else " "
                # the lender's clock, as the pages show it (stored in UTC)
                published = timezone.localtime(record.published_at)
                self.stdout.write(
                    f"{mark} {record} published {published:%Y-%m-%d %H:%M} {settings.TIME_ZONE} "
                    f"sha256 {record.sha256[:12]} {record.note}"
                )
        else:
            record, _ = strategies.active()
            self.stdout.write(record.source)
