"""The robocall gateway adapter against a local gateway that checks the bearer token."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest

from arrears.channels import ChannelConfigError, OutboundMessage
from arrears.channels.voice import VoiceGateway

from .servers import Reply, Request, Server, closed_port, serve

TOKEN = "voice-token"


def fake_gateway(request: Request) -> Reply:
    if request.headers.get("authorization") != f"Bearer {TOKEN}":
        return Reply(401, b'{"code": "unauthorized", "error": "bad token"}')
    body = json.loads(request.body)
    if body["to"] == "+8610":
        return Reply(503, b'{"error": "maintenance"}')
    if body["to"] == "+8611":
        return Reply(422, b'{"code": "invalid_number", "error": "not a phone number"}')
    if body["to"] == "+8612":
        return Reply(202, b"{}")
    return Reply(202, json.dumps({"id": f"call-{body['idempotency_key'][-2:]}"}).encode())


@pytest.fixture
def server() -> Iterator[Server]:
    with serve(fake_gateway) as running:
        yield running


def _voice(url: str, token: str = TOKEN) -> VoiceGateway:
    return VoiceGateway(
        url=url + "/v1/calls",
        token=token,
        callback_url="https://arrears.example/hooks/voice",
        client=httpx.Client(timeout=5),
    )


def test_the_call_request(server: Server, make_message: Callable[..., OutboundMessage]) -> None:
    message = make_message(channel="voice")
    result = _voice(server.url).send(message)
    assert (result.status, result.provider_ref) == ("sent", "call-v1")
    request = server.requests[0]
    assert request.path == "/v1/calls"
    assert request.headers["idempotency-key"] == message.idempotency_key
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert json.loads(request.body) == {
        "to": "+8613800138000",
        "text": message.body,
        "locale": "zh-CN",
        "callback_url": "https://arrears.example/hooks/voice",
        "idempotency_key": message.idempotency_key,
    }


@pytest.mark.parametrize(
    ("to", "status", "detail"),
    [
        ("+8610", "retry", "HTTP 503"),
        ("+8611", "failed", "HTTP 422: invalid_number: not a phone number"),
        ("+8612", "sent", "no call id"),
    ],
)
def test_answers_are_classified(
    server: Server,
    make_message: Callable[..., OutboundMessage],
    to: str,
    status: str,
    detail: str,
) -> None:
    result = _voice(server.url).send(make_message(channel="voice", to=to))
    assert result.status == status
    assert detail in result.detail


def test_a_wrong_token_fails(server: Server, make_message: Callable[..., OutboundMessage]) -> None:
    result = _voice(server.url, token="wrong").send(make_message(channel="voice"))
    assert result.status == "failed"
    assert "HTTP 401" in result.detail


def test_gateway_down_is_retried(make_message: Callable[..., OutboundMessage]) -> None:
    result = _voice(f"http://127.0.0.1:{closed_port()}").send(make_message(channel="voice"))
    assert result.status == "retry"


def test_missing_token_names_the_variable() -> None:
    with pytest.raises(ChannelConfigError, match="ARREARS_VOICE_TOKEN"):
        VoiceGateway(url="https://tts.example/v1/calls", token="")
