"""The staff view of the outbox: what was sent and why not, addresses masked, staff only."""

from __future__ import annotations

import html
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from arrears.contact.models import GateDecision, OutboxMessage
from arrears.ledger.masking import mask_phone
from arrears.policy import load_pack
from tests import factories
from tests.web.conftest import PHONES, Book, no_pii


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


def _visible(page: str) -> str:
    page = re.sub(r"<style.*?</style>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _row(page: str, message: OutboxMessage) -> str:
    match = re.search(rf'<tr data-message="{message.pk}">(.*?)</tr>', page, flags=re.S)
    assert match, f"message {message.pk} is not listed"
    return match.group(1)


def _queued(book: Book, channel: str, who: int = 0) -> OutboxMessage:
    case = book.cases[who]
    return OutboxMessage.objects.create(
        key=f"k-{channel}-{who}",
        borrower=case.borrower,
        case=case,
        channel=channel,
        template="overdue_reminder",
        locale="zh-CN",
        not_before=timezone.now(),
    )


def _denied(book: Book) -> OutboxMessage:
    """A message the gate suppressed for a hold: its reason is the gate's, word for word."""
    rules = [{"id": "cn.holds", "citation": "…", "message": "complaint hold on the borrower"}]
    message = _queued(book, "sms", 1)
    message.status = OutboxMessage.Status.SUPPRESSED
    message.status_reason = "cn.holds: complaint hold on the borrower"
    message.to_address = PHONES[1]
    message.save()
    GateDecision.objects.create(
        message=message, at=timezone.now(), outcome="deny", pack="cn v1", rules=rules
    )
    return message


@pytest.fixture
def desk(book: Book) -> Client:
    """The team lead with back-office rights (the demo's ``lead``)."""
    user = book.staff["lead"].user
    user.is_staff = True
    user.save()
    return book.client("lead")


def test_a_queued_message_shows_the_address_it_will_use(book: Book, desk: Client) -> None:
    sms, email = _queued(book, "sms"), _queued(book, "email")
    page = desk.get("/messages/").content.decode()
    to = re.search(r'<td class="to">(.*?)</td>', _row(page, sms), flags=re.S).group(1)
    assert mask_phone(PHONES[0]) in to and "resolved again at dispatch" in to
    nothing = re.search(r'<td class="to">(.*?)</td>', _row(page, email), flags=re.S).group(1)
    assert "no address on file yet" in nothing  # never an empty cell
    no_pii(page)


def test_the_gate_reason_is_shown_once_and_each_row_links_to_its_case(
    book: Book, desk: Client
) -> None:
    denied = _denied(book)
    row = _row(desk.get("/messages/", HTTP_ACCEPT_LANGUAGE="en").content.decode(), denied)
    assert row.count("complaint hold on the borrower") == 1
    assert f'href="/cases/{denied.case_id}/"' in row
    olga = book.staff["olga"].user  # a lead of another team: sees the row, not the case
    olga.is_staff = True
    olga.save()
    other = _row(book.client("olga").get("/messages/").content.decode(), denied)
    assert f"#{denied.case_id}" in other and 'href="/cases/' not in other


def test_the_messages_page_in_chinese_has_no_english_statuses_or_gate_words(
    book: Book, desk: Client
) -> None:
    _denied(book)
    _queued(book, "sms", 2)
    sent = _queued(book, "sms", 0)
    OutboxMessage.objects.filter(pk=sent.pk).update(
        status="sent", to_address=PHONES[0], sent_at=timezone.now()
    )
    GateDecision.objects.create(
        message=sent, at=timezone.now(), outcome="allow", pack="cn v1", rules=[]
    )
    text = _visible(desk.get("/messages/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode())
    english = ("queued", "sent", "suppressed", "allow", "deny", "denied", "allowed", "sms")
    found = [w for w in english if re.search(rf"(?<![\w.-]){w}(?![\w-])", text)]
    assert not found, found
    for chinese in ("排队中", "已发送", "已抑制", "拒绝", "允许", "短信"):
        assert chinese in text, chinese
    hold_rule = load_pack("cn").rule("cn.holds")
    assert hold_rule.description_zh in text and "complaint hold on the borrower" not in text
