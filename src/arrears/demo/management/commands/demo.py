from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from arrears.accounts.roles import Role
from arrears.channels import from_env
from arrears.collections import dayflow
from arrears.collections.models import Collector, Team
from arrears.commands import OFFLINE_CHECKS
from arrears.contact.dispatch import dispatch_once
from arrears.demo import partners
from arrears.demo.files import write_import_files
from arrears.demo.portfolio import generate
from arrears.kernel.calendar import parse_date
from arrears.kernel.errors import InvalidDate
from arrears.ledger.models import Loan, Product

DEMO_PRODUCT = "weilidai-like"
DEMO_USERS = (
    # (username, password, access, what they do): access is superuser, staff (back office: the
    # whole book), collector, or compliance (the compliance officer's group: its pages only)
    ("admin", "arrears-admin", "superuser", "admin: teams, roles, approval limits"),
    ("boss", "arrears-demo", "staff", "collections manager: approves above the lead's limit"),
    ("lead", "arrears-demo", "staff", "team lead: approves the team's waivers and plans"),
    ("ann", "arrears-demo", "collector", "collector"),
    ("bob", "arrears-demo", "collector", "collector"),
    ("cora", "arrears-demo", "compliance", "compliance officer: gate log, contact history, QA"),
)
#: (username, role, capacity) of the demo's internal collection team (内催). The manager takes
#: no cases of their own (capacity 0); approval limits are the data migration's defaults.
DEMO_TEAM = (
    ("boss", "manager", 0),
    ("lead", "team_lead", 50),
    ("ann", "collector", 150),
    ("bob", "collector", 150),
)


class Command(BaseCommand):
    requires_system_checks = OFFLINE_CHECKS  # not the URL checks: a command serves no page
    help = "Seed the synthetic demo portfolio (once), compute the day's state, print logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--borrowers", type=int, default=2000)
        parser.add_argument("--as-of", help="business date (default: today in ARREARS_TIME_ZONE)")
        parser.add_argument("--seed", type=int, default=20240401)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            as_of: date = (
                parse_date(options["as_of"], field_name="--as-of")
                if options["as_of"]
                else timezone.localdate()
            )
        except InvalidDate as error:
            raise CommandError(str(error)) from None
        if options["borrowers"] < 1:
            raise CommandError("--borrowers must be at least 1")
        product, _ = Product.objects.get_or_create(
            code=DEMO_PRODUCT,
            version=1,
            defaults={"name": "微粒贷-like consumer loan", "effective_from": date(2020, 1, 1)},
        )
        if Loan.objects.exists():
            self.stdout.write("Demo portfolio already loaded; not seeding again.")
        else:
            directory = settings.DATA_DIR / "demo"
            portfolio = generate(
                borrowers=options["borrowers"],
                as_of=as_of,
                seed=options["seed"],
                product=product.terms(),
                large=partners.LARGE_BORROWERS,
            )
            loans_csv, payments_csv, count = write_import_files(
                portfolio, directory, product_code=product.code, product_version=product.version
            )
            self.stdout.write(f"Generated {count} loans into {directory}")
            call_command("import", "loans", str(loans_csv), stdout=self.stdout)
            call_command("import", "payments", str(payments_csv), stdout=self.stdout)
        users = get_user_model()
        for username, password, access, _what in DEMO_USERS:
            if not users.objects.filter(username=username).exists():
                if access == "superuser":
                    users.objects.create_superuser(username, password=password)
                else:
                    user = users.objects.create_user(
                        username, password=password, is_staff=access == "staff"
                    )
                    if access == "compliance":
                        user.groups.add(Group.objects.get(name=Role.COMPLIANCE_OFFICER))
        team, _ = Team.objects.get_or_create(
            code="internal",
            defaults={
                "name": "内催一组 Internal team",
                "owner": "internal_team",
                "monthly_target_minor": 50_000_000,  # CNY 500,000.00: the dashboard's target
            },
        )
        for username, role, capacity in DEMO_TEAM:
            Collector.objects.get_or_create(
                user=users.objects.get(username=username),
                defaults={"team": team, "role": role, "capacity": capacity},
            )
        logins = partners.seed_people(as_of)
        for line in dayflow.close_day(as_of).lines():
            self.stdout.write(line)
        if partners.seed_field_history(as_of):
            # The seeded visits move cases on the ladder; the ledger is unchanged, so only the
            # steps after it run again.
            for line in dayflow.run(as_of):
                self.stdout.write(line)
        seeded = partners.seed_outcomes(as_of)
        self.stdout.write(
            "demo states: " + ", ".join(f"{k} {v}" for k, v in sorted(seeded.items()) if v)
        )
        channels = from_env(os.environ)  # the log channel unless providers are configured
        now = demo_clock(as_of)
        while True:
            sent = dispatch_once(channels, now=now, batch=500)
            self.stdout.write(f"dispatch: {sent.line()}")
            if sent.claimed < 500:
                break
        self.stdout.write("Demo logins (local demo only):")
        for username, password, _access, what in DEMO_USERS:
            self.stdout.write(f"  {username} / {password}".ljust(26) + f"  {what}")
        for username, password, what in logins:
            self.stdout.write(f"  {username} / {password}".ljust(26) + f"  {what}")
        self.stdout.write(portal_login_path())


def portal_login_path() -> str:
    """How a newcomer tries the borrower portal: a loan whose borrower has an open case (one
    placed with an agency when there is one, so the notices page has something to say) and
    where the demo's one-time code arrives: the SMS log file ``make demo`` sets
    (``ARREARS_CHANNEL_LOG``)."""
    from arrears.agencies.models import Placement
    from arrears.collections.models import Case

    live = Placement.objects.filter(recalled_on__isnull=True).order_by("id")
    borrower = live.values_list("case__borrower", flat=True).first() or (
        Case.objects.filter(closed_on__isnull=True)
        .order_by("id")
        .values_list("borrower", flat=True)
        .first()
    )
    loan = Loan.objects.filter(borrower=borrower).order_by("ref").first() if borrower else None
    if loan is None:
        return "Borrower portal: /my/ (no loan in arrears to try it with)"
    log = os.environ.get("ARREARS_CHANNEL_LOG")
    where = (
        f"the last line of {log} (tail -n 1 {log})"
        if log
        else "the SMS log: start the server with ARREARS_CHANNEL_LOG=<file> (make demo does)"
    )
    return (
        f"Borrower portal (local demo): /my/ — loan number {loan.ref}; "
        f"the one-time code arrives in {where}"
    )


def demo_clock(as_of: date) -> Callable[[], datetime]:
    """The dispatcher's clock for the demo: the real one when the demo is of today; for a past
    or future business date, that date at 10:00 in the lender's zone, ticking from there, so
    the day's messages are sent on their own day instead of expiring (a message is valid only
    through its day) or waiting for night-time hours to pass."""
    if as_of == timezone.localdate():
        return timezone.now
    start = datetime.combine(as_of, time(10, 0), tzinfo=timezone.get_current_timezone())
    began = timezone.now()
    return lambda: start + (timezone.now() - began)
