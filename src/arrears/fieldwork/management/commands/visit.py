"""``arrears visit eligibility CASE --as-of DATE [--json]``: the eligibility answer for a case,
every condition with its threshold and actual value (the same service the pages use)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from arrears.collections.models import Case
from arrears.commands import OFFLINE_CHECKS
from arrears.fieldwork import eligibility
from arrears.kernel.calendar import parse_date
from arrears.kernel.errors import InvalidDate


class Command(BaseCommand):
    requires_system_checks = OFFLINE_CHECKS  # not the URL checks: a command serves no page
    help = "Field visits. `visit eligibility CASE --as-of DATE [--json]`."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        elig = sub.add_parser("eligibility", help="may this case get a field visit?")
        elig.add_argument("case", type=int, help="case number")
        elig.add_argument("--as-of", dest="as_of", required=True, help="YYYY-MM-DD")
        elig.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            as_of = parse_date(options["as_of"], field_name="--as-of")
        except InvalidDate as error:
            raise CommandError(str(error)) from None
        case = Case.objects.filter(pk=options["case"]).first()
        if case is None:
            raise CommandError(f"case {options['case']} does not exist")
        answer = eligibility.check(case, as_of)
        if options["json"]:
            self.stdout.write(json.dumps({"case": case.pk, **answer.as_dict()}, ensure_ascii=False))
            return
        verdict = "eligible" if answer.eligible else "NOT eligible"
        self.stdout.write(f"case {case.pk} as of {as_of}: {verdict}")
        for c in answer.conditions:
            mark = "met" if c.met else "NOT met"
            extra = "" if c.required else " (one half of the alternative)"
            self.stdout.write(f"  {c.name}: {c.actual} {c.op} {c.threshold}: {mark}{extra}")
