from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from arrears.commands import OFFLINE_CHECKS
from arrears.kernel.calendar import parse_date
from arrears.kernel.errors import ArrearsError
from arrears.kernel.explain import explain, render_text
from arrears.kernel.limits import COMPUTE_FAILURES, not_computable
from arrears.ledger import selectors
from arrears.ledger.models import Loan


class Command(BaseCommand):
    requires_system_checks = OFFLINE_CHECKS  # not the URL checks: a command serves no page
    help = "Itemise a loan's state on a date: per instalment, and every penalty period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("loan_ref")
        parser.add_argument("--as-of", help="YYYY-MM-DD (default: today)")
        parser.add_argument("--json", action="store_true", help="print JSON instead of text")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            loan = Loan.objects.select_related("product").get(ref=options["loan_ref"])
        except Loan.DoesNotExist:
            raise CommandError(f"unknown loan {options['loan_ref']!r}") from None
        try:
            as_of = (
                parse_date(options["as_of"], field_name="--as-of")
                if options["as_of"]
                else timezone.localdate()
            )
            data = explain(*selectors.loan_state(loan, as_of))
        except (ArrearsError, *COMPUTE_FAILURES) as error:
            raise CommandError(str(not_computable(error))) from None
        if options["json"]:
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            self.stdout.write(render_text(data))
