"""Bulk reassignment: a team lead hands many of their team's cases to one collector at once.

It is :func:`arrears.collections.services.reassign` applied to a batch, all or nothing: one
transaction, every case checked before any is moved, and the first case that may not move
refuses the whole batch with a message naming it (a lead who ticked sixty cases learns which
one is wrong, and nothing half-happened). Each moved case is saved and gets its ``assigned``
:class:`~arrears.collections.models.CaseEvent` exactly as a single reassignment does, so the
case history and the audit chain cannot tell the two paths apart. A case already with the
target collector is left alone and records nothing, so submitting the same form twice changes
nothing the second time.

Who may move what is the same rule as everywhere: only cases the lead may see
(:func:`~arrears.collections.selectors.visible_cases`; a case they may not see is refused as if
it did not exist), only to an available collector of the lead's own team (a superuser: any
team), only open cases, and only to a team working the case's stage owner.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction

from arrears import errorcodes
from arrears.collections import events
from arrears.collections.models import CaseEvent, Collector, WorkItem
from arrears.collections.selectors import collector_of, visible_cases
from arrears.collections.services import CollectionsError
from arrears.collections.workflow import business_date

#: The most cases one request may move. A page of the team list is far below it; the bound
#: keeps one transaction (and the row locks it holds) short.
MAX_BATCH = 500

errorcodes.define(
    {
        "bulk-reassign-empty": "select at least one case",
        "bulk-reassign-too-many": "at most %(max)s cases at once (%(count)s selected)",
        "bulk-reassign-other-team": "%(collector)s is not in your team",
        "bulk-reassign-not-visible": "case %(case)s is not one of your team's cases",
        "bulk-reassign-closed": "case %(case)s is closed",
        "bulk-reassign-other-owner": (
            "case %(case)s is in the %(owner)s queue, which %(collector)s (%(works)s) does not work"
        ),
    }
)


@dataclass(frozen=True)
class BulkReassignment:
    """What a batch did: the cases moved now and those already with the collector."""

    collector: Collector
    moved: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)


def _ids(case_ids: Iterable[int | str]) -> list[int]:
    """The distinct ids in the order given (a repeated tick counts once)."""
    seen: dict[int, None] = {}
    for value in case_ids:
        seen.setdefault(int(value), None)
    return list(seen)


def reassign_many(
    case_ids: Iterable[int | str],
    collector: Collector,
    *,
    by: Any,
    today: date | None = None,
) -> BulkReassignment:
    """Move every case of ``case_ids`` to ``collector``, or none of them.

    Refused with :class:`~arrears.collections.services.CollectionsError` (an error code naming
    the first offending case or the collector) when ``by`` supervises no team, the batch is
    empty or larger than :data:`MAX_BATCH`, the collector is outside ``by``'s team or not
    available, or any case is not visible to ``by``, closed, or in a stage owner's queue the
    collector's team does not work.
    """
    day = today or business_date()
    ids = _ids(case_ids)
    if not Collector.supervises(by):
        raise errorcodes.refuse(CollectionsError, "reassign-not-supervisor")
    if not ids:
        raise errorcodes.refuse(CollectionsError, "bulk-reassign-empty", field="cases")
    if len(ids) > MAX_BATCH:
        raise errorcodes.refuse(
            CollectionsError, "bulk-reassign-too-many", field="cases", max=MAX_BATCH, count=len(ids)
        )
    profile = collector_of(by)
    if not getattr(by, "is_superuser", False) and (
        profile is None or collector.team_id != profile.team_id
    ):
        raise errorcodes.refuse(
            CollectionsError,
            "bulk-reassign-other-team",
            field="collector",
            collector=str(collector),
        )
    if not collector.available:
        raise errorcodes.refuse(
            CollectionsError, "reassign-unavailable", field="collector", collector=str(collector)
        )
    result = BulkReassignment(collector=collector)
    with transaction.atomic():
        # lock the rows: a concurrent single reassignment or daily run waits for this batch
        found = {
            case.pk: case
            for case in visible_cases(by)
            .filter(pk__in=ids)
            .select_related("collector__user")
            .select_for_update(of=("self",))
        }
        for pk in ids:
            case = found.get(pk)
            if case is None:
                raise errorcodes.refuse(
                    CollectionsError, "bulk-reassign-not-visible", field="cases", case=pk
                )
            if not case.is_open:
                raise errorcodes.refuse(
                    CollectionsError, "bulk-reassign-closed", field="cases", case=pk
                )
            if case.owner and case.owner != collector.team.owner:
                raise errorcodes.refuse(
                    CollectionsError,
                    "bulk-reassign-other-owner",
                    field="cases",
                    case=pk,
                    owner=case.owner,
                    collector=str(collector),
                    works=collector.team.owner,
                )
        after = collector.user.get_username()
        cause = f"reassigned by {by.get_username()} (bulk)"
        for pk in ids:
            case = found[pk]
            if case.collector_id == collector.pk:
                result.unchanged.append(pk)
                continue
            before = case.collector.user.get_username() if case.collector else ""
            case.collector = collector
            case.assigned_on = day
            case.save(update_fields=["collector", "assigned_on"])
            events.record(case, CaseEvent.Kind.ASSIGNED, before, after, cause, by, day)
            result.moved.append(pk)
        if result.moved:
            WorkItem.objects.filter(
                case_id__in=result.moved, status=WorkItem.Status.PENDING
            ).update(collector=collector)
    return result
