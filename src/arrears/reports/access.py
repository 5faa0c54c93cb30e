"""Who sees which report, in two steps.

1. **The door** (:func:`may_open`, the index and the header's link): the permission
   ``reports.view_reports``, which the team lead's, manager's and compliance officer's groups
   hold, or a superuser. Collectors, agency users and field agents hold no permission, and a
   user whose collector role is *collector* is refused even if given it. Borrowers are not
   Django users at all.
2. **The audience** (:func:`may_view`, per report): one of the roles of
   ``ReportSpec.audience`` (by default :data:`base.DEFAULT_AUDIENCE`: managers, team leads,
   compliance officers, admins). :data:`NEVER` is removed from every audience, whatever a spec
   says. Superusers see every report.
"""

from __future__ import annotations

from typing import Any

from arrears.accounts.roles import Role, roles_of
from arrears.collections.models import Collector
from arrears.reports.base import REGISTRY, ReportSpec, in_order, load_all

#: Roles never shown a report, whatever its spec says.
NEVER = frozenset({Role.COLLECTOR, Role.AGENCY_USER, Role.FIELD_AGENT})


#: The permission that opens the reports at all (the lead's, manager's and compliance
#: officer's groups hold it; ``accounts.roles.GROUP_PERMISSIONS``).
OPEN = "reports.view_reports"


def may_open(user: Any) -> bool:
    """Whether ``user`` may open the reports at all (the index, the header's link): a
    superuser, or a holder of :data:`OPEN` whose collector role is not *collector* (like the
    compliance pages: a permission given by mistake does not open book-wide figures to a
    collector). Which reports they then see is :func:`may_view`, per report. Reads only the
    permission cache and the collector profile the header has already loaded."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    if user.is_superuser:
        return True
    return user.has_perm(OPEN) and Collector.role_of(user) != str(Collector.Role.COLLECTOR)


def _roles(codes: frozenset[str]) -> frozenset[Role]:
    return frozenset(Role(code) for code in codes if code in Role._value2member_map_) - NEVER


def may_view(user: Any, spec: ReportSpec) -> bool:
    """Whether ``user`` may open ``spec``'s page, downloads and see it in the index: they may
    open the reports, and hold a role of the spec's audience."""
    if not may_open(user):
        return False
    if user.is_superuser:
        return True
    return not roles_of(user).isdisjoint(_roles(spec.audience))


def visible_reports(user: Any) -> list[ReportSpec]:
    """The registered reports ``user`` may see, in their ``order`` (then name)."""
    load_all()
    specs = in_order(REGISTRY.values())
    return [spec for spec in specs if may_view(user, spec)]
