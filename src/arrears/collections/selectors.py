"""Who may see which case: the one rule every app's pages and services check (collectors,
team leads and managers, superusers). It lives with the cases, so the legal, field-visit and
complaint apps ask it without importing the web app."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from arrears.collections.models import Case, Collector

__all__ = ["collector_of", "is_supervisor", "visible_cases"]


def collector_of(user: Any) -> Collector | None:
    """The user's collector profile, or ``None`` for a user who works no cases."""
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        profile: Collector = user.collector
    except Collector.DoesNotExist:
        return None
    return profile


def is_supervisor(profile: Collector | None) -> bool:
    """Team leads and managers see and reassign their whole team's cases."""
    return profile is not None and profile.role in (
        Collector.Role.TEAM_LEAD,
        Collector.Role.MANAGER,
    )


def visible_cases(user: Any) -> QuerySet[Case]:
    """Every case (open or closed) ``user`` may open, or none.

    A collector: the cases assigned to them. A team lead or manager: the cases of their team's
    collectors, and the unassigned cases waiting in the stage their team works (so they can
    hand them out). A superuser: everything. Anyone else: nothing — the caller answers 404, so
    a case's existence is not revealed.
    """
    if getattr(user, "is_superuser", False):
        return Case.objects.all()
    profile = collector_of(user)
    if profile is None:
        return Case.objects.none()
    if is_supervisor(profile):
        return Case.objects.filter(
            Q(collector__team_id=profile.team_id)
            | Q(collector__isnull=True, owner=profile.team.owner)
        )
    return Case.objects.filter(collector=profile)
