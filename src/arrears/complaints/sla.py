"""The complaint's hold lasts until the complaint is resolved, not until its SLA date.

Filing puts a hold on until ``resolve_by``; a complaint still open on that day would otherwise
see collection resume while it is unanswered — the lender's lateness turned against the
borrower. This ``collections.dayflow`` step, run before the workflow (so the day's treatments
already see it), extends the hold of every open complaint at or past its resolve-by date to
``EXTEND_DAYS`` ahead, a week at a time (every hold still has an end), writes why on the hold
and as a case event. Re-running the day changes nothing. A hold someone released by hand stays
released: that was a decision, not an expiry.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction

from arrears.collections import events
from arrears.collections.models import CaseEvent, Hold
from arrears.complaints.models import Complaint

#: How far ahead each extension reaches.
EXTEND_DAYS = 7
#: Where the step runs in ``collections.dayflow``: before the workflow (order 0) decides the
#: day's treatments, so a lapsing hold is extended before it could let a reminder through.
ORDER = -10


def due_for_extension(day: date) -> list[Complaint]:
    """Open complaints at or past their resolve-by date whose hold (not released) ends within
    ``EXTEND_DAYS`` of ``day``."""
    return list(
        Complaint.objects.exclude(status=Complaint.Status.RESOLVED)
        .filter(
            resolve_by__lte=day,
            hold__isnull=False,
            hold__released_on__isnull=True,
            hold__ends_on__lt=day + timedelta(days=EXTEND_DAYS),
        )
        .select_related("case")
        .order_by("pk")
    )


def extend_holds(day: date) -> int:
    """Extend the hold of every complaint due for it; returns how many were extended."""
    target = day + timedelta(days=EXTEND_DAYS)
    extended = 0
    for complaint in due_for_extension(day):
        with transaction.atomic():
            hold = Hold.objects.select_for_update().get(pk=complaint.hold_id)
            if hold.released_on is not None or hold.ends_on >= target:
                continue  # released or extended meanwhile
            why = (
                f"{complaint.reference} still unresolved on {day} "
                f"(resolve by {complaint.resolve_by}): hold extended from {hold.ends_on} "
                f"to {target}"
            )
            hold.ends_on = target
            hold.note = f"{hold.note}\n{why}".strip()
            hold.save(update_fields=["ends_on", "note"])
            if complaint.case is not None:
                events.record(
                    complaint.case,
                    CaseEvent.Kind.HOLD,
                    "complaint past SLA",
                    "hold extended",
                    why,
                    None,
                    day,
                )
            extended += 1
    return extended


def step(day: date) -> str:
    """The dayflow step."""
    return f"{day}: {extend_holds(day)} complaint hold(s) extended past the SLA"
