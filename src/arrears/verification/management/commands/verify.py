"""``arrears verify CODE [--at ISO] [--json]``: is a document's verification code genuine?"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from arrears.commands import OFFLINE_CHECKS
from arrears.verification.services import verify


class Command(BaseCommand):
    requires_system_checks = OFFLINE_CHECKS  # not the URL checks: a command serves no page
    help = "Check a verification code from a letter, a visitor's authorisation or a message."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="the code as printed (spaces and hyphens are ignored)")
        parser.add_argument("--at", help="check as of this ISO instant (default: now)")
        parser.add_argument("--json", action="store_true", help="print the answer as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        at = timezone.now()
        if options["at"]:
            try:
                at = datetime.fromisoformat(options["at"])
            except ValueError as error:
                raise CommandError(f"--at: {options['at']!r} is not an ISO date-time") from error
            if timezone.is_naive(at):
                at = timezone.make_aware(at)
        answer = verify(options["code"], at)
        if options["json"]:
            self.stdout.write(json.dumps(answer.as_dict(), ensure_ascii=False, indent=2))
            return
        verdict = "GENUINE" if answer.genuine else "NOT GENUINE"
        self.stdout.write(f"{verdict} ({answer.status}) as of {answer.checked_at}")
        if answer.kind:
            self.stdout.write(f"  document:   {answer.kind}")
            self.stdout.write(f"  authorises: {answer.authorises_en}")
            self.stdout.write(f"  holder:     {answer.holder}")
            self.stdout.write(f"  issued by:  {answer.issuer_name} ({answer.issuer_kind})")
            self.stdout.write(f"  valid:      {answer.valid_from} to {answer.valid_to}")
            if answer.revoked:
                self.stdout.write(f"  revoked:    {answer.revoked_at}")
        channels = answer.official_repayment_channels or {}
        if channels.get("en"):
            self.stdout.write(f"  pay only through: {channels['en']}")
