"""Delivery receipts: signatures checked, provider payloads read."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.channels import (
    Receipt,
    ReceiptError,
    parse_receipts,
    sign_hmac,
    verify_hmac,
    verify_twilio,
)
from arrears.channels.signing import twilio_signature

CHINA = ZoneInfo("Asia/Shanghai")

# Twilio's published validation example (see test_signing.py).
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}


def test_twilio_published_example_verifies() -> None:
    assert verify_twilio(URL, PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345")


def test_twilio_ports_added_or_removed_by_proxies() -> None:
    # the same vectors Twilio's libraries test: a port in the URL is tolerated, and a
    # signature made over the URL with the default port matches the URL without it
    with_port = URL.replace(".com", ".com:1234")
    assert verify_twilio(with_port, PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345")
    assert verify_twilio(URL, PARAMS, "kvajT1Ptam85bY51eRf/AJRuM3w=", "12345")  # :443 signed
    http = URL.replace("https", "http")
    assert verify_twilio(http, PARAMS, "0ZXoZLH/DfblKGATFgpif+LLRf4=", "12345")  # :80 signed


@pytest.mark.parametrize(
    ("url", "params", "signature", "token"),
    [
        (URL, {**PARAMS, "Digits": "1235"}, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345"),
        (URL + "&x=1", PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345"),
        (URL, PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "54321"),
        (URL, PARAMS, "", "12345"),
        (URL, PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", ""),
    ],
)
def test_twilio_tampering_is_refused(
    url: str, params: dict[str, str], signature: str, token: str
) -> None:
    assert not verify_twilio(url, params, signature, token)


def test_twilio_status_callback_round_trip() -> None:
    callback = "https://arrears.example/hooks/twilio?k=abc"
    params = {
        "AccountSid": "AC0123",
        "MessageSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
        "MessageStatus": "undelivered",
        "ErrorCode": "30003",
        "To": "+14155552671",
    }
    signature = twilio_signature(callback, params, "tok")
    assert verify_twilio(callback, list(params.items()), signature, "tok")
    assert parse_receipts("twilio", params) == [
        Receipt("SM1f0e8ae6ade43cb3c0ce4525424e404f", "failed", "undelivered: 30003")
    ]


@given(body=st.binary(max_size=512), secret=st.text(min_size=1, max_size=40))
def test_our_hmac_round_trips(body: bytes, secret: str) -> None:
    signature = sign_hmac(body, secret)
    assert len(signature) == 64
    assert verify_hmac(body, signature, secret)
    assert verify_hmac(body, "sha256=" + signature.upper(), secret)
    assert not verify_hmac(body + b"\x00", signature, secret)
    assert not verify_hmac(body, signature, secret + "x")


def test_hmac_known_value_and_garbage() -> None:
    # RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
    expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert sign_hmac(b"what do ya want for nothing?", "Jefe") == expected
    assert not verify_hmac(b"x", "not hex at all", "Jefe")
    assert not verify_hmac(b"x", "", "Jefe")
    assert not verify_hmac(b"x", expected, "")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("delivered", [Receipt("SM1", "delivered", "delivered")]),
        ("read", [Receipt("SM1", "delivered", "read")]),
        ("failed", [Receipt("SM1", "failed", "failed")]),
        ("sent", []),
        ("queued", []),
    ],
)
def test_twilio_statuses(status: str, expected: list[Receipt]) -> None:
    assert parse_receipts("twilio", f"MessageSid=SM1&MessageStatus={status}".encode()) == expected


def test_aliyun_smsreport() -> None:
    # the HTTP batch-push example of Aliyun's SmsReport documentation, plus a failure
    payload = json.dumps(
        [
            {
                "phone_number": "1381111****",
                "send_time": "2017-01-01 00:00:00",
                "report_time": "2017-01-01 00:00:00",
                "success": True,
                "err_code": "DELIVERED",
                "err_msg": "用户接收成功",
                "sms_size": "1",
                "biz_id": "12345",
                "out_id": "67890",
            },
            {
                "phone_number": "1381111****",
                "success": False,
                "err_code": "MK:0001",
                "err_msg": "空号",
                "biz_id": "12346",
            },
        ],
        ensure_ascii=False,
    ).encode()
    assert parse_receipts("aliyun", payload) == [
        Receipt("12345", "delivered", "DELIVERED", datetime(2017, 1, 1, tzinfo=CHINA)),
        Receipt("12346", "failed", "MK:0001: 空号"),
    ]


def test_tencent_callback() -> None:
    # the example of Tencent's "SMS Sending Status Notification", plus a failure
    payload = [
        {
            "user_receive_time": "2015-10-17 08:03:04",
            "nationcode": "86",
            "mobile": "13xxxxxxxxx",
            "report_status": "SUCCESS",
            "errmsg": "DELIVRD",
            "description": "用户短信送达成功",
            "sid": "xxxxxxx",
        },
        {"report_status": "FAIL", "errmsg": "MN:0001", "description": "空号", "sid": "yyy"},
    ]
    assert parse_receipts("tencent", json.dumps(payload)) == [
        Receipt("xxxxxxx", "delivered", "DELIVRD", datetime(2015, 10, 17, 8, 3, 4, tzinfo=CHINA)),
        Receipt("yyy", "failed", "MN:0001: 空号"),
    ]


def test_gateway_receipts() -> None:
    payload = [
        {"id": "call-1", "status": "completed"},
        {"id": "call-2", "status": "no-answer", "detail": "rang 30 s"},
        {"id": "call-3", "status": "ringing"},
    ]
    assert parse_receipts("voice", payload) == [
        Receipt("call-1", "delivered", "completed"),
        Receipt("call-2", "failed", "no-answer: rang 30 s"),
    ]


@pytest.mark.parametrize(
    ("provider", "payload"),
    [
        ("aliyun", b"not json"),
        ("aliyun", b'{"biz_id": "1"}'),
        ("tencent", b'[{"sid": "1", "report_status": "MAYBE"}]'),
        ("twilio", b"MessageStatus=delivered"),
        ("voice", b"[1, 2]"),
        ("sendgrid", b"{}"),
    ],
)
def test_garbage_is_refused(provider: str, payload: bytes) -> None:
    with pytest.raises(ReceiptError):
        parse_receipts(provider, payload)


def test_receipts_carry_the_providers_event_time() -> None:
    aliyun = [{"biz_id": "1", "success": True, "report_time": "2026-02-16 10:00:05"}]
    gateway = [
        {"id": "c1", "status": "completed", "timestamp": "2026-02-16T02:00:05Z"},
        {"id": "c2", "status": "busy", "timestamp": 1771207205},
    ]
    [receipt] = parse_receipts("aliyun", json.dumps(aliyun))
    assert receipt.at == datetime(2026, 2, 16, 10, 0, 5, tzinfo=CHINA)
    first, second = parse_receipts("voice", json.dumps(gateway))
    assert first.at == receipt.at and second.at == receipt.at
    with pytest.raises(ReceiptError, match="report_time: not a time"):
        parse_receipts("aliyun", [{"biz_id": "1", "success": True, "report_time": "soon"}])


@pytest.mark.parametrize("depth", [17, 100_000])
def test_deeply_nested_json_is_a_receipt_error(depth: int) -> None:
    with pytest.raises(ReceiptError, match="nested more than 16 levels"):
        parse_receipts("voice", "[" * depth + "]" * depth)
    # brackets inside strings do not count
    deep_text = json.dumps([{"id": "c1", "status": "completed", "detail": "[" * depth}])
    assert parse_receipts("voice", deep_text)[0].provider_ref == "c1"
