"""Turning the day's message work items into outbox messages, exactly once.

Only *messages* go through the outbox (SMS, robocalls, email, letters, in-app); call tasks,
placements and visit requests are work for people and stay work items. The outbox key is the
work item's key, so a re-run of the day, a second enqueue or a crash between the two inserts
nothing twice: the unique constraint makes a second insert of the same key a no-op.
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.utils import timezone

from arrears.collections.models import WorkItem
from arrears.contact.models import OutboxMessage

#: Work-item channels that become messages (the rest are tasks for people).
MESSAGE_CHANNELS = frozenset({"sms", "voice", "email", "letter", "in_app"})
#: Our borrower locales → template locales.
LOCALES = {"zh-hans": "zh-CN", "en": "en"}


def enqueue_due(day: date) -> int:
    """Queue a message for every pending message work item due on ``day``; returns how many
    new messages were queued (0 on a re-run)."""
    items = list(
        WorkItem.objects.filter(
            due_on=day, status=WorkItem.Status.PENDING, channel__in=MESSAGE_CHANNELS
        ).select_related("borrower")
    )
    start = timezone.make_aware(datetime.combine(day, time.min))  # due from that day on
    keys = [f"wi:{item.key}" for item in items]
    existing = set(OutboxMessage.objects.filter(key__in=keys).values_list("key", flat=True))
    fresh = [
        OutboxMessage(
            key=key,
            work_item=item,
            borrower=item.borrower,
            case_id=item.case_id,
            channel=item.channel,
            template=item.template,
            locale=LOCALES.get(item.borrower.locale, "zh-CN"),
            not_before=start,
        )
        for key, item in zip(keys, items, strict=True)
        if key not in existing
    ]
    OutboxMessage.objects.bulk_create(fresh, ignore_conflicts=True, batch_size=2000)
    return len(fresh)
