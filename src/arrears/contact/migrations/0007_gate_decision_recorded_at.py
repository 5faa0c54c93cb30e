"""When a gate decision was recorded (``created_at``): its own time may be back-dated.

The column is added empty (a plain ``AddField`` of an ``auto_now_add`` column would stamp every
existing row with the migration's instant, and a report as of a past day would then drop them
all), filled from the audit chain's ``<model>.created`` entry where it holds one, and only then
made ``auto_now_add``. A row the chain never saw (the audit off) stays empty: the reports read
it by its own time, as before.
"""

from typing import Any

from django.db import migrations, models


def plain() -> Any:
    return models.DateTimeField(blank=True, null=True)


def stamped() -> Any:
    return models.DateTimeField(auto_now_add=True, blank=True, null=True)


def backfill(apps: Any, schema_editor: Any) -> None:
    AuditEntry = apps.get_model("audit", "AuditEntry")
    for app, name in (("contact", "GateDecision"),):
        model = apps.get_model(app, name)
        found: dict[int, Any] = {}
        entries = AuditEntry.objects.filter(
            subject_type=f"{app}.{name}", action=f"{name.lower()}.created"
        ).order_by("id")
        for subject, at in entries.values_list("subject_id", "at").iterator():
            if str(subject).isdigit():
                found.setdefault(int(subject), at)
        ids = list(found)
        for start in range(0, len(ids), 1000):
            part = ids[start : start + 1000]
            rows = [model(pk=pk, created_at=found[pk]) for pk in part]
            model.objects.bulk_update(rows, ["created_at"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("contact", "0006_contact_preference_hours_and_emergency_contacts"),
        ("audit", "0002_seal_after_commit"),
    ]

    operations = [
        migrations.AddField(model_name="gatedecision", name="created_at", field=plain()),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(model_name="gatedecision", name="created_at", field=stamped()),
    ]
