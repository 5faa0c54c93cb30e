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

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from arrears.collections import bulk
from arrears.collections.models import Case, CaseEvent


def day_key(case: Case | int, kind: str, to: str, on: date) -> str:
    """The key of a change a daily run makes at most once per case, kind, value and day (so
    re-running the day writes nothing new). ``case`` is the case or its id."""
    pk = case if isinstance(case, int) else case.pk
    return f"{pk}:{kind}:{to or '-'}:{on.isoformat()}"


@dataclass(frozen=True, slots=True)
class DayEvent:
    """One change a day run makes to a case, before it is written (see :func:`record_day`)."""

    case_id: int
    kind: str
    frm: str
    to: str
    cause: str


def record_day(events: Iterable[DayEvent], on: date, *, strategy: str = "") -> int:
    """Record a day run's changes in bulk, each keyed by :func:`day_key`; returns how many
    were written now.

    The same as calling :func:`record` with the day key for each, in order, without a query
    per event: a key already stored (an earlier run of the day) or repeated in ``events`` is
    written once, its first values winning — repeats are dropped here, stored keys by the
    insert's ``ON CONFLICT DO NOTHING`` on the unique key, which also gives the count. The
    day's thousands of events cost one prepared insert (:func:`bulk.insert_rows`) and no
    lookup. No
    ``post_save`` signals fire, which is what the audit receivers want of keyed events anyway
    (they count them per day instead).
    """
    wanted: dict[str, DayEvent] = {}
    for event in events:
        wanted.setdefault(day_key(event.case_id, event.kind, event.to, on), event)
    rows = [
        (event.case_id, on, event.kind, event.frm, event.to, event.cause, strategy, key)
        for key, event in wanted.items()
    ]
    return bulk.insert_rows(
        CaseEvent,
        ["case", "on", "kind", "from_value", "to_value", "cause", "strategy", "key"],
        rows,
    )


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
