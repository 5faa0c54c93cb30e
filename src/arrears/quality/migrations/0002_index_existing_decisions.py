"""Index the gate decisions recorded before this app was installed, and add the time indexes
the contact history and sampling read (``ContactAttempt.at``, ``OutboxMessage.sent_at``).

The two indexes are on other apps' tables, created by SQL both backends accept and named for
this app, so neither app's models change; they are dropped again if this migration is undone.
"""

from typing import Any

from django.db import migrations

CHUNK = 2000


def index_existing(apps: Any, schema_editor: Any) -> None:
    from arrears.quality import gatelog

    decision = apps.get_model("contact", "GateDecision")
    entry = apps.get_model("quality", "GateLogEntry")
    rule = apps.get_model("quality", "GateLogRule")
    contact = apps.get_model("collections", "ContactAttempt")
    last = 0
    while True:
        rows = list(decision.objects.filter(pk__gt=last).order_by("pk")[:CHUNK])
        if not rows:
            return
        for row in rows:
            gatelog.index(row, entry, rule, contact)
        last = rows[-1].pk


INDEXES = (
    ("quality_contact_at", "collections_contactattempt", "at, id"),
    ("quality_outbox_sent_at", "contact_outboxmessage", "sent_at, id"),
)


class Migration(migrations.Migration):
    dependencies = [("quality", "0001_initial")]

    operations = [
        migrations.RunPython(index_existing, migrations.RunPython.noop),
        *(
            migrations.RunSQL(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})",
                f"DROP INDEX IF EXISTS {name}",
            )
            for name, table, columns in INDEXES
        ),
    ]
