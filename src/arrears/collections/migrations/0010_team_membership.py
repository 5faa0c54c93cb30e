"""A collector's team history (``TeamMembership``), backfilled from the audit chain.

For each collector, the chain's ``collector.created`` / ``collector.changed`` entries give the
team they joined (from the start: ``since`` empty) and each later move at the entry's instant.
When the chain does not end on the team the collector is in now (the audit was off, or the
collector predates it), names a team since deleted, or has nothing, one row is written instead: the current team since the
start — what the reports read before this history existed.
"""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models


def _team(image: Any) -> Any:
    return (image or {}).get("team_id") if isinstance(image, dict) else None


def backfill(apps: Any, schema_editor: Any) -> None:
    Collector = apps.get_model("collections", "Collector")
    TeamMembership = apps.get_model("collections", "TeamMembership")
    AuditEntry = apps.get_model("audit", "AuditEntry")
    entries: dict[str, list[tuple[Any, Any, Any]]] = {}
    for subject, at, before, after in (
        AuditEntry.objects.filter(
            subject_type="collections.Collector",
            action__in=("collector.created", "collector.changed"),
        )
        .order_by("at", "id")
        .values_list("subject_id", "at", "before", "after")
        .iterator()
    ):
        entries.setdefault(str(subject), []).append((at, _team(before), _team(after)))
    teams = set(apps.get_model("collections", "Team").objects.values_list("pk", flat=True))
    rows = []
    for collector in Collector.objects.order_by("pk").iterator():
        history: list[tuple[Any, Any]] = []
        for at, before, after in entries.get(str(collector.pk), []):
            if not history:
                history.append((None, before if before is not None else after))
            if after is not None and after != history[-1][1]:
                history.append((at, after))
        known = all(team in teams for _, team in history)
        if not history or not known or history[-1][1] != collector.team_id:
            history = [(None, collector.team_id)]
        rows += [
            TeamMembership(collector_id=collector.pk, team_id=team, since=since)
            for since, team in history
        ]
    TeamMembership.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("collections", "0009_team_monthly_target"),
        ("audit", "0002_seal_after_commit"),
    ]

    operations = [
        migrations.CreateModel(
            name="TeamMembership",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("since", models.DateTimeField(blank=True, null=True)),
                (
                    "collector",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="memberships",
                        to="collections.collector",
                    ),
                ),
                (
                    "team",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="collections.team",
                    ),
                ),
            ],
            options={
                "ordering": ("collector_id", "id"),
                "indexes": [
                    models.Index(fields=["collector", "since"], name="membership_collector_since")
                ],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
