"""``arrears agency list|add|placements|statement|scorecard|recall|export|import|token``: the
agency register, its placements, commission statements, scorecards, the placement and results
files and API keys, through the same services as the pages and the API."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count, Q

from arrears.agencies import access, commission, exchange, placement, register, scorecard
from arrears.agencies.models import Agency, Placement
from arrears.collections.workflow import business_date
from arrears.commands import OFFLINE_CHECKS
from arrears.formatting import format_money
from arrears.kernel.errors import ArrearsError
from arrears.kernel.money import Money

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{what}: {text[:40]!r} is not a date (YYYY-MM-DD)") from None


def _month(text: str) -> tuple[int, int]:
    found = MONTH.match(text)
    if not found or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 2000:
        raise CommandError(f"--month: {text[:40]!r} is not a month (YYYY-MM)")
    return int(found.group(1)), int(found.group(2))


def _agency(code: str) -> Agency:
    found = Agency.objects.filter(code=code[:40]).first()
    if found is None:
        raise CommandError(f"no agency {code[:40]!r} (see `arrears agency list`)")
    return found


def _money(minor: int, currency: str) -> str:
    return format_money(Money(minor, currency), "en")


class Command(BaseCommand):
    requires_system_checks = OFFLINE_CHECKS  # not the URL checks: a command serves no page
    help = (
        "External collection agencies: list, add, placements, monthly commission statement, "
        "scorecard, recall."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="every agency: licence, contract, capacity, live placements")
        add = sub.add_parser("add", help="register an agency with its commission tiers")
        add.add_argument("code", help="2-40 lowercase letters, digits, hyphens")
        add.add_argument("--name", required=True)
        add.add_argument("--name-zh", default="")
        add.add_argument("--licence", required=True, help="licence number")
        add.add_argument("--licence-valid-to", required=True, help="YYYY-MM-DD")
        add.add_argument("--contract", nargs=2, required=True, metavar=("FROM", "TO"))
        add.add_argument("--phone", required=True, help="the number borrowers are told")
        add.add_argument("--capacity", type=int, required=True, help="most live placements")
        add.add_argument("--weight", type=int, default=1, help="share in weighted allocation")
        add.add_argument(
            "--tier",
            action="append",
            default=[],
            help="BUCKET:ABOVE:BP, repeatable; e.g. :0:1000 (10%% for any bucket), M3:100000:1500",
        )
        add.add_argument(
            "--channels",
            default="call,sms",
            help="contact channels the contract permits: call,sms,email,letter,visit",
        )
        add.add_argument(
            "--parties", default="", help="besides the borrower: co_borrower,emergency"
        )
        places = sub.add_parser("placements", help="placements, newest first")
        places.add_argument("agency", nargs="?", help="only this agency")
        places.add_argument("--live", action="store_true", help="only live on --as-of")
        places.add_argument("--as-of", help="YYYY-MM-DD (default: every placement)")
        statement = sub.add_parser("statement", help="monthly commission statement")
        statement.add_argument("agency")
        statement.add_argument("--month", required=True, help="YYYY-MM")
        statement.add_argument("--json", action="store_true")
        card = sub.add_parser("scorecard", help="recovery, promises, complaints, gate, quality")
        card.add_argument("agency")
        card.add_argument("--from", dest="first", required=True, help="YYYY-MM-DD")
        card.add_argument("--to", dest="last", required=True, help="YYYY-MM-DD")
        card.add_argument("--json", action="store_true")
        recall = sub.add_parser("recall", help="recall a live placement (supervisors only)")
        recall.add_argument("placement", type=int, help="placement id")
        recall.add_argument("--by", required=True, help="username of the supervisor")
        recall.add_argument("--note", required=True, help="why")
        recall.add_argument("--as-of", help="YYYY-MM-DD (default: the business date)")

        export = sub.add_parser("export", help="the agency's live placements as a file")
        export.add_argument("agency")
        export.add_argument("--format", choices=("csv", "parquet"), default="csv")
        export.add_argument("--out", required=True, help="file to write")
        export.add_argument("--as-of", help="YYYY-MM-DD (default: the business date)")
        load = sub.add_parser("import", help="apply an agency's results file, all or nothing")
        load.add_argument("agency")
        load.add_argument("file", help="CSV or Parquet (by extension)")
        load.add_argument("--reference", required=True, help="the batch's idempotency reference")
        token = sub.add_parser("token", help="create an API key (printed once)")
        token.add_argument("agency")
        token.add_argument("--name", required=True)
        token.add_argument(
            "--scope", action="append", default=[], help="placements:read, results:write"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except exchange.ResultsRefused as error:
            for problem in error.errors:
                self.stderr.write(problem.line())
            raise CommandError(f"{error!s}; nothing applied") from None
        except ArrearsError as error:
            raise CommandError(str(error)) from None

    def _export(self, options: dict[str, Any]) -> None:
        agency = _agency(options["agency"])
        day = _day(options["as_of"], "--as-of") if options["as_of"] else business_date()
        data = exchange.export_placements(agency, day, options["format"])
        Path(options["out"]).write_bytes(data)
        self.stdout.write(f"{agency.code}: live placements on {day} written to {options['out']}")

    def _import(self, options: dict[str, Any]) -> None:
        agency = _agency(options["agency"])
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        if path.stat().st_size > exchange.MAX_FILE_BYTES:
            raise CommandError(f"{path}: larger than {exchange.MAX_FILE_BYTES} bytes")
        fmt = "parquet" if path.suffix.lower() == ".parquet" else "csv"
        outcome = exchange.import_results(
            agency, path.read_bytes(), fmt, reference=options["reference"]
        )
        verb = "already applied" if outcome.replayed else "applied"
        self.stdout.write(
            f"{agency.code}: batch {outcome.batch.reference!r} {verb}: {outcome.batch.rows} row(s)"
        )

    def _token(self, options: dict[str, Any]) -> None:
        agency = _agency(options["agency"])
        key = access.create_token(agency, options["name"], options["scope"])
        self.stdout.write(f"{agency.code}: API key (shown once): {key}")

    def _list(self, options: dict[str, Any]) -> None:
        agencies = Agency.objects.annotate(
            live=Count("placements", filter=Q(placements__recalled_on__isnull=True))
        )
        self.stdout.write(
            f"{'code':<14}{'name':<32}{'licence':<16}{'licence to':<12}{'contract':<24}"
            f"{'capacity':>9}{'live':>6}"
        )
        for agency in agencies:
            state = "" if agency.active else "  (inactive)"
            self.stdout.write(
                f"{agency.code:<14}{agency.name[:30]:<32}{agency.licence_number[:14]:<16}"
                f"{agency.licence_valid_to.isoformat():<12}"
                f"{agency.contract_starts}..{agency.contract_ends}  "
                f"{agency.capacity:>9}{agency.live:>6}{state}"
            )

    def _add(self, options: dict[str, Any]) -> None:
        tiers = [register.parse_tier(text) for text in options["tier"]]
        starts, ends = options["contract"]
        agency = register.add_agency(
            code=options["code"],
            name=options["name"],
            name_zh=options["name_zh"],
            licence=options["licence"],
            licence_valid_to=_day(options["licence_valid_to"], "--licence-valid-to"),
            contract_starts=_day(starts, "--contract FROM"),
            contract_ends=_day(ends, "--contract TO"),
            phone=options["phone"],
            capacity=options["capacity"],
            weight=options["weight"],
            tiers=tiers,
            channels=options["channels"].split(",") if options["channels"] else (),
            parties=options["parties"].split(",") if options["parties"] else (),
        )
        bands = ", ".join(f"{t.bucket or '*'} above {t.above_minor}: {t.rate_bp} bp" for t in tiers)
        self.stdout.write(f"added {agency} ({len(tiers)} tier(s){': ' + bands if bands else ''})")

    def _placements(self, options: dict[str, Any]) -> None:
        rows = Placement.objects.select_related("agency", "case__borrower")
        if options["agency"]:
            rows = rows.filter(agency=_agency(options["agency"]))
        if options["as_of"]:
            day = _day(options["as_of"], "--as-of")
            rows = rows.filter(placed_on__lte=day)
            if options["live"]:
                rows = rows.filter(Q(recalled_on__isnull=True) | Q(recalled_on__gt=day))
        elif options["live"]:
            rows = rows.filter(recalled_on__isnull=True)
        for p in rows:
            ended = f"recalled {p.recalled_on} ({p.recall_reason})" if p.recalled_on else "live"
            owed = _money(p.total_due_minor, p.currency)
            self.stdout.write(
                f"#{p.pk} {p.agency.code} case {p.case_id} borrower {p.case.borrower.ref} "
                f"{p.bucket} {p.placed_on}..{p.ends_on} owed {owed} "
                f"{p.method}{' ' + p.arm if p.arm else ''}: {ended}"
            )

    def _statement(self, options: dict[str, Any]) -> None:
        year, month = _month(options["month"])
        result = commission.statement(_agency(options["agency"]), year, month)
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
            return
        cur = result.currency
        self.stdout.write(
            f"{result.agency} {year:04d}-{month:02d} ({result.first}..{result.last}), "
            f"rounding {commission.ROUNDING}"
        )
        for line in result.lines:
            self.stdout.write(
                f"  #{line.placement_id} case {line.case_id} {line.bucket} "
                f"{line.placed_on}..{line.covered_until}: recovered {line.recovered_in_month} "
                f"({_money(line.recovered_in_month, cur)}), commission {line.commission_in_month} "
                f"({_money(line.commission_in_month, cur)})"
            )
        self.stdout.write(
            f"total: recovered {result.recovered} ({_money(result.recovered, cur)}), "
            f"commission {result.commission} ({_money(result.commission, cur)})"
        )

    def _scorecard(self, options: dict[str, Any]) -> None:
        first, last = _day(options["first"], "--from"), _day(options["last"], "--to")
        if last < first:
            raise CommandError("--to is before --from")
        card = scorecard.scorecard(_agency(options["agency"]), first, last)
        data = card.as_dict()
        if options["json"]:
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        for key, value in data.items():
            self.stdout.write(f"{key}: {value}")

    def _recall(self, options: dict[str, Any]) -> None:
        found = Placement.objects.filter(pk=options["placement"]).first()
        if found is None:
            raise CommandError(f"no placement #{options['placement']}")
        user = get_user_model().objects.filter(username=options["by"][:150]).first()
        if user is None:
            raise CommandError(f"no user {options['by'][:150]!r}")
        day = _day(options["as_of"], "--as-of") if options["as_of"] else None
        done = placement.recall(found, by=user, note=options["note"], on=day)
        self.stdout.write(f"recalled #{done.pk} from {done.agency.code} on {done.recalled_on}")
