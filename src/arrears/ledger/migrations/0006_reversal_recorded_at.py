"""When a reversal was recorded (``Payment.reversed_at``, ``Waiver.reversed_at``).

Backfill: the instant of the audit entry that set ``reversed_on`` (a ``payment.changed`` or
``waiver.changed`` entry whose before image has no ``reversed_on`` and whose after image has
one), where the chain holds it. A reversal the chain never saw (the audit off, a bulk
import's reversal) stays empty, read as recorded at the start of its ``reversed_on``: what the
reports read before this column existed.
"""

from typing import Any

from django.db import migrations, models


def backfill(apps: Any, schema_editor: Any) -> None:
    AuditEntry = apps.get_model("audit", "AuditEntry")
    for name in ("Payment", "Waiver"):
        model = apps.get_model("ledger", name)
        waiting = set(
            model.objects.filter(reversed_on__isnull=False, reversed_at__isnull=True).values_list(
                "pk", flat=True
            )
        )
        if not waiting:
            continue
        found: dict[int, Any] = {}
        entries = AuditEntry.objects.filter(
            subject_type=f"ledger.{name}", action=f"{name.lower()}.changed"
        ).order_by("at", "id")
        for subject, at, before, after in entries.values_list(
            "subject_id", "at", "before", "after"
        ).iterator():
            pk = int(subject) if str(subject).isdigit() else None
            if pk not in waiting or pk in found:
                continue
            if (before or {}).get("reversed_on") is None and (after or {}).get("reversed_on"):
                found[pk] = at
        for pk, at in found.items():
            model.objects.filter(pk=pk).update(reversed_at=at)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0005_phone_borrower_search_tails"),
        ("audit", "0002_seal_after_commit"),
    ]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="reversed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="waiver",
            name="reversed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
