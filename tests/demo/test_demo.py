"""`arrears demo`: a realistic mix, loaded through the real import path, idempotent."""

from __future__ import annotations

from collections import Counter
from datetime import date
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from arrears.agencies.models import Placement
from arrears.collections.models import ApprovalLimit, Case, Collector, WorkItem
from arrears.collections.selectors import visible_cases
from arrears.contact.models import OutboxMessage
from arrears.daily.models import LoanState
from arrears.demo import partners
from arrears.demo.portfolio import Behaviour, generate
from arrears.fieldwork.models import FieldVisit
from arrears.kernel.schedule import build_schedule
from arrears.kernel.state import state
from arrears.kernel.terms import LoanTerms
from arrears.ledger.models import Borrower, Loan, Payment
from arrears.legal.models import LegalLetter
from arrears.quality.access import may_review, may_view_decisions

AS_OF = date(2026, 11, 29)


def test_the_generator_is_deterministic_and_mixes_behaviours():
    first = list(generate(borrowers=150, as_of=AS_OF, seed=7))
    again = list(generate(borrowers=150, as_of=AS_OF, seed=7))
    assert first == again
    behaviours = Counter(loan.behaviour for _, loans in first for loan in loans)
    assert set(behaviours) == set(Behaviour)


def test_generated_histories_produce_every_kind_of_state():
    delinquent = cured = current = 0
    for _, loans in generate(borrowers=150, as_of=AS_OF, seed=7):
        for demo in loans:
            terms = LoanTerms(
                demo.ref,
                "CNY",
                demo.terms.principal,
                demo.terms.start,
                demo.terms.rate,
                demo.terms.day_count,
                build_schedule(demo.terms),
            )
            s = state(terms, demo.payments, AS_OF)
            delinquent += s.dpd > 60
            cured += s.dpd == 0 and s.penalty_accrued > 0
            current += s.dpd == 0 and s.penalty_accrued == 0
    assert delinquent and cured and current


@pytest.mark.slow
@pytest.mark.django_db
def test_demo_seeds_once_runs_the_day_and_prints_logins(settings, tmp_path):
    """One demo of a past day, checked whole (a demo is the slowest thing the suite seeds)."""
    settings.DATA_DIR = tmp_path
    out = StringIO()
    call_command("demo", "--borrowers", "40", "--as-of", str(AS_OF), stdout=out)
    text = out.getvalue()
    # The dispatcher runs on the demo's business date (10:00 there), so the day's messages
    # are sent rather than expired as a stale backlog (the frozen clock is days later).
    statuses = Counter(OutboxMessage.objects.values_list("status", flat=True))
    assert statuses["sent"] > 0
    assert statuses["expired"] == 0
    assert "admin / arrears-admin" in text
    # issue 11: where a newcomer signs in to the borrower portal, with a loan that is ours
    portal = next(line for line in text.splitlines() if line.startswith("Borrower portal"))
    assert "/my/" in portal and "one-time code" in portal
    assert Loan.objects.filter(ref=portal.split("loan number ")[1].split(";")[0]).exists()
    # a manager whose limit is above the lead's, so every default-limit request has an approver
    assert "boss / arrears-demo" in text and "collections manager" in text
    boss, lead = (
        Collector.objects.get(user__username="boss"),
        Collector.objects.get(user__username="lead"),
    )
    assert (boss.role, boss.team_id, lead.role) == ("manager", lead.team_id, "team_lead")
    for kind in ApprovalLimit.Kind.values:
        assert _limit(kind, "manager") > _limit(kind, "team_lead") > 0
    assert not boss.cases.exists()  # the manager approves; the collectors work the cases
    assert Borrower.objects.count() == 40 + partners.LARGE_BORROWERS
    loans, payments = Loan.objects.count(), Payment.objects.count()
    assert LoanState.objects.filter(as_of=AS_OF).count() == loans
    cases = Case.objects.filter(closed_on__isnull=True)
    delinquent = {s.loan.borrower_id for s in LoanState.objects.filter(as_of=AS_OF, dpd__gt=0)}
    assert delinquent and set(cases.values_list("borrower_id", flat=True)) == delinquent
    assert WorkItem.objects.filter(channel="call_task", collector__isnull=False).exists()
    work = WorkItem.objects.count()
    # issue 10: agencies, their users, the field team and the agency-management lead
    for login in ("agency1 / arrears-demo", "agent1 / arrears-demo", "vera / arrears-demo"):
        assert login in text
    placed = Placement.objects.filter(recalled_on__isnull=True).first()
    assert placed is not None
    vera = get_user_model().objects.get(username="vera")
    assert visible_cases(vera).filter(pk=placed.case_id).exists()  # she oversees placed cases
    assert FieldVisit.objects.exists() and LegalLetter.objects.exists()
    # issue 13: a compliance officer, who opens the gate log and nothing of the collectors'
    assert "cora / arrears-demo" in text
    cora = get_user_model().objects.get(username="cora")
    assert may_view_decisions(cora) and may_review(cora) and not visible_cases(cora).exists()
    call_command("demo", "--borrowers", "40", "--as-of", str(AS_OF), stdout=StringIO())
    assert (Loan.objects.count(), Payment.objects.count()) == (loans, payments)
    assert WorkItem.objects.count() == work  # the day's work is not created twice


def _limit(kind: str, role: str) -> int:
    return ApprovalLimit.objects.get(kind=kind, role=role).approve_up_to
