"""Outbox messages get the day they are for and a validity; keys follow their work items.

Messages queued before this migration get ``due_on`` from their work item and, while still
queued, ``expires_at`` from ``ARREARS_MESSAGE_VALID_DAYS`` — so a backlog older than its
validity is expired by the next dispatcher instead of sent. Their keys follow the work items'
new contact keys (``collections.0003``), so the day's re-run cannot queue them again.
"""

from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

#: As ``contact.outbox.DEFAULT_VALID_DAYS`` when this migration was written.
DEFAULT_VALID_DAYS = {"sms": 0, "voice": 0, "email": 0, "in_app": 0, "letter": 14}


def backfill(apps: Any, schema_editor: Any) -> None:
    OutboxMessage = apps.get_model("contact", "OutboxMessage")
    table = getattr(settings, "ARREARS_MESSAGE_VALID_DAYS", DEFAULT_VALID_DAYS)
    messages = OutboxMessage.objects.filter(work_item__isnull=False).select_related("work_item")
    for message in messages.iterator():
        item = message.work_item
        changes: dict[str, object] = {"due_on": item.due_on}
        if message.status == "queued":
            days = table.get(f"{message.channel}:{message.template}", table.get(message.channel, 0))
            last = item.due_on + timedelta(days=max(0, int(days)) + 1)
            changes["expires_at"] = timezone.make_aware(datetime.combine(last, time.min))
        key = f"wi:{item.key}"
        if message.key != key and not OutboxMessage.objects.filter(key=key).exists():
            changes["key"] = key
        OutboxMessage.objects.filter(pk=message.pk).update(**changes)


class Migration(migrations.Migration):
    dependencies = [
        ("contact", "0002_contact_preference"),
        ("collections", "0004_work_item_contact_keys"),
    ]

    operations = [
        migrations.AddField(
            model_name="outboxmessage",
            name="due_on",
            field=models.DateField(
                blank=True, help_text="the business day the contact was asked for", null=True
            ),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="expires_at",
            field=models.DateTimeField(
                blank=True,
                help_text="not sent after this instant (ARREARS_MESSAGE_VALID_DAYS); empty: no limit",
                null=True,
            ),
        ),
        migrations.AlterField(
            model_name="outboxmessage",
            name="status",
            field=models.CharField(
                choices=[
                    ("queued", "Queued"),
                    ("sending", "Sending"),
                    ("sent", "Sent"),
                    ("delivered", "Delivered"),
                    ("failed", "Failed"),
                    ("suppressed", "Suppressed"),
                    ("expired", "Expired"),
                    ("uncertain", "Uncertain"),
                ],
                default="queued",
                max_length=12,
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
