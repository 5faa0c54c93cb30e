from __future__ import annotations

import os
import time
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

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

    def handle(self, *args: Any, **options: Any) -> None:
        from arrears.channels import from_env

        channels = from_env(os.environ)
        me = worker_id()
        lease = timedelta(seconds=options["lease"])
        while True:
            summary = dispatch_once(channels, batch=options["batch"], lease=lease, worker=me)
            if summary.claimed or summary.recovered or summary.uncertain:
                self.stdout.write(summary.line())
            if options["once"]:
                if summary.claimed < options["batch"]:
                    return
                continue
            if not summary.claimed:
                time.sleep(options["sleep"])
