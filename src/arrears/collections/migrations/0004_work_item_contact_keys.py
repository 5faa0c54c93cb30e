"""Re-key the daily run's work items by the contact, not by the strategy version (issue 9).

Old keys were ``<case|borrower>:<stage>:<treatment>:<date>:<strategy>:v<version>``, so a new
strategy version re-created (and re-sent) the day's contacts. New keys are
``borrower<id>:<channel>:<template>:<date>`` (``workflow.contact_key``). Items that now share a
key — the duplicates the old keys let through — keep the oldest on the plain key and the others
on ``<key>#dup<id>``, so nothing is lost and a re-run cannot create the contact a third time.
Callback tasks (``case<id>:callback:…``) are keyed by the contact that asked for them already.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import migrations

OLD_KEY = re.compile(r"^(case|borrower)\d+:.+:\d+:\d{4}-\d{2}-\d{2}:.+:v\d+$")


def rekey(apps: Any, schema_editor: Any) -> None:
    WorkItem = apps.get_model("collections", "WorkItem")
    taken: set[str] = set(WorkItem.objects.values_list("key", flat=True))
    changed = []
    for item in WorkItem.objects.order_by("id").iterator():
        if not OLD_KEY.match(item.key):
            continue
        key = f"borrower{item.borrower_id}:{item.channel}:{item.template}:{item.due_on.isoformat()}"
        if key in taken:
            key = f"{key}#dup{item.pk}"
        taken.discard(item.key)
        taken.add(key)
        item.key = key
        changed.append(item)
    # two passes through a temporary key, so a new key never collides with an old one mid-way
    for item in changed:
        WorkItem.objects.filter(pk=item.pk).update(key=f"rekey#{item.pk}")
    for item in changed:
        WorkItem.objects.filter(pk=item.pk).update(key=item.key)


class Migration(migrations.Migration):
    dependencies = [("collections", "0003_approval_running_totals_and_hold_release")]

    operations = [migrations.RunPython(rekey, migrations.RunPython.noop)]
