"""Delivery receipts: a signed callback moves the message; a forged one changes nothing."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from arrears.channels import sign_hmac
from arrears.channels.signing import twilio_signature
from arrears.contact.models import OutboxMessage
from tests import factories

URL = "http://testserver/webhooks/receipts/{}/"


@pytest.fixture
def sent(db: None) -> OutboxMessage:
    return OutboxMessage.objects.create(
        key="k1",
        borrower=factories.borrower(),
        channel="sms",
        template="overdue_reminder",
        locale="zh-CN",
        status="sent",
        not_before=datetime(2026, 2, 16, 10, tzinfo=ZoneInfo("Asia/Shanghai")),
        provider_ref="SM123",
    )


def test_a_signed_twilio_callback_marks_the_message_delivered(
    sent: OutboxMessage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "secret-token")
    params = {"MessageSid": "SM123", "MessageStatus": "delivered"}
    signature = twilio_signature(URL.format("twilio"), params, "secret-token")
    client = Client()
    forged = client.post(URL.format("twilio"), params, HTTP_X_TWILIO_SIGNATURE="forged")
    assert forged.status_code == 403
    sent.refresh_from_db()
    assert sent.status == "sent"
    ok = client.post(URL.format("twilio"), params, HTTP_X_TWILIO_SIGNATURE=signature)
    assert ok.status_code == 200
    assert ok.json() == {"receipts": 1, "updated": 1, "duplicate": 0, "stale": 0}
    sent.refresh_from_db()
    assert sent.status == "delivered" and sent.delivered_at is not None


def test_an_unsigned_provider_needs_our_hmac_and_a_failure_is_recorded(
    sent: OutboxMessage, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = json.dumps(
        [
            {
                "biz_id": "SM123",
                "success": False,
                "err_code": "MOBILE_NOT_ON_SERVICE",
                "err_msg": "停机",
            }
        ]
    ).encode()
    client = Client()
    no_secret = client.post(URL.format("aliyun"), body, content_type="application/json")
    assert no_secret.status_code == 403  # no secret configured: nothing is accepted
    monkeypatch.setenv("ARREARS_RECEIPT_SECRET", "s3cret")
    response = client.post(
        URL.format("aliyun"),
        body,
        content_type="application/json",
        HTTP_X_ARREARS_SIGNATURE=sign_hmac(body, "s3cret"),
    )
    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.status == "failed" and "MOBILE_NOT_ON_SERVICE" in sent.status_reason


def test_a_receipt_for_a_message_still_queued_changes_nothing(
    sent: OutboxMessage, monkeypatch: pytest.MonkeyPatch
) -> None:
    OutboxMessage.objects.filter(pk=sent.pk).update(status="queued")
    monkeypatch.setenv("ARREARS_RECEIPT_SECRET", "s3cret")
    body = json.dumps([{"id": "SM123", "status": "completed"}]).encode()
    response = Client().post(
        URL.format("voice"),
        body,
        content_type="application/json",
        HTTP_X_ARREARS_SIGNATURE=sign_hmac(body, "s3cret"),
    )
    assert response.json()["updated"] == 0
    sent.refresh_from_db()
    assert sent.status == "queued"
