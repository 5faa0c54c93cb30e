"""Who may release a hold early, by its reason: the table is data, the check one function.

Placing a hold is open to anyone working the case — it only stops collection, and a collector
who hears "my father died" must be able to stop the calls at once. *Releasing* one resumes
collection, so it depends on why the hold exists:

============ ====================================== ============================================
reason       may release                            why
============ ====================================== ============================================
hardship     collector, team lead, manager          the borrower's own circumstance, low risk:
                                                    the collector who agreed the pause may end it
complaint    team lead, manager                     a complaint is closed by a supervisor (or
                                                    compliance), never by the collector it is
                                                    about
dispute      team lead, manager                     the debt is contested until someone checks
                                                    the evidence; raised automatically by a
                                                    "disputes the debt" contact outcome
deceased     manager                                collection from an estate needs the
                                                    documents checked by a manager
legal        manager                                proceedings (litigation, insolvency) end on
                                                    a court's or a lawyer's word
plan_request collector, team lead, manager          the borrower's own request pauses reminders
                                                    while it waits; the portal releases it itself
                                                    when the request is approved or rejected
============ ====================================== ============================================

A superuser, and a user with the ``collections.release_any_hold`` permission (a compliance
officer, given it through a group in the admin), may release any hold. Every release records
who made it (``Hold.released_by`` and the case event's actor).
"""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy

from arrears import errorcodes
from arrears.collections.models import Collector, Hold
from arrears.collections.services import CollectionsError

errorcodes.define(
    {
        "hold-already-released": "hold #%(hold)s was already released on %(day)s",
        "hold-release-needs-user": "a hold release must name who released it",
        "hold-release-not-allowed": (
            "%(user)s (%(role)s) may not release a %(reason)s hold; releasing it needs: "
            "%(roles)s (or compliance)"
        ),
    }
)

_ROLE = Collector.Role
#: Which collections roles may release a hold, per reason (see the module's table).
RELEASE_ROLES: dict[str, frozenset[str]] = {
    Hold.Reason.HARDSHIP: frozenset({_ROLE.COLLECTOR, _ROLE.TEAM_LEAD, _ROLE.MANAGER}),
    Hold.Reason.COMPLAINT: frozenset({_ROLE.TEAM_LEAD, _ROLE.MANAGER}),
    Hold.Reason.DISPUTE: frozenset({_ROLE.TEAM_LEAD, _ROLE.MANAGER}),
    Hold.Reason.DECEASED: frozenset({_ROLE.MANAGER}),
    Hold.Reason.LEGAL: frozenset({_ROLE.MANAGER}),
    Hold.Reason.PLAN_REQUEST: frozenset({_ROLE.COLLECTOR, _ROLE.TEAM_LEAD, _ROLE.MANAGER}),
}
#: A hold's reason as a refusal names it ("may not release a complaint hold").
REASON_NAMES = {
    Hold.Reason.COMPLAINT: gettext_lazy("complaint"),
    Hold.Reason.DISPUTE: gettext_lazy("dispute"),
    Hold.Reason.HARDSHIP: gettext_lazy("hardship"),
    Hold.Reason.DECEASED: gettext_lazy("deceased"),
    Hold.Reason.LEGAL: gettext_lazy("legal"),
    Hold.Reason.PLAN_REQUEST: gettext_lazy("plan request"),
}
#: The permission of a compliance seat: release a hold of any reason.
RELEASE_ANY = "collections.release_any_hold"


def may_release(reason: str, user: Any) -> bool:
    """Whether ``user`` may release a hold of ``reason`` (an unknown reason: only compliance)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user.has_perm(RELEASE_ANY):
        return True
    return Collector.role_of(user) in RELEASE_ROLES.get(reason, frozenset())


def releasable_reasons(user: Any) -> frozenset[str]:
    """The hold reasons ``user`` may release (for a page to show the button only to them)."""
    return frozenset(reason for reason in Hold.Reason.values if may_release(reason, user))


def check_release(hold: Hold, user: Any) -> None:
    """Refuse a release ``user`` may not make, or of a hold already released."""
    with translation.override("en"):  # the error's own text is English; pages use describe
        if hold.released_on is not None:
            raise errorcodes.refuse(
                CollectionsError, "hold-already-released", hold=hold.pk, day=hold.released_on
            )
        if user is None:
            raise errorcodes.refuse(CollectionsError, "hold-release-needs-user")
        if not may_release(hold.reason, user):
            role = Collector.role_of(user)
            raise errorcodes.refuse(
                CollectionsError,
                "hold-release-not-allowed",
                user=user.get_username(),
                role=_ROLE(role).label if role else gettext_lazy("no role"),
                reason=REASON_NAMES.get(hold.reason, hold.reason),
                roles=[_ROLE(r).label for r in _ordered(RELEASE_ROLES.get(hold.reason))],
            )


def _ordered(roles: frozenset[str] | None) -> list[str]:
    order = list(_ROLE.values)
    return sorted(roles or (), key=order.index)
