from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from arrears import errorcodes
from arrears.commands import OFFLINE_CHECKS
from arrears.contact.dispatch import DEFAULT_LEASE, DispatchSummary, dispatch_once, worker_id
from arrears.kernel.errors import ArrearsError

errorcodes.define(
    {
        "dispatch-now-not-iso": "--now: %(value)s is not an ISO date-time",
        "dispatch-now-no-offset": (
            "--now: %(value)s has no UTC offset; give one, e.g. 2026-11-29T10:00:00+08:00"
        ),
    }
)


class DispatchUsageError(ArrearsError):
    """The dispatcher was started with an argument it cannot use."""

    code = "dispatch-usage"


def _refuse(code: str, **params: object) -> CommandError:
    return CommandError(str(errorcodes.refuse(DispatchUsageError, code, **params)))


class Command(BaseCommand):
    requires_system_checks = OFFLINE_CHECKS  # not the URL checks: a command serves no page
    help = (
        "Send queued outbox messages: expire those past their validity, re-check what is owed "
        "and the compliance gate just before each one, send through its channel, record the "
        "outcome. Runs until stopped, or once with --once (which always prints one summary "
        "line). Several dispatchers may run at the same time."
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
                raise _refuse("dispatch-now-not-iso", value=repr(options["now"])) from None
            if fixed.tzinfo is None:
                raise _refuse("dispatch-now-no-offset", value=repr(options["now"]))
            clock = lambda: fixed  # noqa: E731
        total = DispatchSummary()
        while True:
            summary = dispatch_once(
                channels, now=clock, batch=options["batch"], lease=lease, worker=me
            )
            if options["once"]:
                total.add(summary)
                if summary.claimed < options["batch"]:
                    self.stdout.write(total.line())  # always one line, "0 due; …" included
                    return
                continue
            if summary.claimed or summary.recovered or summary.uncertain or summary.expired:
                self.stdout.write(summary.line())
            if not summary.claimed:
                time.sleep(options["sleep"])
