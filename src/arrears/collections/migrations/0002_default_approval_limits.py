"""Default approval limits (minor units: 5000 = CNY 50.00); admins change them in the admin."""

from django.db import migrations

#: (kind, role, self_up_to, approve_up_to)
DEFAULTS = [
    ("waiver", "collector", 5_000, 0),
    ("waiver", "team_lead", 20_000, 100_000),
    ("waiver", "manager", 0, 1_000_000),
    ("plan", "collector", 10_000, 0),
    ("plan", "team_lead", 50_000, 300_000),
    ("plan", "manager", 0, 3_000_000),
]


def create(apps, schema_editor):
    limit = apps.get_model("collections", "ApprovalLimit")
    for kind, role, self_up_to, approve_up_to in DEFAULTS:
        limit.objects.get_or_create(
            kind=kind,
            role=role,
            defaults={"self_up_to": self_up_to, "approve_up_to": approve_up_to},
        )


class Migration(migrations.Migration):
    dependencies = [("collections", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
