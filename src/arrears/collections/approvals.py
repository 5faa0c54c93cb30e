"""Maker-checker approval of concessions (waivers, plan concessions) within role limits.

The rules, in order, for an approver acting on a request of ``amount`` made by ``maker``:

1. the approver must hold a collections role (a ``Collector`` profile) and not have approved
   this request already;
2. the maker approving their own request is allowed only up to their role's ``self_up_to``
   and never when a second approver is required (maker-checker);
3. anyone else may approve up to their role's ``approve_up_to`` (at the limit is allowed);
4. above ``ARREARS_DUAL_APPROVAL_ABOVE[kind]`` the request needs two approvers, neither the
   maker; it stays ``requested`` after the first.

A refusal raises ``ApprovalRefused`` naming the limit; it changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from arrears.collections.models import ApprovalLimit, Collector
from arrears.kernel.errors import ArrearsError


class ApprovalRefused(ArrearsError):
    """An approval was refused by the role limits or the maker-checker rule."""

    code = "approval-refused"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What an accepted approval did: the new approvals list and whether it is now complete."""

    approvals: list[dict[str, Any]]
    complete: bool


def role_of(user: Any) -> str:
    role = Collector.role_of(user)
    if not role:
        raise ApprovalRefused(f"{user.get_username()} has no collections role and cannot approve")
    return role


def limit(kind: str, role: str) -> ApprovalLimit:
    found = ApprovalLimit.objects.filter(kind=kind, role=role).first()
    return found or ApprovalLimit(kind=kind, role=role, self_up_to=0, approve_up_to=0)


def dual_above(kind: str) -> int | None:
    value = settings.ARREARS_DUAL_APPROVAL_ABOVE.get(kind)
    return None if value is None else int(value)


def approve(
    kind: str, amount: int, maker: Any, approver: Any, approvals: list[dict[str, Any]]
) -> Verdict:
    """Check one approval against the rules above; return the updated approvals."""
    role = role_of(approver)
    if any(a["user"] == approver.pk for a in approvals):
        raise ApprovalRefused(f"{approver.get_username()} has already approved this {kind}")
    rules = limit(kind, role)
    threshold = dual_above(kind)
    needs_two = threshold is not None and amount > threshold
    if approver.pk == maker.pk:
        if needs_two:
            raise ApprovalRefused(
                f"maker-checker: {amount} is above {threshold}; two approvers other than "
                "the maker are needed"
            )
        if amount > rules.self_up_to:
            raise ApprovalRefused(
                f"maker-checker: {amount} is above the {role} self-approval limit "
                f"{rules.self_up_to}; someone else must approve"
            )
    elif amount > rules.approve_up_to:
        raise ApprovalRefused(
            f"{amount} is above the {role} approval limit {rules.approve_up_to} for a {kind}"
        )
    entry = {
        "user": approver.pk,
        "username": approver.get_username(),
        "role": role,
        "at": timezone.now().isoformat(),
    }
    done = [*approvals, entry]
    return Verdict(approvals=done, complete=len(done) >= (2 if needs_two else 1))
