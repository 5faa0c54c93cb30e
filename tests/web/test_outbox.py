"""The staff view of the outbox: what was sent and why not, addresses masked, staff only."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.test import Client

from arrears.contact.models import GateDecision, OutboxMessage
from tests import factories


def _message(status: str, reason: str = "") -> OutboxMessage:
    borrower = factories.borrower(f"B-{status}", phone=None)
    return OutboxMessage.objects.create(
        key=f"k-{status}",
        borrower=borrower,
        channel="sms",
        template="overdue_reminder",
        locale="zh-CN",
        status=status,
        status_reason=reason,
        not_before=datetime(2026, 2, 16, 10, tzinfo=ZoneInfo("Asia/Shanghai")),
        to_address="+8613800000009",
        body="应还金额¥100.00，如有疑问请拨打13800000009",
    )


def test_staff_read_the_outbox_masked_and_filtered(db: None) -> None:
    sent = _message("sent")
    held = _message("suppressed", "cn.holds: a complaint hold is in force")
    GateDecision.objects.create(
        message=held,
        at=held.not_before,
        outcome="deny",
        pack="cn v1",
        rules=[{"id": "cn.holds", "citation": "…", "message": "a complaint hold is in force"}],
    )
    staff = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    staff.force_login(User.objects.create_user("desk", is_staff=True))
    page = staff.get("/messages/").content.decode()
    assert "消息" in page and "cn.holds" in page and f'data-message="{sent.pk}"' in page
    assert "13800000009" not in page  # neither the address nor a number in the text
    only_held = staff.get("/messages/?status=suppressed").content.decode()
    assert f'data-message="{held.pk}"' in only_held and f'data-message="{sent.pk}"' not in only_held
    collector = Client()
    collector.force_login(User.objects.create_user("ann"))
    assert collector.get("/messages/").status_code == 403
