from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from arrears.contact.dispatch import DEFAULT_LEASE, dispatch_once, worker_id


class Command(BaseCommand):
    help = (
        "Send queued outbox messages: re-check payment and the compliance gate just before "
        "each one, send through its channel, record the outcome. Runs until stopped, or once "
        "with --once. Several dispatchers may run at the same time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="send what is due now, then exit")
        parser.add_argument("--batch", type=int, default=50)
        parser.add_argument(
            "--lease",
            type=float,
            default=DEFAULT_LEASE.total_seconds(),
            help="seconds a claim lasts before another dispatcher may recover it",
        )
        parser.add_argument("--sleep", type=float, default=5.0, help="idle wait between batches")
        parser.add_argument(
            "--now",
            help="act as if it were this instant (ISO with offset) — for simulations and tests",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from arrears.channels import from_env

        channels = from_env(os.environ)
        me = worker_id()
        lease = timedelta(seconds=options["lease"])
        clock = timezone.now
        if options["now"]:
            try:
                fixed = datetime.fromisoformat(options["now"])
            except ValueError:
                raise CommandError(f"--now: {options['now']!r} is not an ISO date-time") from None
            if fixed.tzinfo is None:
                raise CommandError("--now: give an offset, e.g. 2026-11-29T10:00:00+08:00")
            clock = lambda: fixed  # noqa: E731
        while True:
            summary = dispatch_once(
                channels, now=clock, batch=options["batch"], lease=lease, worker=me
            )
            if summary.claimed or summary.recovered or summary.uncertain:
                self.stdout.write(summary.line())
            if options["once"]:
                if summary.claimed < options["batch"]:
                    return
                continue
            if not summary.claimed:
                time.sleep(options["sleep"])
