"""Maker-checker approval of concessions (waivers, plan concessions) within role limits.

The rules, in order, for an approver acting on a request of ``kind`` made by ``maker``:

1. the approver holds a collections role (a ``Collector`` profile);
2. the approver is not the maker — never, whatever the amount and the role (maker-checker);
3. the approver has not approved this request already;
4. the *running total* (:class:`Exposure`) is within the approver's role limit
   (``ApprovalLimit.approve_up_to``; at the limit is allowed). The running total is this request
   plus the same kind of concession on the borrower's loans requested or approved in the last
   ``ARREARS_CONCESSION_WINDOW_DAYS`` days (rejected and reversed ones do not count), so four
   requests of 50.00 weigh 200.00 against a 50.00 limit;
5. above ``ARREARS_DUAL_APPROVAL_ABOVE[kind]`` (on the same running total, so splitting does not
   avoid it) two approvers are needed, neither the maker, and the request stays ``requested``
   after the first. One of the two must have a limit covering the running total (the
   authority); the other is the second pair of eyes and needs only a limit above zero for that
   kind (a team lead seconding a manager). Two approvers who both fall short are refused.

A refusal raises :class:`ApprovalRefused` with a stable code naming the limit and who could
approve instead; it changes nothing. :func:`approvers` answers the other question a request
page asks — who may approve this now — from the same limits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from arrears import errorcodes
from arrears.collections.models import ApprovalLimit, Collector
from arrears.kernel.errors import ArrearsError
from arrears.kernel.money import Money

errorcodes.define(
    {
        "approval-no-role": "%(user)s has no collections role and cannot approve",
        "approval-own-request": (
            "maker-checker: %(user)s made this request and may not approve it, whatever the "
            "amount; someone else must approve"
        ),
        "approval-already-given": (
            "%(user)s has already approved this request; a second approver other than the "
            "maker is needed"
        ),
        "approval-above-limit": (
            "%(total)s of %(kind)s on this borrower's loans in the last %(days)s days (this "
            "request's %(amount)s included) is above the %(role)s limit %(limit)s; it needs a "
            "%(needed_role)s (limit %(needed_limit)s)"
        ),
        "approval-above-every-limit": (
            "%(total)s of %(kind)s on this borrower's loans in the last %(days)s days (this "
            "request's %(amount)s included) is above every role's limit (the highest, "
            "%(role)s, is %(limit)s); raise a limit in Admin → Approval limits"
        ),
    }
)


class ApprovalRefused(ArrearsError):
    """An approval was refused by the role limits or the maker-checker rule."""

    code = "approval-refused"


#: The concessions of a kind, as a running total names them ("CN¥200.00 of waivers …").
KIND_TOTALS: dict[str, Promise] = {
    ApprovalLimit.Kind.WAIVER: gettext_lazy("waivers"),
    ApprovalLimit.Kind.PLAN: gettext_lazy("plan concessions"),
}


def role_name(role: str) -> Promise | str:
    """The role's label, translated when shown (``Team lead`` / ``组长``)."""
    try:
        return Collector.Role(role).label
    except ValueError:
        return role


def _refuse(code: str, **params: Any) -> ApprovalRefused:
    # The error's own text (logs, the command line) is English; a page shows ``describe``.
    with translation.override("en"):
        return errorcodes.refuse(ApprovalRefused, code, **params)


@dataclass(frozen=True, slots=True)
class Exposure:
    """What an approval of one request weighs: the request and the running totals it joins.

    ``amount``: this request (a waiver's amount, a plan's concession), in minor units of
    ``currency``. ``loan_total``: it plus the same kind of concession on its loan requested or
    approved in the last ``window_days``. ``borrower_total``: the same over every loan of the
    borrower in that currency — at least ``loan_total``, so it is the one limits bind on.
    """

    kind: str
    currency: str
    amount: int
    loan_total: int
    borrower_total: int
    window_days: int

    @property
    def total(self) -> int:
        """The running total a limit must cover (the loan's is part of the borrower's)."""
        return max(self.amount, self.loan_total, self.borrower_total)

    def money(self, minor: int) -> Money:
        return Money(minor, self.currency)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What an accepted approval did: the new approvals list and whether it is now complete."""

    approvals: list[dict[str, Any]]
    complete: bool


def window_days() -> int:
    """``ARREARS_CONCESSION_WINDOW_DAYS``: how far back a running total looks."""
    return int(settings.ARREARS_CONCESSION_WINDOW_DAYS)


def limits(kind: str) -> dict[str, int]:
    """Each role's limit for ``kind``; a role without a row approves nothing."""
    found = ApprovalLimit.objects.filter(kind=kind).values_list("role", "approve_up_to")
    return {role: int(up_to) for role, up_to in found}


def dual_above(kind: str) -> int | None:
    value = settings.ARREARS_DUAL_APPROVAL_ABOVE.get(kind)
    return None if value is None else int(value)


def approvals_needed(kind: str, total: int) -> int:
    """Two approvers above the dual-approval threshold, otherwise one."""
    threshold = dual_above(kind)
    return 2 if threshold is not None and total > threshold else 1


