"""Turning the day's message work items into outbox messages, exactly once, while worth sending.

Only *messages* go through the outbox (SMS, robocalls, email, letters, in-app); call tasks,
placements and visit requests are work for people and stay work items.

**Identity.** A message's key is ``wi:<work item key>``, and the work item's key is the
contact's identity — borrower, channel, template and day (``collections.workflow.contact_key``),
never the strategy version that asked for it. So a re-run of the day, a re-run after publishing
a new strategy version, a second enqueue or a crash between the two inserts nothing twice: the
unique constraint makes a second insert of the same key a no-op, and a work item that already
has a message gets no second one.

**Validity.** A message is worth sending only for a while: a reminder for day D says "you are
overdue today" and is worthless on D+5, when the cadence has queued a newer one. Each message
gets ``expires_at`` = the end of its day plus ``ARREARS_MESSAGE_VALID_DAYS`` days (per channel
or ``channel:template``; lender's time zone); the dispatcher marks a message still unsent at
that instant ``expired``, with the reason, and never sends it. A backlog left by days without a
dispatcher therefore goes out as today's messages only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from arrears.collections import bulk
from arrears.collections.models import WorkItem
from arrears.contact.models import ContactPreference, OutboxMessage

#: Work-item channels that become messages (the rest are tasks for people).
MESSAGE_CHANNELS = frozenset({"sms", "voice", "email", "letter", "in_app"})
#: Our borrower locales → template locales.
LOCALES = {"zh-hans": "zh-CN", "en": "en"}
#: Used when ``ARREARS_MESSAGE_VALID_DAYS`` is not set: reminders are good for their own day,
#: a letter (printed, posted) for two weeks.
DEFAULT_VALID_DAYS: Mapping[str, int] = {
    "sms": 0,
    "voice": 0,
    "email": 0,
    "in_app": 0,
    "letter": 14,
}


def valid_days(channel: str, template: str) -> int:
    """Days after its own day a message stays worth sending: ``channel:template`` if the
    setting names it, else ``channel``, else 0 (the day itself only)."""
    table: Mapping[str, int] = getattr(settings, "ARREARS_MESSAGE_VALID_DAYS", DEFAULT_VALID_DAYS)
    found = table.get(f"{channel}:{template}", table.get(channel, 0))
    return max(0, int(found))


def valid_until(channel: str, template: str, day: date) -> datetime:
    """The first instant a message for ``day`` is no longer sent: midnight (lender's time zone)
    after the last valid day. Example: an SMS for 2026-02-16 with 0 valid days expires at
    2026-02-17 00:00 Asia/Shanghai."""
    last = day + timedelta(days=valid_days(channel, template))
    return timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))


def enqueue_due(day: date) -> int:
    """Queue a message for every pending message work item due on ``day``; returns how many
    new messages were queued (0 on a re-run).

    The day's items are read as rows, not model instances; only the few whose borrower has a
    preferred channel are loaded whole for :func:`preferred_routes`. The messages are
    inserted in bulk (``collections.bulk.insert_rows``), keyed so a re-run adds nothing."""
    items = list(
        WorkItem.objects.filter(
            due_on=day, status=WorkItem.Status.PENDING, channel__in=MESSAGE_CHANNELS
        )
        .exclude(messages__isnull=False)  # a work item is one message, whatever its key became
        .values_list(
            "id", "key", "borrower_id", "case_id", "channel", "template", "borrower__locale"
        )
    )
    if not items:
        return 0
    start = timezone.make_aware(datetime.combine(day, time.min))  # due from that day on
    borrowers = sorted({row[2] for row in items})
    preferring: set[int] = set()
    stored: set[str] = set()
    for part in bulk.chunks(borrowers):
        preferring.update(
            ContactPreference.objects.filter(
                borrower_id__in=list(part), preferred_channel__in=MESSAGE_CHANNELS
            ).values_list("borrower_id", flat=True)
        )
    keys = [f"wi:{row[1]}" for row in items]
    for part in bulk.chunks(keys):
        stored.update(
            OutboxMessage.objects.filter(key__in=list(part)).values_list("key", flat=True)
        )
    routed = [row[0] for row in items if row[2] in preferring]
    route = (
        preferred_routes(list(WorkItem.objects.filter(pk__in=routed).select_related("borrower")))
        if routed
        else {}
    )
    expiry: dict[tuple[str, str], datetime] = {}
    fresh = []
    for key, (pk, _, borrower_id, case_id, channel, template, locale) in zip(
        keys, items, strict=True
    ):
        if key in stored:
            continue
        channel = route.get(pk, channel)
        if (channel, template) not in expiry:
            expiry[channel, template] = valid_until(channel, template, day)
        fresh.append(
            (
                key,
                pk,
                borrower_id,
                case_id,
                channel,
                template,
                LOCALES.get(locale, "zh-CN"),
                start,
                day,
                expiry[channel, template],
            )
        )
    bulk.insert_rows(
        OutboxMessage,
        [
            "key",
            "work_item",
            "borrower",
            "case",
            "channel",
            "template",
            "locale",
            "not_before",
            "due_on",
            "expires_at",
        ],
        fresh,
    )
    return len(fresh)


def preferred_routes(items: list[WorkItem]) -> dict[int, str]:
    """Work item id → the borrower's preferred message channel, for the items that go there
    instead of the channel the ladder asked for.

    A borrower may say how they want to hear from us (the portal's preferences). A reminder
    moves to that channel only when all of this holds: it is a message channel, the borrower
    has an address there, and the lender has an active wording of the same template for it
    (in the message's locale) — otherwise the ladder's channel stands. The contact's identity
    (the work item's key) does not change, so moving it never adds a contact; the gate judges
    the message on the channel it actually uses, and the message's channel differing from its
    work item's is the record that the preference moved it.
    """
    from arrears.contact.render import address
    from arrears.notices.models import MessageTemplate

    wanted = dict(
        ContactPreference.objects.filter(
            borrower_id__in={item.borrower_id for item in items},
            preferred_channel__in=MESSAGE_CHANNELS,
        ).values_list("borrower_id", "preferred_channel")
    )
    if not wanted:
        return {}
    routes: dict[int, str] = {}
    worded: dict[tuple[str, str, str], bool] = {}
    for item in items:
        channel = wanted.get(item.borrower_id)
        if not channel or channel == item.channel:
            continue
        locale = LOCALES.get(item.borrower.locale, "zh-CN")
        key = (item.template, locale, channel)
        if key not in worded:
            worded[key] = MessageTemplate.objects.filter(
                code=item.template,
                locale=locale,
                channel=channel,
                status=MessageTemplate.Status.ACTIVE,
            ).exists()
        if worded[key] and address(item.borrower, channel):
            routes[item.pk] = channel
    return routes


#: Days a notice (not a cadence reminder) stays worth sending when the setting does not name
#: its template: long enough to wait out quiet hours and a weekend of frequency caps, short
#: enough that an old notice is not news.
NOTICE_VALID_DAYS = 3


def queue_notice(
    key: str, borrower: Any, case: Any, template: str, day: date, *, channel: str = "sms"
) -> bool:
    """Queue a one-off notice to ``borrower`` (a placement or recall, a complaint's
    acknowledgement or resolution) under ``key``, the event it tells of; False when that key was
    already queued (idempotent). It goes through the gate at dispatch like every message."""
    days = valid_days(channel, template) or NOTICE_VALID_DAYS
    _, created = OutboxMessage.objects.get_or_create(
        key=key,
        defaults={
            "borrower": borrower,
            "case": case,
            "channel": channel,
            "template": template,
            "locale": LOCALES.get(borrower.locale, "zh-CN"),
            "not_before": timezone.make_aware(datetime.combine(day, time.min)),
            "due_on": day,
            "expires_at": timezone.make_aware(
                datetime.combine(day + timedelta(days=days + 1), time.min)
            ),
        },
    )
    return created
