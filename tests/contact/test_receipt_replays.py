"""Replayed and hostile delivery receipts (issue 14 #6): a genuine receipt posted again later,
or out of order, never moves a message backwards; old receipts are ignored; no body gives a 5xx.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.channels import sign_hmac
from arrears.channels.signing import twilio_signature
from arrears.contact.models import OutboxMessage
from tests import factories
from tests.conftest import frozen_instant

URL = "http://testserver/webhooks/receipts/{}/"
SECRET = "s3cret"
CHINA = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def sent(db: None, monkeypatch: pytest.MonkeyPatch) -> OutboxMessage:
    monkeypatch.setenv("ARREARS_RECEIPT_SECRET", SECRET)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "tok")
    return OutboxMessage.objects.create(
        key="k1",
        borrower=factories.borrower(),
        channel="sms",
        template="overdue_reminder",
        locale="zh-CN",
        status="sent",
        not_before=datetime(2026, 12, 1, 10, tzinfo=CHINA),
        provider_ref="SM123",
    )


def post(provider: str, items: Any) -> Any:
    body = items if isinstance(items, bytes) else json.dumps(items).encode()
    return Client().post(
        URL.format(provider),
        body,
        content_type="application/json",
        HTTP_X_ARREARS_SIGNATURE=sign_hmac(body, SECRET),
    )


def aliyun(success: bool, when: datetime) -> list[dict[str, Any]]:
    stamp = when.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
    return [{"biz_id": "SM123", "success": success, "err_code": "X", "report_time": stamp}]


def status(message: OutboxMessage) -> str:
    message.refresh_from_db()
    return str(message.status)


def test_a_replayed_failure_never_moves_a_delivered_message_back(sent: OutboxMessage) -> None:
    now = timezone.now()
    failed = aliyun(False, now - timedelta(minutes=2))
    assert post("aliyun", aliyun(True, now - timedelta(minutes=1))).json()["updated"] == 1
    assert status(sent) == "delivered"
    replay = post("aliyun", failed)
    assert replay.status_code == 200 and replay.json()["updated"] == 0
    assert status(sent) == "delivered"


def test_a_replayed_receipt_is_a_duplicate(sent: OutboxMessage) -> None:
    receipt = aliyun(True, timezone.now() - timedelta(minutes=1))
    assert post("aliyun", receipt).json() == {
        "receipts": 1,
        "updated": 1,
        "duplicate": 0,
        "stale": 0,
    }
    delivered_at = OutboxMessage.objects.get(pk=sent.pk).delivered_at
    assert post("aliyun", receipt + receipt).json() == {
        "receipts": 2,
        "updated": 0,
        "duplicate": 2,
        "stale": 0,
    }
    assert OutboxMessage.objects.get(pk=sent.pk).delivered_at == delivered_at


def test_a_later_delivery_beats_an_earlier_failure(sent: OutboxMessage) -> None:
    now = timezone.now()
    post("aliyun", aliyun(False, now - timedelta(minutes=5)))
    assert status(sent) == "failed"
    post("aliyun", aliyun(True, now - timedelta(minutes=1)))
    assert status(sent) == "delivered"


def test_receipts_older_than_the_window_are_ignored(
    sent: OutboxMessage, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = timezone.now()
    old = post("aliyun", aliyun(False, now - timedelta(days=1, seconds=1)))
    assert old.json()["stale"] == 1 and status(sent) == "sent"
    future = post("aliyun", aliyun(False, now + timedelta(hours=1)))
    assert future.json()["stale"] == 1 and status(sent) == "sent"
    monkeypatch.setenv("ARREARS_RECEIPT_MAX_AGE", str(3 * 86400))
    assert post("aliyun", aliyun(False, now - timedelta(days=2))).json()["updated"] == 1
    assert status(sent) == "failed"


def test_gateway_receipts_are_windowed_by_their_timestamp(sent: OutboxMessage) -> None:
    old = frozen_instant() - timedelta(days=3)
    stale = [{"id": "SM123", "status": "completed", "timestamp": old.isoformat()}]
    assert post("voice", stale).json()["stale"] == 1
    assert status(sent) == "sent"


@pytest.mark.parametrize("depth", [50, 100_000])
def test_deeply_nested_json_is_a_400(sent: OutboxMessage, depth: int) -> None:
    response = post("voice", b"[" * depth + b"]" * depth)
    assert response.status_code == 400
    assert "nested" in response.json()["error"]


# --- fuzzing: whatever a signed sender posts, the answer is never a 5xx ------------------------

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=30)
    | st.sampled_from(["SM123", "delivered", "FAIL", "SUCCESS", "2026-12-02 14:59:00"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "status",
                    "biz_id",
                    "success",
                    "sid",
                    "report_status",
                    "report_time",
                    "user_receive_time",
                    "timestamp",
                    "detail",
                    "err_code",
                ]
            )
            | st.text(max_size=8),
            inner,
            max_size=6,
        )
    ),
    max_leaves=20,
)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.sampled_from(["aliyun", "tencent", "voice", "arrears", "nope"]), _JSON | st.binary())
def test_fuzzed_signed_bodies_never_give_a_5xx(
    sent: OutboxMessage, provider: str, body: Any
) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    assert post(provider, raw).status_code < 500


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.dictionaries(
        st.sampled_from(["MessageSid", "MessageStatus", "SmsSid", "ErrorCode"])
        | st.text(max_size=8),
        st.text(max_size=40),
        max_size=6,
    )
)
def test_fuzzed_signed_twilio_callbacks_never_give_a_5xx(
    sent: OutboxMessage, params: dict[str, str]
) -> None:
    params = {k: v.replace("\x00", "") for k, v in params.items() if "\x00" not in k}
    signature = twilio_signature(URL.format("twilio"), params, "tok")
    response = Client().post(URL.format("twilio"), params, HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code < 500
