"""``arrears audit verify [--json] [--no-seal]`` | ``seal`` | ``export --case ID --out DIR`` |
``verify-bundle DIR``.

``verify`` and ``export`` seal first (an entry whose writer died between its commit and the
seal gets its place now), so what they read is the whole committed chain."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from arrears.audit import chain, daysummary
from arrears.audit.export import export_case
from arrears.audit.models import AuditEntry
from arrears.audit.services import seal, stale_unsealed, verify_chain
from arrears.commands import OFFLINE_CHECKS


class Command(BaseCommand):
    requires_system_checks = OFFLINE_CHECKS  # not the URL checks: a command serves no page
    help = "Verify the tamper-evident audit chain, or export and verify a case's dispute bundle."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="sub", required=True)
        verify = sub.add_parser("verify", help="walk the whole chain")
        verify.add_argument("--json", action="store_true")
        verify.add_argument(
            "--no-seal", action="store_true", help="only read: do not seal pending entries first"
        )
        sub.add_parser("seal", help="give every committed unsealed entry its place in the chain")
        export = sub.add_parser("export", help="write a case's dispute bundle")
        export.add_argument("--case", type=int, required=True)
        export.add_argument("--out", required=True)
        bundle = sub.add_parser("verify-bundle", help="check an exported bundle")
        bundle.add_argument("dir")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["sub"] == "verify":
            if not options["no_seal"]:
                seal()
            self._verify(bool(options["json"]))
        elif options["sub"] == "seal":
            self.stdout.write(f"sealed {seal()} entries")
        elif options["sub"] == "export":
            seal()
            names = export_case(options["case"], Path(options["out"]))
            self.stdout.write(f"wrote {', '.join(names)} to {options['out']}")
        else:
            problems = chain.verify_bundle(options["dir"])
            for problem in problems:
                self.stdout.write(problem)
            if problems:
                sys.exit(1)
            self.stdout.write("bundle holds")

    def _verify(self, as_json: bool) -> None:
        broken = verify_chain()
        altered = daysummary.altered_days()
        count = AuditEntry.objects.filter(seq__isnull=False).count()
        stale = stale_unsealed()
        row = None
        if broken is not None:
            row = AuditEntry.objects.filter(seq=broken.seq).values_list("id", flat=True).first()
        if as_json:
            self.stdout.write(
                json.dumps(
                    {
                        "ok": broken is None and not altered,
                        "entries": count,
                        "seq": broken.seq if broken else None,
                        "id": row,
                        "why": broken.why if broken else None,
                        "unsealed_stale": stale,
                        "altered_days": altered,
                    }
                )
            )
        elif broken is None:
            self.stdout.write(f"chain holds: {count} entries")
        else:
            self.stdout.write(f"chain broken at {broken} (id {row})")
        if altered and not as_json:
            self.stdout.write(
                "automatic case events changed since their day's summary: " + ", ".join(altered)
            )
        if stale and not as_json:
            self.stderr.write(
                f"warning: {stale} entries unsealed for over a minute "
                "(their writers committed but no seal ran; `arrears audit seal` places them)"
            )
        if broken is not None or altered:
            sys.exit(1)