def covering(kind: str, total: int, table: Mapping[str, int] | None = None) -> list[str]:
    """The roles whose limit covers ``total``, lowest limit first."""
    table = limits(kind) if table is None else table
    return sorted((r for r, up_to in table.items() if up_to >= total), key=lambda r: table[r])


def _above_limit(exposure: Exposure, role: str, table: Mapping[str, int]) -> ApprovalRefused:
    common = {
        "total": exposure.money(exposure.total),
        "amount": exposure.money(exposure.amount),
        "kind": KIND_TOTALS.get(exposure.kind, exposure.kind),
        "days": exposure.window_days,
    }
    roles = covering(exposure.kind, exposure.total, table)
    if roles:
        return _refuse(
            "approval-above-limit",
            **common,
            role=role_name(role),
            limit=exposure.money(table.get(role, 0)),
            needed_role=role_name(roles[0]),
            needed_limit=exposure.money(table[roles[0]]),
        )
    highest = max(table, key=lambda r: table[r]) if table else role
    return _refuse(
        "approval-above-every-limit",
        **common,
        role=role_name(highest),
        limit=exposure.money(table.get(highest, 0)),
    )


def screen(maker: Any, approver: Any, approvals: list[dict[str, Any]]) -> str:
    """Rules 1–3, which need no amount: the approver's role, or a refusal."""
    role = Collector.role_of(approver)
    if not role:
        raise _refuse("approval-no-role", user=approver.get_username())
    if approver.pk == maker.pk:
        raise _refuse("approval-own-request", user=approver.get_username())
    if any(a.get("user") == approver.pk for a in approvals):
        raise _refuse("approval-already-given", user=approver.get_username())
    return role


def approve(
    exposure: Exposure, maker: Any, approver: Any, approvals: list[dict[str, Any]]
) -> Verdict:
    """Check one approval against the rules above; return the updated approvals.

    Each entry records who approved, in which role, when, and the running total they approved
    against, so the audit trail shows what each approver saw.
    """
    role = screen(maker, approver, approvals)
    table = limits(exposure.kind)
    needed = approvals_needed(exposure.kind, exposure.total)
    if not _acceptable(table.get(role, 0), exposure.total, needed, approvals, table):
        raise _above_limit(exposure, role, table)
    entry = {
        "user": approver.pk,
        "username": approver.get_username(),
        "role": role,
        "at": timezone.now().isoformat(),
        "amount": exposure.amount,
        "total": exposure.total,
    }
    done = [*approvals, entry]
    covered = any(table.get(a.get("role", ""), 0) >= exposure.total for a in done)
    return Verdict(approvals=done, complete=covered and len(done) >= needed)


def _acceptable(
    limit: int,
    total: int,
    needed: int,
    approvals: list[dict[str, Any]],
    table: Mapping[str, int],
) -> bool:
    """Rule 4 and 5: within the limit, or the non-covering half of a dual approval."""
    if limit >= total:
        return True
    others_cover = all(table.get(a.get("role", ""), 0) >= total for a in approvals)
    return needed == 2 and limit > 0 and others_cover


@dataclass(frozen=True, slots=True)
class Approvers:
    """Who may approve a request now, from the same limits :func:`approve` applies.

    ``users``: (username, role) of the candidates who may approve now (rules 4 and 5: a limit
    covering the running total, or the second pair of eyes of a dual approval), the maker and
    earlier approvers left out. ``roles``: the roles that cover it, lowest limit first, with
    their limits; when empty, ``highest`` is the highest limit (nobody can approve until an
    admin raises one). ``still_needed``: approvals missing (two above the dual threshold).
    """

    exposure: Exposure
    users: tuple[tuple[str, str], ...]
    roles: tuple[tuple[str, int], ...]
    highest: tuple[str, int] | None
    still_needed: int


def approvers(
    exposure: Exposure,
    maker: Any,
    approvals: list[dict[str, Any]],
    candidates: Iterable[Collector],
    table: Mapping[str, int] | None = None,
) -> Approvers:
    """Which ``candidates`` (the collectors who can see the request) may approve it now."""
    table = limits(exposure.kind) if table is None else table
    total = exposure.total
    roles = covering(exposure.kind, total, table)
    needed = approvals_needed(exposure.kind, total)
    done = {a.get("user") for a in approvals}
    free = [c for c in candidates if c.user_id != maker.pk and c.user_id not in done]
    covered = any(table.get(a.get("role", ""), 0) >= total for a in approvals)
    # a second pair of eyes is no use while nobody free (or already recorded) has the authority
    authority = covered or any(table.get(c.role, 0) >= total for c in free)
    users = tuple(
        (c.user.get_username(), c.role)
        for c in free
        if authority and _acceptable(table.get(c.role, 0), total, needed, approvals, table)
    )
    highest = max(table.items(), key=lambda item: item[1]) if table and not roles else None
    return Approvers(
        exposure=exposure,
        users=users,
        roles=tuple((r, table[r]) for r in roles),
        highest=highest,
        still_needed=max(needed - len(approvals), 0 if covered else 1),
    )
