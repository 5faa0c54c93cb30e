"""The data migrations that re-key work items by contact and give queued messages a validity:
after them, a day run before the upgrade is not queued again, and its backlog can expire."""

from __future__ import annotations

import importlib
from datetime import datetime, timedelta

import pytest
from django.apps import apps

from arrears.collections.models import WorkItem
from arrears.collections.workflow import contact_key
from arrears.contact.models import OutboxMessage
from arrears.contact.outbox import enqueue_due
from arrears.ledger import models
from tests.contact.conftest import DAY, SHANGHAI

rekey = importlib.import_module("arrears.collections.migrations.0004_work_item_contact_keys").rekey
backfill = importlib.import_module("arrears.contact.migrations.0003_outbox_validity").backfill


def _old_key(item: WorkItem, version: int) -> str:
    return f"case{item.case_id}:{item.stage}:{item.treatment}:{item.due_on}:default:v{version}"


def test_old_keys_become_contact_keys_and_a_rerun_queues_nothing(
    book: list[models.Borrower],
) -> None:
    items = list(WorkItem.objects.filter(channel="sms").order_by("id"))
    assert len(items) == 3
    for item in items:
        WorkItem.objects.filter(pk=item.pk).update(key=_old_key(item, 1))
    first = items[0]
    twin = WorkItem.objects.get(pk=first.pk)
    twin.pk, twin.key, twin.strategy = None, _old_key(first, 2), "default v2"
    twin.save()  # what v2's re-run of the day used to add
    enqueue_due(DAY)
    OutboxMessage.objects.update(due_on=None, expires_at=None)
    for message in OutboxMessage.objects.select_related("work_item"):
        message.key = f"wi:{message.work_item.key}"  # the pre-upgrade outbox keys
        message.save(update_fields=["key"])

    rekey(apps, None)
    backfill(apps, None)

    plain = contact_key(first.borrower_id, "sms", first.template, DAY)
    assert WorkItem.objects.get(pk=first.pk).key == plain
    assert WorkItem.objects.get(pk=twin.pk).key == f"{plain}#dup{twin.pk}"
    midnight = datetime(2026, 2, 17, tzinfo=SHANGHAI)
    for message in OutboxMessage.objects.select_related("work_item"):
        assert message.key == f"wi:{message.work_item.key}"
        assert (message.due_on, message.expires_at) == (DAY, midnight)
    assert enqueue_due(DAY) == 0  # every contact of the day is known under its new key
    assert enqueue_due(DAY + timedelta(days=1)) == 0


@pytest.mark.parametrize("key", ["case9:callback:4:2026-02-18", "borrower1:sms:x:2026-02-16"])
def test_keys_that_are_not_old_daily_run_keys_are_left_alone(
    book: list[models.Borrower], key: str
) -> None:
    item = WorkItem.objects.filter(channel="sms").first()
    assert item is not None
    WorkItem.objects.filter(pk=item.pk).update(key=key)
    rekey(apps, None)
    assert WorkItem.objects.get(pk=item.pk).key == key
