from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from arrears.commands import OFFLINE_CHECKS
from arrears.policy.cli import run


class Command(BaseCommand):
    requires_system_checks = OFFLINE_CHECKS  # not the URL checks: a command serves no page
    help = (
        "Ask the compliance gate about a contact: `policy check --pack cn --request R.json "
        "[--history H.json] --now 2026-11-29T21:59:00+08:00` prints the decision as JSON "
        "(`policy check --help` documents the request and history files with a full example; "
        "a malformed file lists every bad field at once); `policy packs` lists the packs; "
        "`policy validate FILE.yaml` checks one."
    )

    def run_from_argv(self, argv: list[str]) -> None:
        """Hand everything after ``policy`` to the pure CLI (it has its own parser)."""
        sys.exit(run(argv[2:]))

    def handle(self, *args: Any, **options: Any) -> None:  # pragma: no cover - see above
        sys.exit(run(list(args)))
