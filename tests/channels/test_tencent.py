"""Tencent Cloud SMS against a local server that verifies TC3-HMAC-SHA256 like Tencent does."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from arrears.channels import ChannelConfigError, OutboundMessage
from arrears.channels.tencent import TencentSms

from .servers import Reply, Request, Server, closed_port, serve

SECRET_ID, SECRET_KEY, APP_ID = "AKID-test", "test-secret-key", "1400006666"
NOW = 1771205405  # 2026-02-16 01:30:05 UTC (09:30:05 in Beijing)
AUTH = re.compile(
    r"TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>\w+)/"
    r"tc3_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<sig>[0-9a-f]{64})"
)


def _h(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def _expected(request: Request, date: str, service: str, signed: str) -> str:
    """Recompute the signature from what arrived: the named headers, the raw body."""
    headers = "".join(f"{n}:{request.headers[n].strip().lower()}\n" for n in signed.split(";"))
    canonical = "\n".join(
        ["POST", "/", "", headers, signed, hashlib.sha256(request.body).hexdigest()]
    )
    timestamp = request.headers["x-tc-timestamp"]
    to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            timestamp,
            f"{date}/{service}/tc3_request",
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    key = _h(_h(_h(f"TC3{SECRET_KEY}".encode(), date), service), "tc3_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def _response(payload: dict[str, Any], delay: float = 0.0) -> Reply:
    body = {"Response": {**payload, "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279"}}
    return Reply(200, json.dumps(body, ensure_ascii=False).encode(), delay=delay)


def _error(code: str, message: str) -> Reply:
    return _response({"Error": {"Code": code, "Message": message}})


def fake_tencent(request: Request) -> Reply:
    match = AUTH.fullmatch(request.headers.get("authorization", ""))
    if match is None:
        return _error("AuthFailure.InvalidAuthorization", "Authorization header malformed")
    signed = match["signed"]
    if not {"content-type", "host"} <= set(signed.split(";")):
        return _error("AuthFailure.InvalidAuthorization", "content-type and host must be signed")
    utc_date = datetime.fromtimestamp(int(request.headers["x-tc-timestamp"]), UTC)
    if match["date"] != utc_date.strftime("%Y-%m-%d") or match["service"] != "sms":
        return _error("AuthFailure.InvalidAuthorization", "credential scope mismatch")
    if match["id"] != SECRET_ID:
        return _error("AuthFailure.SecretIdNotFound", "The SecretId is not found")
    if match["sig"] != _expected(request, match["date"], match["service"], signed):
        return _error(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. Please check your signature.",
        )
    if (request.headers["x-tc-action"], request.headers["x-tc-version"]) != (
        "SendSms",
        "2021-01-11",
    ):
        return _error("InvalidAction", "unknown action")
    body = json.loads(request.body)
    phone = body["PhoneNumberSet"][0]
    if phone == "+8610":
        return _error("RequestLimitExceeded", "request rate limit exceeded")
    if phone == "+8611":
        return _error("InternalError.Timeout", "timeout")
    if phone == "+8612":
        return _response({}, delay=3.0)
    code, message = "Ok", "send success"
    if phone == "+8613":
        code, message = "InvalidParameterValue.IncorrectPhoneNumber", "incorrect phone number"
    if phone == "+8614":
        code, message = "FailedOperation.PhoneNumberInBlacklist", "number in blacklist"
    return _response(
        {
            "SendStatusSet": [
                {
                    "SerialNo": "5000:1045710669157053657849499619",
                    "PhoneNumber": phone,
                    "Fee": 1,
                    "SessionContext": body.get("SessionContext", ""),
                    "Code": code,
                    "Message": message,
                    "IsoCode": "CN",
                }
            ]
        }
    )


@pytest.fixture
def server() -> Iterator[Server]:
    with serve(fake_tencent) as running:
        yield running


def _channel(endpoint: str, key: str = SECRET_KEY, timeout: float = 5.0) -> TencentSms:
    return TencentSms(
        secret_id=SECRET_ID,
        secret_key=key,
        sdk_app_id=APP_ID,
        sign_name="演示消费金融",
        template_id="1110",
        templates={"overdue_reminder": "449739"},
        endpoint=endpoint + "/",
        client=httpx.Client(timeout=timeout),
        clock=lambda: NOW,
    )


def test_send_is_a_signed_sendsms_call(
    server: Server, make_message: Callable[..., OutboundMessage]
) -> None:
    message = make_message()
    result = _channel(server.url).send(message)
    assert (result.status, result.provider_ref) == ("sent", "5000:1045710669157053657849499619")
    request = server.requests[0]
    assert request.headers["x-tc-region"] == "ap-guangzhou"
    assert request.headers["x-tc-timestamp"] == str(NOW)
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert "SignedHeaders=content-type;host;x-tc-action," in request.headers["authorization"]
    assert json.loads(request.body) == {
        "PhoneNumberSet": ["+8613800138000"],
        "SmsSdkAppId": APP_ID,
        "TemplateId": "449739",
        "TemplateParamSet": [message.body],
        "SessionContext": message.idempotency_key,
        "SignName": "演示消费金融",
    }


def test_positional_template_parameters(
    server: Server, make_message: Callable[..., OutboundMessage]
) -> None:
    message = make_message(
        metadata={"param.2": "1,234.56", "param.1": "张三", "param.10": "x", "template": "t"}
    )
    assert _channel(server.url).send(message).status == "sent"
    body = json.loads(server.requests[0].body)
    assert body["TemplateParamSet"] == ["张三", "1,234.56", "x"]
    assert body["TemplateId"] == "1110"  # unknown template name: the default


def test_a_wrong_key_is_refused_permanently(
    server: Server, make_message: Callable[..., OutboundMessage]
) -> None:
    result = _channel(server.url, key="wrong").send(make_message())
    assert result.status == "failed"
    assert result.detail.startswith("AuthFailure.SignatureFailure")


@pytest.mark.parametrize(
    ("to", "status", "code"),
    [
        ("+8610", "retry", "RequestLimitExceeded"),
        ("+8611", "retry", "InternalError.Timeout"),
        ("+8613", "failed", "InvalidParameterValue.IncorrectPhoneNumber"),
        ("+8614", "failed", "FailedOperation.PhoneNumberInBlacklist"),
    ],
)
def test_provider_refusals_are_classified(
    server: Server,
    make_message: Callable[..., OutboundMessage],
    to: str,
    status: str,
    code: str,
) -> None:
    result = _channel(server.url).send(make_message(to=to))
    assert result.status == status
    assert result.detail.startswith(code)


def test_a_timeout_is_retried(server: Server, make_message: Callable[..., OutboundMessage]) -> None:
    result = _channel(server.url, timeout=0.3).send(make_message(to="+8612"))
    assert result.status == "retry"


def test_connection_refused_is_retried(make_message: Callable[..., OutboundMessage]) -> None:
    result = _channel(f"http://127.0.0.1:{closed_port()}").send(make_message())
    assert result.status == "retry"


def test_missing_credentials_name_the_variable() -> None:
    with pytest.raises(ChannelConfigError, match="TENCENT_SMS_SDK_APP_ID"):
        TencentSms(secret_id="a", secret_key="b", sdk_app_id="", template_id="1")
    with pytest.raises(ChannelConfigError, match="TENCENT_SMS_TEMPLATE_ID"):
        TencentSms(secret_id="a", secret_key="b", sdk_app_id="1")
