"""The dispatcher: claim queued messages safely, re-check, render, gate, send, record.

Several dispatchers may run at once. First, every queued message whose validity has passed
(``expires_at``, see ``contact.outbox``) is marked ``expired`` with the reason — a backlog is
never sent all at once. A message is then *claimed* by a conditional update
(``status='queued' → 'sending'`` with a lease), which exactly one dispatcher can win on any
database; on PostgreSQL the candidates are first picked with ``SELECT … FOR UPDATE SKIP
LOCKED`` so dispatchers do not even contend. Just before sending, each message is re-checked:
if there is nothing to send any more it is suppressed with the true cause (``contact.render``);
otherwise it is rendered with the residual *as of now* and put to the compliance gate, whose
decision is recorded (deny → suppressed, defer → back to the queue until the gate's next
allowed time, or expired at once when that time is past the message's validity).

Crash safety: ``handed_at`` is committed before the channel is called. A dispatcher that dies
leaves its claimed messages in ``sending``; once their lease expires, those never handed over
go back to the queue (nothing lost), and those handed over become ``uncertain`` — never re-sent
automatically, because the provider may already have delivered them (nobody contacted twice).
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from arrears.collections.models import WorkItem
from arrears.contact import gate
from arrears.contact.models import OutboxMessage
from arrears.contact.render import Rendered, render_message
from arrears.kernel.errors import ArrearsError

#: Retries with exponential backoff (1, 2, 4, 8 minutes), then the message fails.
MAX_ATTEMPTS = 5
DEFAULT_LEASE = timedelta(minutes=5)


@dataclass
class DispatchSummary:
    """What one pass (or several, added up) did; ``claimed`` is how many messages were due."""

    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    suppressed: int = 0
    expired: int = 0
    failed: int = 0
    retried: int = 0
    recovered: int = 0
    uncertain: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        """One line, printed whatever happened (``0 due; 0 sent, …`` when nothing was due)."""
        return (
            f"{self.claimed} due; {self.sent} sent, {self.deferred} deferred, "
            f"{self.suppressed} suppressed, {self.expired} expired, {self.failed} failed, "
            f"{self.retried} to retry; {self.recovered} recovered, {self.uncertain} uncertain"
        )

    def add(self, other: DispatchSummary) -> None:
        """Add another pass's counts (``dispatch --once`` over several batches)."""
        for name in (
            "claimed",
            "sent",
            "deferred",
            "suppressed",
            "expired",
            "failed",
            "retried",
            "recovered",
            "uncertain",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def fault_point(stage: str) -> None:
    """Where crash tests stop a real dispatcher (``ARREARS_FAULT_PAUSE=<stage>``)."""
    if os.environ.get("ARREARS_FAULT_PAUSE") != stage:
        return
    Path(os.environ["ARREARS_FAULT_FILE"]).touch()
    time.sleep(600)


def recover(now: datetime, summary: DispatchSummary) -> None:
    """Messages of dispatchers whose lease expired: re-queue or mark uncertain (see above)."""
    stale = OutboxMessage.objects.filter(status=OutboxMessage.Status.SENDING, lease_until__lt=now)
    summary.recovered += stale.filter(handed_at__isnull=True).update(
        status=OutboxMessage.Status.QUEUED, lease_owner="", lease_until=None
    )
    summary.uncertain += stale.filter(handed_at__isnull=False).update(
        status=OutboxMessage.Status.UNCERTAIN,
        status_reason="the dispatcher stopped after handing it to the channel; check the "
        "provider before sending again",
    )


def _expired_reason(expires_at: datetime, now: datetime) -> str:
    last = timezone.localtime(expires_at) - timedelta(microseconds=1)
    return (
        f"expired: valid through {last:%Y-%m-%d} (ARREARS_MESSAGE_VALID_DAYS), not sent by "
        f"{timezone.localtime(now):%Y-%m-%d %H:%M}"
    )


def expire(now: datetime, summary: DispatchSummary) -> None:
    """Mark every queued message whose validity has passed ``expired``, with the reason, and
    cancel its work item. One UPDATE per distinct expiry instant (a day's messages share one),
    each conditional on ``queued``, so a message being claimed is never both sent and expired.
    """
    stale = OutboxMessage.objects.filter(status=OutboxMessage.Status.QUEUED, expires_at__lte=now)
    for expires_at in stale.values_list("expires_at", flat=True).distinct().order_by():
        reason = _expired_reason(expires_at, now)
        group = stale.filter(expires_at=expires_at)
        items = list(group.exclude(work_item=None).values_list("work_item_id", flat=True))
        summary.expired += group.update(status=OutboxMessage.Status.EXPIRED, status_reason=reason)
        WorkItem.objects.filter(pk__in=items, status=WorkItem.Status.PENDING).update(
            status=WorkItem.Status.CANCELLED,
            status_reason=f"message {reason}"[:200],
            completed_at=now,
        )


def claim(worker: str, now: datetime, batch: int, lease: timedelta) -> list[int]:
    """Claim up to ``batch`` due messages for ``worker``; returns their ids."""
    due = Q(status=OutboxMessage.Status.QUEUED, not_before__lte=now) & (
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )
    with transaction.atomic():
        candidates = OutboxMessage.objects.filter(due).order_by("not_before", "id")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        ids = list(candidates.values_list("id", flat=True)[:batch])
        won = []
        for pk in ids:
            if OutboxMessage.objects.filter(due, pk=pk).update(
                status=OutboxMessage.Status.SENDING, lease_owner=worker, lease_until=now + lease
            ):
                won.append(pk)
    return won


Channels = Mapping[str, Any]


def dispatch_once(
    channels: Channels,
    *,
    now: Callable[[], datetime] = timezone.now,
    batch: int = 50,
    lease: timedelta = DEFAULT_LEASE,
    worker: str | None = None,
) -> DispatchSummary:
    """Recover stale leases, expire what is no longer worth sending, then claim and process
    one batch."""
    me = worker or worker_id()
    summary = DispatchSummary()
    recover(now(), summary)
    expire(now(), summary)
    ids = claim(me, now(), batch, lease)
    summary.claimed = len(ids)
    for pk in ids:
        message = OutboxMessage.objects.select_related("borrower").get(pk=pk)
        _process(message, channels, now(), me, summary)
        fault_point("after-message")
    return summary


def send_now(
    message: OutboxMessage,
    channels: Channels,
    *,
    now: datetime | None = None,
    lease: timedelta = DEFAULT_LEASE,
) -> str:
    """Save a new ``message`` already claimed by this caller and process it at once — a
    request-time send, such as a portal sign-in code the person is waiting for; returns its
    status afterwards. It takes a dispatcher's path (render, gate, send, record), so nothing
    skips the gate, and no other dispatcher can claim it in between: it is never ``queued``."""
    at = now or timezone.now()
    me = worker_id()
    message.status = OutboxMessage.Status.SENDING
    message.lease_owner = me
    message.lease_until = at + lease
    message.save()
    _process(message, channels, at, me, DispatchSummary())
    return str(OutboxMessage.objects.values_list("status", flat=True).get(pk=message.pk))


def _finish(message: OutboxMessage, worker: str, **changes: Any) -> None:
    """Write the outcome, but only while this worker still holds the message."""
    OutboxMessage.objects.filter(
        pk=message.pk, status=OutboxMessage.Status.SENDING, lease_owner=worker
    ).update(lease_owner="", lease_until=None, **changes)


def _work_item(message: OutboxMessage, status: str, reason: str = "") -> None:
    if message.work_item_id:
        WorkItem.objects.filter(pk=message.work_item_id).update(
            status=status, status_reason=reason[:200], completed_at=timezone.now()
        )


def _expire_one(message: OutboxMessage, worker: str, reason: str, summary: DispatchSummary) -> None:
    _finish(message, worker, status=OutboxMessage.Status.EXPIRED, status_reason=reason)
    _work_item(message, WorkItem.Status.CANCELLED, f"message {reason}")
    summary.expired += 1


def _process(
    message: OutboxMessage, channels: Channels, now: datetime, worker: str, summary: DispatchSummary
) -> None:
    if message.expires_at is not None and message.expires_at <= now:  # expired while claimed
        _expire_one(message, worker, _expired_reason(message.expires_at, now), summary)
        return
    try:
        rendered = render_message(message, now)
    except ArrearsError as error:  # no active template, a variable we cannot fill
        _finish(message, worker, status=OutboxMessage.Status.FAILED, status_reason=str(error))
        _work_item(message, WorkItem.Status.CANCELLED, f"cannot render: {error}"[:200])
        summary.failed += 1
        return
    if isinstance(rendered, str):  # nothing to send: a reason
        reason = rendered
        _finish(message, worker, status=OutboxMessage.Status.SUPPRESSED, status_reason=reason)
        _work_item(message, WorkItem.Status.SUPPRESSED, reason)
        summary.suppressed += 1
        return
    decision = gate.check(message, now, rendered.text_for_gate, rendered.facts)
    reasons = "; ".join(f"{f.rule_id}: {f.message}" for f in decision.fired)
    if decision.outcome == "deny":
        _finish(message, worker, status=OutboxMessage.Status.SUPPRESSED, status_reason=reasons)
        _work_item(message, WorkItem.Status.SUPPRESSED, f"gate: {reasons}"[:200])
        summary.suppressed += 1
        return
    if decision.outcome == "defer":
        later = decision.next_allowed
        if message.expires_at is not None and later is not None and later >= message.expires_at:
            last = timezone.localtime(message.expires_at) - timedelta(microseconds=1)
            reason = (
                f"expired: deferred to {timezone.localtime(later):%Y-%m-%d %H:%M} ({reasons}), "
                f"after its validity (through {last:%Y-%m-%d}, ARREARS_MESSAGE_VALID_DAYS)"
            )
            _expire_one(message, worker, reason, summary)
            return
        _finish(
            message,
            worker,
            status=OutboxMessage.Status.QUEUED,
            not_before=decision.next_allowed,
            status_reason=f"deferred: {reasons}",
        )
        summary.deferred += 1
        return
    _send(message, rendered, channels, worker, summary, now)


def _send(
    message: OutboxMessage,
    rendered: Rendered,
    channels: Channels,
    worker: str,
    summary: DispatchSummary,
    now: datetime,
) -> None:
    channel = channels.get(message.channel)
    if channel is None:
        _finish(
            message,
            worker,
            status=OutboxMessage.Status.FAILED,
            status_reason=f"no channel configured for {message.channel}",
        )
        summary.failed += 1
        return
    OutboxMessage.objects.filter(pk=message.pk, lease_owner=worker).update(
        handed_at=now,
        to_address=rendered.to,
        subject=rendered.subject,
        body=rendered.body if rendered.record_body is None else rendered.record_body,
        verification_code=rendered.verification_code,
        amount_due_minor=rendered.amount_due_minor,
        attempts=message.attempts + 1,
    )
    result = channel.send(rendered.outbound(message))
    if result.status == "sent":
        _finish(
            message,
            worker,
            status=OutboxMessage.Status.SENT,
            provider_ref=result.provider_ref,
            sent_at=now,
            status_reason="",
        )
        _work_item(message, WorkItem.Status.DONE)
        summary.sent += 1
    elif result.status == "retry" and result.detail.startswith("outcome unknown"):
        # the request left and no answer came back: it may have been delivered
        _finish(
            message,
            worker,
            status=OutboxMessage.Status.UNCERTAIN,
            status_reason=f"not retried, it may have been delivered: {result.detail}",
        )
        summary.uncertain += 1
    elif result.status == "retry" and message.attempts + 1 < MAX_ATTEMPTS:
        backoff = timedelta(minutes=2**message.attempts)
        _finish(
            message,
            worker,
            status=OutboxMessage.Status.QUEUED,
            handed_at=None,
            not_before=now + backoff,
            status_reason=f"retry after {backoff}: {result.detail}",
        )
        summary.retried += 1
    else:
        _finish(
            message,
            worker,
            status=OutboxMessage.Status.FAILED,
            status_reason=f"{result.status}: {result.detail}",
        )
        summary.failed += 1
