"""Benchmark: the event reports (promises kept, contact intensity, gate decisions, complaint
rates, champion/challenger) over a generated month of history.

Run: ``.venv/bin/python bench/reports_events.py --cases 100000`` (SQLite under
``bench/out/reports-events-N``, generated once; or ``DATABASE_URL``). The history is written in
bulk, not through the services: per case an ``opened`` and an ``assigned`` event (a fifth of
the cases also ``closed``), ``--contacts`` contact attempts with their gate decisions (one in
ten deferred or denied, one in a hundred overridden), a promise for every third case with a
payment for half of them, a work item, a placement for one case in ten, and a complaint for
one in two hundred. Each report is then computed as of the month's end over the month and
timed; one line per report: seconds, and the first table's rows.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

FIRST = date(2026, 11, 1)
LAST = date(2026, 11, 30)
COLLECTORS = 60
TEAMS = 6
AGENCIES = 3
RULES = ("cn.hours", "cn.frequency.daily", "cn.third_party", "pref.opt_out")


def _instant(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def seed(cases: int, contacts: int, rng: random.Random) -> dict[str, int]:
    began = time.perf_counter()

    def lap(what: str) -> None:
        print(f"  {what}: {time.perf_counter() - began:.1f}s", flush=True)

    from django.contrib.auth.models import User
    from django.db.models import F

    from arrears.agencies.models import Agency, Placement
    from arrears.collections.bulk import insert_rows
    from arrears.collections.models import (
        Case,
        CaseEvent,
        Collector,
        ContactAttempt,
        Promise,
        Team,
        WorkItem,
    )
    from arrears.complaints.models import Complaint
    from arrears.contact.models import GateDecision
    from arrears.ledger import services
    from arrears.ledger.models import Borrower, Loan, Payment

    product = services.create_product(
        code="BENCH", version=1, name="Bench loan", effective_from=date(2026, 1, 1)
    )
    teams = [
        Team.objects.create(code=f"t{n}", name=f"Team {n}", owner="reminders") for n in range(TEAMS)
    ]
    users = User.objects.bulk_create([User(username=f"c{n:03d}") for n in range(COLLECTORS)])
    users = list(User.objects.filter(username__startswith="c").order_by("id"))
    Collector.objects.bulk_create(
        [Collector(user=u, team=teams[n % TEAMS]) for n, u in enumerate(users)]
    )
    agencies = [
        Agency.objects.create(
            code=f"ag{n}",
            name=f"Agency {n}",
            licence_number=f"L{n}",
            licence_valid_to=date(2027, 12, 31),
            contract_starts=date(2026, 1, 1),
            contract_ends=date(2027, 12, 31),
            phone="+864000000000",
        )
        for n in range(AGENCIES)
    ]
    step = 20_000
    for start in range(0, cases, step):
        part = range(start, min(cases, start + step))
        Borrower.objects.bulk_create(
            [Borrower(ref=f"B{n}", name="x", national_id="110101199003074514") for n in part]
        )
    lap("borrowers")
    borrowers = list(Borrower.objects.order_by("id").values_list("id", flat=True))
    insert_rows(
        Loan,
        [
            "ref",
            "borrower",
            "product",
            "currency",
            "principal_minor",
            "rate_value",
            "rate_basis",
            "term",
            "method",
            "day_count",
            "start_date",
        ],
        [
            (
                f"L{n}",
                b,
                product.pk,
                "CNY",
                1_200_000,
                Decimal("0.0005"),
                "daily",
                12,
                "equal-principal",
                "act/365",
                date(2026, 8, 1),
            )
            for n, b in enumerate(borrowers)
        ],
    )
    loans = dict(Loan.objects.values_list("borrower_id", "id"))
    insert_rows(
        Case,
        ["borrower", "status", "currency", "opened_on", "variant", "owner", "stage"],
        [
            (
                b,
                "open",
                "CNY",
                FIRST + timedelta(days=n % 28),
                ("champion", "challenger")[n % 2],
                "reminders",
                "reminder",
            )
            for n, b in enumerate(borrowers)
        ],
    )
    lap("loans and cases")
    case_rows = list(Case.objects.order_by("id").values_list("id", "borrower_id", "opened_on"))
    ids = [u.pk for u in users]
    events, holder = [], {}
    for n, (case, _b, opened) in enumerate(case_rows):
        who = users[n % COLLECTORS]
        holder[case] = who.pk
        at = _instant(opened, 1)
        events.append((case, opened, at, "opened", "", "open", "bench", f"{case}:o"))
        events.append((case, opened, at, "assigned", "", who.username, "bench", f"{case}:a"))
        if n % 5 == 0:
            day = min(LAST, opened + timedelta(days=10))
            events.append(
                (case, day, _instant(day, 2), "closed", "open", "resolved", "bench", f"{case}:c")
            )
    insert_rows(
        CaseEvent, ["case", "on", "at", "kind", "from_value", "to_value", "cause", "key"], events
    )
    lap("events")
    attempts, decisions = [], []
    outcomes = ("no_answer", "no_answer", "rpc", "promise", "refused", "wrong_number")
    for n in range(contacts):
        case, _b, opened = case_rows[rng.randrange(len(case_rows))]
        day = opened + timedelta(days=rng.randrange(0, max(1, (LAST - opened).days + 1)))
        at = _instant(day, rng.randrange(1, 12))
        stopped = n % 10 == 0
        gate = ("defer", "deny")[n % 20 == 0] if stopped else "allow"
        overridden = n % 100 == 0
        attempts.append(
            (
                case,
                holder[case],
                at,
                "call",
                "outbound",
                "borrower",
                outcomes[n % len(outcomes)],
                gate,
                overridden,
                at,
            )
        )
        rules = [{"id": RULES[n % len(RULES)]}] if stopped else []
        request = {"channel": "voice", "overridden": overridden}
        decisions.append((at, gate, "cn v1", rules, request, at))
    insert_rows(
        ContactAttempt,
        [
            "case",
            "collector",
            "at",
            "channel",
            "direction",
            "party",
            "outcome",
            "gate_outcome",
            "overridden",
            "created_at",
        ],
        attempts,
    )
    insert_rows(
        GateDecision, ["at", "outcome", "pack", "rules", "request", "created_at"], decisions
    )
    lap("contacts and decisions")
    promises, payments = [], []
    for n, (case, borrower, opened) in enumerate(case_rows):
        if n % 3:
            continue
        made = opened + timedelta(days=1)
        due = made + timedelta(days=7)
        promises.append((case, 50_000, made, due, holder[case], _instant(made, 2)))
        if n % 2 == 0:
            value = due - timedelta(days=1)
            payments.append((f"P{n}", loans[borrower], value, 50_000, "CNY", _instant(value, 3)))
    insert_rows(
        Promise, ["case", "amount_minor", "made_on", "due_date", "made_by", "created_at"], promises
    )
    insert_rows(
        Payment, ["ref", "loan", "value_date", "amount_minor", "currency", "created_at"], payments
    )
    insert_rows(
        WorkItem,
        [
            "key",
            "case",
            "borrower",
            "due_on",
            "stage",
            "treatment",
            "channel",
            "template",
            "owner",
            "reason",
            "strategy",
            "variant",
        ],
        [
            (
                f"w{case}",
                case,
                b,
                opened,
                "reminder",
                1,
                "sms",
                "t",
                "reminders",
                "bench",
                "bench v1",
                "champion",
            )
            for case, b, opened in case_rows
        ],
    )
    lap("promises, payments, work")
    placed = [row for n, row in enumerate(case_rows) if n % 10 == 3]
    insert_rows(
        Placement,
        [
            "key",
            "case",
            "agency",
            "placed_on",
            "ends_on",
            "bucket",
            "total_due_minor",
            "currency",
            "method",
            "created_at",
        ],
        [
            (
                f"p{case}",
                case,
                agencies[n % AGENCIES].pk,
                opened,
                opened + timedelta(days=29),
                "M2",
                100_000,
                "CNY",
                "bench",
                _instant(opened, 1),
            )
            for n, (case, _b, opened) in enumerate(placed)
        ],
    )
    filed = [row for n, row in enumerate(case_rows) if n % 200 == 7]
    for n, (case, borrower, opened) in enumerate(filed):
        complaint = Complaint.objects.create(
            reference=f"CP-{n:06d}",
            borrower_id=borrower,
            case_id=case,
            kind="complaint",
            category="harassment",
            channel="phone",
            description="bench",
            received_at=_instant(opened + timedelta(days=2), 4),
            acknowledge_by=opened,
            resolve_by=opened,
            root_cause=("collector_conduct", "no_fault", "")[n % 3],
            resolved_at=_instant(opened + timedelta(days=5), 4) if n % 3 < 2 else None,
            upheld=n % 3 == 0,
        )
        complaint.collectors.add(holder[case])
    # recorded when received (``auto_now_add`` stamped the generation's instant)
    Complaint.objects.filter(reference__startswith="CP-").update(created_at=F("received_at"))
    lap("placements, complaints")
    return {
        "cases": len(case_rows),
        "events": len(events),
        "contacts": len(attempts),
        "promises": len(promises),
        "payments": len(payments),
        "complaints": len(filed),
        "placements": len(placed),
        "collectors": len(ids),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=0, help="default: 3 per case")
    args = parser.parse_args()
    contacts = args.contacts or 3 * args.cases
    out = Path(__file__).parent / "out" / f"reports-events-{args.cases}"
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("ARREARS_DATA_DIR", str(out))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{out / 'arrears.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arrears.project.settings")
    os.environ["ARREARS_AUDIT"] = "0"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import translation

    from arrears.collections.models import Case
    from arrears.reports.base import ReportParams, load_all

    call_command("migrate", "--no-input", verbosity=0)
    if not Case.objects.exists():
        started = time.perf_counter()
        with transaction.atomic():  # SQLite: one commit, not one per row
            made = seed(args.cases, contacts, random.Random(15))
        figures = " ".join(f"{k}={v:,}" for k, v in made.items())
        print(f"generated in {time.perf_counter() - started:.1f}s: {figures}")
    registry = load_all()
    params = ReportParams(as_of=LAST, start=FIRST, end=LAST)
    with translation.override("en"):
        for name in (
            "promises_kept",
            "contact_intensity",
            "gate_decisions",
            "complaint_rates",
            "variants",
        ):
            started = time.perf_counter()
            result = registry[name].compute(params)
            took = time.perf_counter() - started
            first = result.tables[0]
            print(
                f"{name:<18} {took:6.2f}s  {first.key}: {len(first.rows)} rows; "
                f"{sum(len(t.rows) for t in result.tables)} rows in {len(result.tables)} tables"
            )


if __name__ == "__main__":
    main()
