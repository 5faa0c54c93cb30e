"""The one writer of a case's history (``CaseEvent``).

Every app that changes a case — the daily workflow, collectors' actions, concessions,
complaints, placements, letters, field visits, the portal — records the change here. Events
that a re-run could write again (the daily run, a repeated transition, a retried request) pass
a ``key``: the key is unique in the table, so the second write finds the first event and
returns it instead of adding another. Events that are new every time (a collector's call)
pass no key.

A key also tells the audit chain (``audit.receivers``) that the event is the automation's: keyed
events are counted per day, keyless ones recorded one by one. So a person's action is recorded
without a key, even where a key would make a retry idempotent.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from arrears.collections.models import Case, CaseEvent


def day_key(case: Case, kind: str, to: str, on: date) -> str:
    """The key of a change a daily run makes at most once per case, kind, value and day (so
    re-running the day writes nothing new)."""
    return f"{case.pk}:{kind}:{to or '-'}:{on.isoformat()}"


def record(
    case: Case,
    kind: str,
    frm: str,
    to: str,
    cause: str,
    actor: Any,
    on: date,
    *,
    key: str | None = None,
    strategy: str = "",
) -> tuple[CaseEvent, bool]:
    """Record that ``case`` went from ``frm`` to ``to`` on ``on`` because of ``cause``; returns
    the event and whether it was written now.

    With a ``key`` the write is idempotent: an event with that key is returned as it is (the
    first write's values win, ``False``), never written twice. ``get_or_create`` creates under
    a savepoint, so two concurrent writers of one key end with one event and no broken
    transaction.
    """
    fields = {
        "case": case,
        "on": on,
        "kind": kind,
        "from_value": frm,
        "to_value": to,
        "cause": cause,
        "strategy": strategy,
        "actor": actor,
    }
    if key is None:
        return CaseEvent.objects.create(**fields), True
    return CaseEvent.objects.get_or_create(key=key, defaults=fields)
