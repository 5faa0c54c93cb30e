"""The roles: one Django group per role, holding the book-wide model permissions of the role.

Two things decide what a user may do, and they are kept apart on purpose:

* **which objects** — the selectors (``collections.selectors.visible_cases``, the agency and
  field-visit selectors) scope every page to the user's own cases, placements and visits, from
  the *profiles* (``Collector``, ``AgencyMember``, ``FieldAgent``); someone else's object is a
  404;
* **which kinds of thing, book-wide** — the groups below carry Django model permissions
  (``has_perm``), which the admin, the audit trail (``audit.view_auditentry``), the complaint
  register (``complaints.view_complaint``), the messages page (``contact.view_outboxmessage``)
  and the hold release (``collections.release_any_hold``) check. A model permission has no
  object, so a group holds only what its role may do across the whole book.

:func:`roles_of` reads both the groups and the profiles, so data made before the groups existed
(a ``Collector`` with no group) still has its role. The borrower is not a Django user at all:
the portal signs borrowers in with its own sessions and tokens (``arrears.portal.session``).
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)

__all__ = ["GROUP_PERMISSIONS", "Role", "has_role", "roles_of", "sync_groups"]


class Role(StrEnum):
    """A role's code is its group's name."""

    COLLECTOR = "collector"
    TEAM_LEAD = "team_lead"
    MANAGER = "manager"
    AGENCY_USER = "agency_user"
    FIELD_AGENT = "field_agent"
    COMPLIANCE_OFFICER = "compliance_officer"
    ADMIN = "admin"


#: Every permission there is (the admin group's set): spelled once, read by :func:`sync_groups`.
EVERYTHING = "*"

#: A model permission is book-wide: the admin lists every row of a model one may view, and a
#: ``has_perm`` check has no object. So a group holds only what its role may see or do across
#: the whole book. A collector's, agency user's or field agent's work is all on their own
#: objects (their cases, placements, visits), which their profile and the selectors decide:
#: their groups hold no permission (an empty group still says who holds the role). Team leads
#: and managers enter the admin (``security.ADMIN_ROLES``): they see teams, collectors and
#: limits, never changed by someone they bind (segregation of duties,
#: ``collections.admin.ControlAdmin``), and no model with case or borrower data.
_LEADING_A_TEAM = (
    "collections.view_team",
    "collections.view_collector",
    "collections.view_approvallimit",
)

#: The model permissions (``app_label.codename``) each role's group holds, exactly.
GROUP_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.COLLECTOR: (),
    Role.TEAM_LEAD: (*_LEADING_A_TEAM, "reports.view_reports"),
    Role.MANAGER: (
        *_LEADING_A_TEAM,
        "reports.view_reports",
        "agencies.view_agency",
        "agencies.view_commissiontier",
        "daily.view_dayrun",
    ),
    Role.AGENCY_USER: (),
    Role.FIELD_AGENT: (),
    # book-wide by design: compliance oversees every team's conduct
    Role.COMPLIANCE_OFFICER: (
        "contact.view_gatedecision",
        "contact.view_outboxmessage",
        "contact.view_contactpreference",
        "collections.view_contactattempt",
        "collections.view_promise",
        "collections.view_hold",
        "collections.release_any_hold",
        "complaints.view_complaint",
        "complaints.change_complaint",
        "audit.view_auditentry",
        "legal.view_legalletter",
        "fieldwork.view_fieldvisit",
        "agencies.view_qualityreview",
        "verification.view_credential",
        "quality.view_contactreview",
        "quality.add_contactreview",
        "reports.view_reports",
    ),
    Role.ADMIN: (EVERYTHING,),
}

#: The collections roles a ``Collector`` profile carries (its ``role`` field's values).
COLLECTOR_ROLES = frozenset({Role.COLLECTOR, Role.TEAM_LEAD, Role.MANAGER})


def _permissions(wanted: tuple[str, ...]) -> list[Any]:
    """The ``Permission`` rows for ``wanted``; one whose app is not installed (yet) is skipped
    with a warning, so a group can name the permissions of an app still being built."""
    from django.apps import apps
    from django.contrib.auth.models import Permission

    if EVERYTHING in wanted:
        return list(Permission.objects.all())
    installed = {config.label for config in apps.get_app_configs()}
    found = []
    for name in wanted:
        app_label, _, codename = name.partition(".")
        if app_label not in installed:
            logger.warning("roles: skipping %s (app %s is not installed)", name, app_label)
            continue
        permission = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        if permission is None:
            raise LookupError(f"roles: no permission {name}; fix GROUP_PERMISSIONS")
        found.append(permission)
    return found


def sync_groups(using: str = "default") -> dict[Role, int]:
    """Create or update one group per role to hold exactly its permissions; idempotent.

    Returns how many permissions each group holds. A permission of an installed app that does
    not exist is a mistake in :data:`GROUP_PERMISSIONS` and raises ``LookupError``.
    """
    from django.contrib.auth.models import Group

    held: dict[Role, int] = {}
    with transaction.atomic(using=using):
        for role in Role:
            group, _ = Group.objects.using(using).get_or_create(name=role.value)
            permissions = _permissions(GROUP_PERMISSIONS[role])
            group.permissions.set(permissions)
            held[role] = len(permissions)
    return held


#: Where :func:`roles_of` keeps its answer on the user object, like Django's permission cache:
#: a request's user is asked on every page (the header's admin link), a fresh user object (the
#: next request) asks the database again.
CACHE = "_arrears_roles"


def roles_of(user: Any) -> frozenset[Role]:
    """Every role ``user`` holds: their role groups, their profiles (an active ``Collector``'s
    role, an active agency membership, an active field-agent profile) and ``admin`` for a
    superuser. Anonymous or inactive users hold none."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return frozenset()
    cached: frozenset[Role] | None = getattr(user, CACHE, None)
    if cached is not None:
        return cached
    from arrears.agencies.models import AgencyMember
    from arrears.collections.models import Collector
    from arrears.fieldwork.models import FieldAgent

    found: set[Role] = set()
    if user.is_superuser:
        found.add(Role.ADMIN)
    codes = {role.value for role in Role}
    found.update(Role(name) for name in user.groups.values_list("name", flat=True) if name in codes)
    collector_role = Collector.role_of(user)
    if collector_role in codes:
        found.add(Role(collector_role))
    if AgencyMember.objects.filter(user_id=user.pk, active=True).exists():
        found.add(Role.AGENCY_USER)
    if FieldAgent.of(user) is not None:
        found.add(Role.FIELD_AGENT)
    setattr(user, CACHE, frozenset(found))
    return frozenset(found)


def has_role(user: Any, *roles: Role) -> bool:
    """Whether ``user`` holds at least one of ``roles``."""
    return not roles_of(user).isdisjoint(roles)
