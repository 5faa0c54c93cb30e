"""A small book for the event reports, built with the real services so every event is
recorded the real way (case events, gate decisions, audit entries): four borrowers a few
weeks late on 2 November 2026, a team with collectors ``ann`` and ``bob`` and lead ``lea``,
an agency ``acme`` with its user ``amy`` holding case 3 for November.

Tests move the clock (``time_machine``) to the instant each thing is recorded: :func:`at`
is a local (Shanghai) time on a November day.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.contrib.auth.models import User
from django.core.management import call_command

from arrears.agencies.models import Agency, AgencyMember, Placement
from arrears.collections import services
from arrears.collections.models import Case, Collector, ContactAttempt, Promise, Team
from arrears.collections.workflow import evaluate_day
from arrears.daily.services import day_run
from arrears.ledger import services as ledger
from arrears.ledger.models import Loan
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = date(2026, 11, 2)
PHONES = ("+8613800000101", "+8613800000102", "+8613800000103", "+8613800000104")


def at(day: int | date, hour: int = 10, minute: int = 0, month: int = 11) -> datetime:
    on = day if isinstance(day, date) else date(2026, month, day)
    return datetime.combine(on, time(hour, minute), tzinfo=SHANGHAI)


def clock(day: int | date, hour: int = 10, minute: int = 0, month: int = 11) -> Any:
    """The clock stopped at a local instant (a context manager)."""
    return time_machine.travel(at(day, hour, minute, month), tick=False)


@dataclass
class EventBook:
    cases: list[Case]
    loans: list[Loan]
    users: dict[str, User]
    agency: Agency

    def call(
        self, n: int, who: str, day: int | date, outcome: str = "no_answer", **kw: Any
    ) -> ContactAttempt:
        """An outbound call to case ``n``'s borrower by ``who``, logged at 10:00 on ``day``
        (the clock stands there; ``month`` 11 unless given). ``at=`` back-dates the call."""
        case = Case.objects.get(pk=self.cases[n].pk)
        with clock(day, kw.pop("hour", 10), month=kw.pop("month", 11)):
            return services.log_contact(
                case,
                channel="call",
                direction="outbound",
                party=kw.pop("party", "borrower"),
                outcome=outcome,
                collector=self.users[who],
                phone=case.borrower.phones.first(),
                **kw,
            )

    def promise(
        self,
        n: int,
        who: str,
        made: int,
        due: int,
        amount: int,
        *,
        recorded: datetime | None = None,
    ) -> Promise:
        case = Case.objects.get(pk=self.cases[n].pk)
        agency = self.agency if who == "amy" else None
        with time_machine.travel(recorded or at(made, 11), tick=False):
            return services.make_promise(
                case,
                amount_minor=amount,
                due_date=date(2026, 11, due) if due > made else date(2026, 12, due),
                made_on=date(2026, 11, made),
                user=self.users[who],
                agency=agency,
            )

    def pay(self, n: int, ref: str, value: date, amount: int, recorded: datetime) -> None:
        with time_machine.travel(recorded, tick=False):
            ledger.record_payment(
                loan=self.loans[n], ref=ref, value_date=value, amount_minor=amount, currency="CNY"
            )


def make_book() -> EventBook:
    with clock(START, 9):
        product = factories.product()
        loans = [
            factories.loan(
                f"L-{n}",
                factories.borrower(f"B-{n}", phone=phone),
                product,
                principal_minor=1_200_000,
                start=date(2026, 9, 20),
            )
            for n, phone in enumerate(PHONES)
        ]
        day_run(as_of=START, engine="reference")
        evaluate_day(START)
        cases = list(Case.objects.order_by("borrower__ref"))
        team = Team.objects.create(code="t1", name="Team one", owner=cases[0].owner or "team")
        users: dict[str, User] = {}
        collectors: dict[str, Collector] = {}
        for name, role in (("ann", "collector"), ("bob", "collector"), ("lea", "team_lead")):
            users[name] = User.objects.create_user(username=name)
            collectors[name] = Collector.objects.create(user=users[name], team=team, role=role)
        for n, name in ((0, "ann"), (1, "ann"), (2, "bob")):
            services.reassign(cases[n], collectors[name], by=users["lea"], today=START)
        agency = Agency.objects.create(
            code="acme",
            name="Acme Collections",
            licence_number="LIC-acme",
            licence_valid_to=date(2027, 12, 31),
            contract_starts=date(2026, 1, 1),
            contract_ends=date(2027, 12, 31),
            phone="+864000000000",
            permitted_channels=["call", "sms"],
        )
        users["amy"] = User.objects.create_user(username="amy")
        AgencyMember.objects.create(user=users["amy"], agency=agency)
        Placement.objects.create(
            key=f"placement:{cases[3].pk}:{START}",
            case=cases[3],
            agency=agency,
            placed_on=START,
            ends_on=date(2026, 11, 30),
            bucket=cases[3].bucket or "M1",
            dpd=cases[3].dpd,
            total_due_minor=cases[3].total_due_minor,
            currency="CNY",
            method="round_robin",
        )
    return EventBook(cases=cases, loans=loans, users=users, agency=agency)


def run(name: str, as_of: str, first: str = "2026-11-01", last: str = "2026-11-30") -> Any:
    """The report's JSON from the command (what a person would get)."""
    from io import StringIO

    out = StringIO()
    args = [name, "--as-of", as_of, "--from", first, "--to", last, "--format", "json"]
    call_command("report", *args, stdout=out)
    return json.loads(out.getvalue())


def rows(result: Any, table: str) -> dict[str, dict[str, Any]]:
    """A table of the JSON result as {first cell: {column key: cell}}."""
    found = next(t for t in result["tables"] if t["key"] == table)
    keys = [c["key"] for c in found["columns"]]
    return {str(row[0]): dict(zip(keys, row, strict=True)) for row in found["rows"]}
