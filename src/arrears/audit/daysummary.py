"""One audit entry per day run for the automation's case events (counts by kind).

The daily workflow, allocation, placement and field-visit steps write keyed case events in
bulk — thousands a day — and the receivers leave them out (``receivers._automatic``). This
``collections.dayflow`` step, registered late (after every app step, before the outbox),
records what they wrote on the day as one entry. A re-run of the day records again only when
the counts changed, so re-running an unchanged day adds nothing (dayflow steps are idempotent).

The entry also carries a SHA-256 **digest** of the day's keyed events — each event's key, case,
kind, values, cause and strategy, in key order — so they are tamper-evident without an entry
each: the entry is sealed in the chain, and :func:`altered_days` (run by ``arrears audit
verify``) recomputes every recorded day's digest and names a day whose events were changed,
added or deleted since. (Bulk writes fire no model signals, so the cases the workflow opens and
resolves are covered this way too: each is an ``opened`` / ``resolved`` keyed event.)
"""

from __future__ import annotations

import hashlib
import json
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


#: What of a keyed event the digest covers (``at`` is left out: the time of writing, not the fact).
DIGESTED = ("key", "case_id", "kind", "from_value", "to_value", "cause", "strategy")


def digest(day: date) -> str:
    """SHA-256 over the day's keyed case events, streamed in key order."""
    from arrears.collections.models import CaseEvent

    rows = (
        CaseEvent.objects.filter(on=day, key__isnull=False)
        .order_by("key")
        .values_list(*DIGESTED)
        .iterator(chunk_size=10_000)
    )
    hasher = hashlib.sha256()
    for row in rows:
        hasher.update(json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode())
        hasher.update(b"\n")
    return hasher.hexdigest()


def summary(day: date) -> dict[str, object]:
    """What the day's entry records: counts by kind, their total and the digest."""
    found = counts(day)
    return {
        "day": day.isoformat(),
        "events": found,
        "total": sum(found.values()),
        "digest": digest(day),
    }


def altered_days() -> list[str]:
    """Days whose keyed case events no longer match their last recorded summary."""
    latest: dict[str, dict[str, object]] = {}
    for day, after in (
        AuditEntry.objects.filter(action=ACTION, subject_type=SUBJECT)
        .order_by("id")
        .values_list("subject_id", "after")
    ):
        latest[str(day)] = after
    altered = []
    for day, after in sorted(latest.items()):
        if "digest" not in after:  # recorded before digests existed: counts only
            if after.get("events") != counts(date.fromisoformat(day)):
                altered.append(day)
        elif after != summary(date.fromisoformat(day)):
            altered.append(day)
    return altered


def step(day: date) -> str:
    """The dayflow step: record the day's counts unless the last summary says the same."""
    if not receivers.enabled():
        return f"{day}: audit summary skipped (ARREARS_AUDIT is off)"
    after = summary(day)
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
        reason="the day run's automatic case events, counted by kind, with their digest",
    )
    return f"{day}: audit summary recorded ({after['total']} automatic case events)"
