"""Aliyun SMS against a local server that checks the signature the way Aliyun does."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import string
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import httpx
import pytest

from arrears.channels import ChannelConfigError, OutboundMessage
from arrears.channels.aliyun import AliyunSms

from .servers import Reply, Request, Server, closed_port, serve

KEY_ID, SECRET = "LTAI-test-id", "test-secret"
NOW = datetime(2026, 2, 16, 1, 30, 5, tzinfo=UTC)
UNRESERVED = set(string.ascii_letters + string.digits + "-_.~")


def _encode(value: str) -> str:
    """RFC 3986, written out by hand (independent of the adapter's urllib.quote)."""
    return "".join(
        ch if ch in UNRESERVED else "".join(f"%{b:02X}" for b in ch.encode()) for ch in value
    )


def _expected_signature(params: dict[str, str], secret: str) -> str:
    query = "&".join(f"{_encode(k)}={_encode(params[k])}" for k in sorted(params))
    to_sign = "POST&%2F&" + _encode(query)
    mac = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def _json(status: int, body: dict[str, str], delay: float = 0.0) -> Reply:
    return Reply(status, json.dumps(body, ensure_ascii=False).encode(), delay=delay)


def fake_aliyun(request: Request) -> Reply:
    """Answers like dysmsapi: signature first, then business rules keyed on the number."""
    assert request.method == "POST"
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    params = dict(parse_qsl(request.body.decode(), keep_blank_values=True, strict_parsing=True))
    given = params.pop("Signature")
    if params.get("AccessKeyId") != KEY_ID:
        return _json(404, {"Code": "InvalidAccessKeyId.NotFound", "Message": "not found"})
    if given != _expected_signature(params, SECRET):
        return _json(
            400,
            {
                "Code": "SignatureDoesNotMatch",
                "Message": "Specified signature is not matched with our calculation.",
                "RequestId": "8906582E-6722",
            },
        )
    phone = params["PhoneNumbers"]
    if phone == "861":
        return _json(
            200,
            {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号", "RequestId": "r1"},
        )
    if phone == "862":
        return _json(
            200,
            {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控", "RequestId": "r2"},
        )
    if phone == "863":
        return _json(503, {"Code": "ServiceUnavailable", "Message": "busy", "RequestId": "r3"})
    if phone == "864":
        return _json(200, {"Code": "OK", "BizId": "late"}, delay=3.0)
    return _json(
        200, {"Code": "OK", "Message": "OK", "BizId": "9006197469364984^0", "RequestId": "r0"}
    )


@pytest.fixture
def server() -> Iterator[Server]:
    with serve(fake_aliyun) as running:
        yield running


def _channel(endpoint: str, secret: str = SECRET, timeout: float = 5.0) -> AliyunSms:
    nonces = iter(f"nonce-{i}" for i in range(100))
    return AliyunSms(
        access_key_id=KEY_ID,
        access_key_secret=secret,
        sign_name="演示消费金融",
        template_code="SMS_000001",
        templates={"overdue_reminder": "SMS_123456789"},
        endpoint=endpoint + "/",
        client=httpx.Client(timeout=timeout),
        clock=lambda: NOW,
        nonce=lambda: next(nonces),
    )


def _params(request: Request) -> dict[str, str]:
    return dict(parse_qsl(request.body.decode(), keep_blank_values=True))


def test_send_is_a_signed_sendsms_call(
    server: Server, make_message: Callable[..., OutboundMessage]
) -> None:
    message = make_message()
    result = _channel(server.url).send(message)
    assert (result.status, result.provider_ref) == ("sent", "9006197469364984^0")
    params = _params(server.requests[0])
    assert server.requests[0].path == "/"
    assert {k: v for k, v in params.items() if k not in {"Signature"}} == {
        "AccessKeyId": KEY_ID,
        "Action": "SendSms",
        "Format": "JSON",
        "OutId": message.idempotency_key,
        "PhoneNumbers": "8613800138000",
        "RegionId": "cn-hangzhou",
        "SignName": "演示消费金融",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "nonce-0",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_123456789",  # our template name mapped to the approved code
        "TemplateParam": json.dumps(
            {"content": message.body}, ensure_ascii=False, separators=(",", ":")
        ),
        "Timestamp": "2026-02-16T01:30:05Z",
        "Version": "2017-05-25",
    }


def test_template_and_parameters_from_metadata(
    server: Server, make_message: Callable[..., OutboundMessage]
) -> None:
    message = make_message(
        metadata={
            "template": "overdue_reminder",
            "provider_template": "SMS_999",
            "param.name": "张三",
            "param.amount": "1,234.56",
        }
    )
    assert _channel(server.url).send(message).status == "sent"
    params = _params(server.requests[0])
    assert params["TemplateCode"] == "SMS_999"
    assert json.loads(params["TemplateParam"]) == {"name": "张三", "amount": "1,234.56"}


def test_every_request_has_a_fresh_nonce(
    server: Server, make_message: Callable[..., OutboundMessage]
) -> None:
    channel = _channel(server.url)
    channel.send(make_message())
    channel.send(make_message())
    nonces = {_params(r)["SignatureNonce"] for r in server.requests}
    assert len(nonces) == 2


def test_a_wrong_secret_is_refused_permanently(
    server: Server, make_message: Callable[..., OutboundMessage]
) -> None:
    result = _channel(server.url, secret="not-the-secret").send(make_message())
    assert result.status == "failed"
    assert result.detail.startswith("SignatureDoesNotMatch: Specified signature")


@pytest.mark.parametrize(
    ("to", "status", "code"),
    [
        ("+861", "failed", "isv.MOBILE_NUMBER_ILLEGAL"),
        ("+862", "retry", "isv.BUSINESS_LIMIT_CONTROL"),
        ("+863", "retry", "ServiceUnavailable"),
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
    assert code in result.detail


def test_a_timeout_is_retried_and_flagged_ambiguous(
    server: Server, make_message: Callable[..., OutboundMessage]
) -> None:
    result = _channel(server.url, timeout=0.3).send(make_message(to="+864"))
    assert result.status == "retry"
    assert result.detail.startswith("outcome unknown")


def test_connection_refused_is_retried(make_message: Callable[..., OutboundMessage]) -> None:
    result = _channel(f"http://127.0.0.1:{closed_port()}").send(make_message())
    assert result.status == "retry"
    assert result.detail.startswith("not sent: ConnectError")


def test_no_template_fails_without_calling(
    server: Server, make_message: Callable[..., OutboundMessage]
) -> None:
    channel = AliyunSms(
        access_key_id=KEY_ID,
        access_key_secret=SECRET,
        sign_name="演示",
        templates={"other": "SMS_1"},
        endpoint=server.url + "/",
    )
    result = channel.send(make_message())
    assert result.status == "failed"
    assert "no Aliyun template" in result.detail
    assert server.requests == []


def test_missing_credentials_name_the_variable() -> None:
    with pytest.raises(ChannelConfigError, match="ALIYUN_ACCESS_KEY_SECRET"):
        AliyunSms(access_key_id=KEY_ID, access_key_secret="", sign_name="x", template_code="t")
    with pytest.raises(ChannelConfigError, match="ALIYUN_SMS_TEMPLATE_CODE"):
        AliyunSms(access_key_id=KEY_ID, access_key_secret="s", sign_name="x")
