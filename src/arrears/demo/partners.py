"""The demo's people and history beyond the internal team: the law firm, two agencies with their
users, the field team and agents — and, for a few large long-overdue borrowers, the months of
failed calls and broken promises after which the ladder reaches a field visit.

Why history is seeded: the demo book is loaded and evaluated on one day, so every case opens
that day with no contact behind it, and no case could be "unreachable for 30 days" or have
broken two promises. Real books carry that history; the demo writes a plausible one for a few
cases — calls through the gated contact log at their own past times, promises as judged broken —
and re-runs the day, so the ladder itself moves them to the field-visit stage (the calls are not
each re-evaluated as they are logged: the re-run evaluates the history once).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from arrears.agencies import demo as agencies_demo
from arrears.collections import services
from arrears.collections.models import Case, ContactAttempt, Promise
from arrears.fieldwork import demo as fieldwork_demo
from arrears.fieldwork import eligibility
from arrears.kernel.errors import ArrearsError
from arrears.legal import demo as legal_demo

#: Large borrowers the generator adds (``portfolio.generate(large=…)``).
LARGE_BORROWERS = 16
#: Of them, how many get a field-visit history (one per visit state the demo shows, and a few
#: spare: a case whose borrower paid or complained meanwhile does not reach the stage).
FIELD_CASES = len(fieldwork_demo.STAGES) + 3
#: The seeded history: this many failed calls, every few days, ending days before the demo date.
CALLS, EVERY_DAYS, HISTORY_DAYS = 12, 3, 40
HISTORY_NOTE = "demo history: no answer"


def seed_people(as_of: date) -> list[tuple[str, str, str]]:
    """Firm, agencies and their users, field team and agents (idempotent); their logins."""
    legal_demo.seed_firm()
    return agencies_demo.seed_agencies(as_of) + fieldwork_demo.seed_people()


def seed_field_history(as_of: date) -> int:
    """Give up to :data:`FIELD_CASES` large, long-overdue open cases without history a past of
    failed calls and two broken promises; returns how many (0 on a second run: the history is
    written once)."""
    if ContactAttempt.objects.filter(note=HISTORY_NOTE).exists():
        return 0
    rule = eligibility.rule()
    caller = get_user_model().objects.get(username="ann")
    cases = list(
        Case.objects.filter(
            closed_on__isnull=True,
            dpd__gte=rule.min_dpd,
            total_due_minor__gte=rule.min_total_due,
            contacts__isnull=True,
            promises__isnull=True,
        ).order_by("id")[:FIELD_CASES]
    )
    for case in cases:
        _history(case, as_of, caller)
    return len(cases)


def _history(case: Case, as_of: date, caller: Any) -> None:
    start = as_of - timedelta(days=HISTORY_DAYS)
    Case.objects.filter(pk=case.pk, opened_on__gt=start).update(opened_on=start)
    case.refresh_from_db()
    phone = case.borrower.phones.filter(is_valid=True).order_by("id").first()
    for n in range(CALLS):
        day = as_of - timedelta(days=EVERY_DAYS * (CALLS - n))
        at = timezone.make_aware(datetime.combine(day, time(11, 0)))
        try:
            services.log_contact(
                case,
                channel="call",
                direction="outbound",
                party="borrower",
                outcome="no_answer",
                collector=caller,
                phone=phone,
                note=HISTORY_NOTE,
                at=at,
                reevaluate_now=False,  # the demo re-runs the day after the history
            )
        except ArrearsError:
            continue  # the gate said no for that day: the history simply has one call fewer
    with transaction.atomic():
        for made, due in ((38, 33), (24, 19)):
            Promise.objects.create(
                case=case,
                amount_minor=min(case.total_due_minor, 500_000),
                made_on=as_of - timedelta(days=made),
                due_date=as_of - timedelta(days=due),
                status=Promise.Status.BROKEN,
                resolved_on=as_of - timedelta(days=due - 1),
                made_by=caller,
            )


def seed_outcomes(as_of: date) -> dict[str, int]:
    """After the day: visits walked to each state, a recalled placement, a quality review."""
    boss = get_user_model().objects.get(username="boss")
    found = fieldwork_demo.seed_visits(as_of)
    found.update(agencies_demo.seed_outcomes(as_of, by=boss))
    return found
