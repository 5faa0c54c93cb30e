"""Issue 10's agency scenario, through the day pipeline and the agency user's pages.

Four borrowers fall two months behind and reach the ladder's ``external`` stage; the day places
them round robin with two agencies; an agency user sees only her agency's cases and gets a 404
on the other's and on the lender's own pages; she takes a promise, a payment in the ledger keeps
it; the agency's commission is the hand calculation on that payment; at the end of the term the
placement is recalled and the case goes to the other agency, out of her sight.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from arrears.agencies import commission
from arrears.agencies.models import AgencyMember, CommissionTier, Placement
from arrears.collections import dayflow
from arrears.collections.models import Case, Promise
from arrears.contact.models import OutboxMessage
from arrears.daily.services import day_run
from arrears.ledger import services as ledger
from tests import factories
from tests.agencies.daystep import new_agency


def _run_day(day: date) -> None:
    """What ``arrears run-day`` does: the ledger's states, then the day pipeline."""
    day_run(as_of=day, engine="reference")
    dayflow.run(day)


def _at(day: object, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))  # type: ignore[arg-type]


@pytest.mark.django_db
def test_placed_round_robin_worked_by_the_agency_paid_on_the_ledger_and_recalled(
    _frozen_clock: time_machine.Traveller,
) -> None:
    today = timezone.localdate()
    _frozen_clock.move_to(_at(today, 10))
    product = factories.product()
    loans = [
        factories.loan(
            f"L{n}",
            factories.borrower(f"B{n}", phone=f"+8613800002{n:03d}"),
            product,
            start=today - timedelta(days=95),
        )
        for n in range(4)
    ]
    alpha = new_agency("alpha")
    beta = new_agency("beta", phone="400-800-0002")
    CommissionTier.objects.create(agency=alpha, bucket="", above_minor=0, rate_bp=1000)
    CommissionTier.objects.create(agency=alpha, bucket="", above_minor=50_000, rate_bp=1500)
    amy = User.objects.create_user("amy")
    AgencyMember.objects.create(user=amy, agency=alpha)

    _run_day(today)

    cases = [Case.objects.get(borrower=loan.borrower) for loan in loans]
    assert {case.stage for case in cases} == {"external"}
    placed = {p.case_id: p for p in Placement.objects.filter(recalled_on__isnull=True)}
    assert [placed[case.pk].agency.code for case in cases] == ["alpha", "beta", "alpha", "beta"]
    assert {p.method for p in placed.values()} == {"round_robin"}
    notices = OutboxMessage.objects.filter(template="agency_placement")
    assert notices.count() == 4  # each borrower is told who will contact them

    # amy (alpha) sees alpha's two cases, and nothing of beta's or of the lender's pages
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(amy)
    listing = client.get("/agency/").content.decode()
    mine, theirs = cases[0], cases[1]
    assert f"/agency/cases/{mine.pk}/" in listing and f"/agency/cases/{theirs.pk}/" not in listing
    assert client.get(f"/agency/cases/{theirs.pk}/").status_code == 404
    assert client.get(f"/cases/{mine.pk}/").status_code == 404

    # she takes a promise of CNY 800.00 in three days; the ledger then receives it
    due = today + timedelta(days=3)
    posted = client.post(
        f"/agency/cases/{mine.pk}/",
        {"action": "promise", "promise-amount": "800.00", "promise-due_date": due.isoformat()},
    )
    assert posted.status_code == 302
    promise = Promise.objects.get(case=mine)
    assert (promise.agency, promise.status) == (alpha, Promise.Status.PENDING)
    _frozen_clock.move_to(_at(today + timedelta(days=2), 10))
    ledger.record_payment(
        loan=loans[0],
        ref="PAY-1",
        value_date=today + timedelta(days=2),
        amount_minor=80_000,
        currency="CNY",
    )
    _run_day(today + timedelta(days=2))
    promise.refresh_from_db()
    assert promise.status == Promise.Status.KEPT  # kept by the ledger, not by what she said

    # commission by hand: 10% of the first 50,000 fen + 15% of the next 30,000 = 5,000 + 4,500
    day2 = today + timedelta(days=2)
    statement = commission.statement(alpha, day2.year, day2.month)
    assert (statement.recovered, statement.commission) == (80_000, 9_500)
    assert commission.statement(beta, day2.year, day2.month).commission == 0

    # the 30-day term ends; the next day recalls it and places the case with the other agency
    first = placed[mine.pk]
    assert first.ends_on == today + timedelta(days=29)
    end = today + timedelta(days=30)
    _frozen_clock.move_to(_at(end, 10))
    _run_day(end)
    first.refresh_from_db()
    assert (first.recalled_on, first.recall_reason) == (end, "term_end")
    again = Placement.objects.get(case=mine, recalled_on__isnull=True)
    assert again.agency == beta
    assert OutboxMessage.objects.filter(key=f"placement:{first.pk}:recalled").exists()
    client.force_login(amy)  # a month on, her session has expired: sign in again
    assert client.get(f"/agency/cases/{mine.pk}/").status_code == 404
    swapped = client.get("/agency/").content.decode()  # every term ended: the agencies swap
    assert all(f"/agency/cases/{case.pk}/" in swapped for case in (cases[1], cases[3]))
