"""The outbox as staff see it: what left (or did not), why, and what the gate decided.

With the default log channel this is where the demo's messages are read. Staff only (the
compliance desk, team leads with back-office rights); addresses and any number in a text are
masked.

Every row says where the message goes: the address it went to, or, for a message still
queued, the address it would use now (it is resolved again at dispatch), and links to its
case when the reader may open it. A reason that only repeats the gate's decision is shown
once, in the gate column. Statuses, the gate's outcomes and its rules read in the page's
language: a rule's Chinese description comes from the pack that decided.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from arrears.contact import gate
from arrears.contact.models import GateDecision, OutboxMessage
from arrears.contact.render import address
from arrears.ledger.masking import mask_text
from arrears.policy import PolicyError, available_packs, load_pack
from arrears.policy.model import Rule
from arrears.web import selectors

STATUSES = [s.value for s in OutboxMessage.Status]
#: Statuses whose message has not been handed to a channel: the address is not fixed yet.
_PENDING = {OutboxMessage.Status.QUEUED, OutboxMessage.Status.SENDING}


@lru_cache(maxsize=16)
def _rules(pack_name: str) -> dict[str, Rule]:
    """The rules of the pack called ``pack_name`` (shipped, or the configured one), by id."""
    try:
        if pack_name in available_packs():
            return {r.id: r for r in load_pack(pack_name).rules}
        configured = gate.pack()
    except PolicyError:  # a broken configured pack: `arrears check` reports it
        return {}
    return {r.id: r for r in configured.rules} if configured.name == pack_name else {}


def _rule_text(pack: str, fired: dict[str, Any], chinese: bool) -> str:
    """One fired rule as the reader reads it: its pack description in Chinese, the gate's own
    (English, specific) explanation otherwise."""
    rule = _rules(pack.split(" v", 1)[0]).get(str(fired.get("id", "")))
    if chinese and rule is not None:
        return rule.description_zh
    return str(fired.get("message", ""))


def _gate_reason(decision: GateDecision) -> str:
    """The ``status_reason`` the dispatcher writes for this decision's rules."""
    return "; ".join(f"{r.get('id')}: {r.get('message')}" for r in decision.rules)


def _shown_reason(message: OutboxMessage, decisions: list[GateDecision]) -> str:
    """The status reason, unless it only repeats the latest gate decision (shown beside it)."""
    reason = message.status_reason
    if decisions and decisions[-1].outcome in ("deny", "defer"):
        said = _gate_reason(decisions[-1])
        if reason in (said, f"deferred: {said}"):
            return ""
    return mask_text(reason)


def _to(message: OutboxMessage) -> tuple[str, bool]:
    """(masked address, whether it is the one the message *would* use if dispatched now)."""
    if message.to_address or message.status not in _PENDING:
        return message.masked_address, False
    planned = address(message.borrower, message.channel)
    return OutboxMessage(channel=message.channel, to_address=planned).masked_address, True


def _decisions(decisions: Iterable[GateDecision], chinese: bool) -> list[dict[str, Any]]:
    return [
        {
            "at": d.at,
            "outcome": d.outcome,
            "pack": d.pack,
            "rules": [
                {"id": r.get("id", ""), "text": mask_text(_rule_text(d.pack, r, chinese))}
                for r in d.rules
            ],
        }
        for d in decisions
    ]


@login_required
def outbox(request: HttpRequest) -> HttpResponse:
    if not (request.user.is_staff or request.user.has_perm("contact.view_outboxmessage")):
        # back office, and compliance (its group holds contact.view_outboxmessage)
        raise PermissionDenied(_("The messages page is for back-office staff."))
    status = request.GET.get("status", "")
    messages = OutboxMessage.objects.select_related("borrower").prefetch_related("decisions")
    if status in STATUSES:
        messages = messages.filter(status=status)
    page = Paginator(messages.order_by("-id"), 50).get_page(request.GET.get("page"))
    chinese = (get_language() or "").startswith("zh")
    case_ids = {m.case_id for m in page.object_list if m.case_id}
    openable = set(
        selectors.visible_cases(request.user).filter(pk__in=case_ids).values_list("pk", flat=True)
    )
    rows = []
    for m in page.object_list:
        decisions = list(m.decisions.all())
        to, planned = _to(m)
        rows.append(
            {
                "message": m,
                "to": to,
                "to_planned": planned,
                "body": mask_text(m.body),
                "reason": _shown_reason(m, decisions),
                "decisions": _decisions(decisions, chinese),
                "case_link": m.case_id in openable,
            }
        )
    return render(
        request,
        "web/outbox.html",
        {"page": page, "rows": rows, "statuses": STATUSES, "status": status},
    )
