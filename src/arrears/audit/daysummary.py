"""One audit entry per day run for the automation's case events (counts by kind).

The daily workflow, allocation, placement and field-visit steps write keyed case events in
bulk — thousands a day — and the receivers leave them out (``receivers._automatic``). This
``collections.dayflow`` step, registered late (after every app step, before the outbox),
records what they wrote on the day as one entry. A re-run of the day records again only when
the counts changed, so re-running an unchanged day adds nothing (dayflow steps are idempotent).
"""

from __future__ import annotations

from datetime import date

from django.db.models import Count

from arrears.audit import receivers, services
from arrears.audit.models import AuditEntry

#: Where the step runs in ``collections.dayflow`` (app steps are 10..90, the outbox 100).
ORDER = 95
ACTION = "day.events"
SUBJECT = "daily.Day"


def counts(day: date) -> dict[str, int]:
    """The day's keyed case events by kind."""
    from arrears.collections.models import CaseEvent

    rows = (
        CaseEvent.objects.filter(on=day, key__isnull=False)
        .values_list("kind")
        .annotate(n=Count("id"))
        .order_by("kind")
    )
    return {str(kind): int(n) for kind, n in rows}


def step(day: date) -> str:
    """The dayflow step: record the day's counts unless the last summary says the same."""
    if not receivers.enabled():
        return f"{day}: audit summary skipped (ARREARS_AUDIT is off)"
    found = counts(day)
    after = {"day": day.isoformat(), "events": found, "total": sum(found.values())}
    last = (
        AuditEntry.objects.filter(action=ACTION, subject_type=SUBJECT, subject_id=day.isoformat())
        .order_by("-id")
        .values_list("after", flat=True)
        .first()
    )
    if last == after:
        return f"{day}: audit summary unchanged ({after['total']} automatic case events)"
    services.record(
        ACTION,
        subject_type=SUBJECT,
        subject_id=day.isoformat(),
        before=last,
        after=after,
        reason="the day run's automatic case events, counted by kind",
    )
    return f"{day}: audit summary recorded ({after['total']} automatic case events)"
