"""Twilio against a local server that checks Basic auth and answers like the Messages API."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from arrears.channels import ChannelConfigError, OutboundMessage
from arrears.channels.twilio import TwilioSms

from .servers import Reply, Request, Server, closed_port, serve

SID, TOKEN = "AC0123456789abcdef0123456789abcdef", "test-auth-token"
PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"


def _json(status: int, body: dict[str, Any], delay: float = 0.0) -> Reply:
    return Reply(status, json.dumps(body).encode(), delay=delay)


def _error(status: int, code: int, message: str) -> Reply:
    return _json(
        status,
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )


def fake_twilio(request: Request) -> Reply:
    expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    if request.headers.get("authorization") != expected:
        return _error(401, 20003, "Authenticate")
    if request.path != PATH:
        return _error(404, 20404, "The requested resource was not found")
    form = dict(parse_qsl(request.body.decode(), keep_blank_values=True))
    to = form["To"]
    if to == "+15005550001":  # Twilio's magic "invalid number"
        return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    if to == "+15005550002":
        return _error(429, 20429, "Too Many Requests")
    if to == "+15005550003":
        return _json(500, {"code": 20500, "message": "Internal Server Error"})
    if to == "+15005550004":
        return _json(201, {}, delay=3.0)
    return _json(
        201,
        {
            "sid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
            "status": "queued",
            "to": to,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": form["Body"],
            "error_code": None,
            "error_message": None,
            "num_segments": "1",
        },
    )


@pytest.fixture
def server() -> Iterator[Server]:
    with serve(fake_twilio) as running:
        yield running


def _channel(
    base_url: str, *, token: str = TOKEN, from_: str = "+15017122661", **kw: Any
) -> TwilioSms:
    return TwilioSms(
        account_sid=SID,
        auth_token=token,
        from_=from_,
        base_url=base_url,
        client=httpx.Client(timeout=kw.pop("timeout", 5.0)),
        **kw,
    )


def test_send_posts_the_form_with_basic_auth(
    server: Server, make_message: Callable[..., OutboundMessage]
) -> None:
    message = make_message(to="+14155552671", body="Your payment of $120.00 is overdue.")
    channel = _channel(server.url, status_callback="https://arrears.example/hooks/twilio")
    result = channel.send(message)
    assert (result.status, result.provider_ref) == ("sent", "SM1f0e8ae6ade43cb3c0ce4525424e404f")
    assert dict(parse_qsl(server.requests[0].body.decode())) == {
        "To": "+14155552671",
        "From": "+15017122661",
        "Body": "Your payment of $120.00 is overdue.",
        "StatusCallback": "https://arrears.example/hooks/twilio",
    }


def test_a_messaging_service_sid_is_sent_as_such(
    server: Server, make_message: Callable[..., OutboundMessage]
) -> None:
    _channel(server.url, from_="MG9752274e9e519418a7406176694466fa").send(make_message())
    form = dict(parse_qsl(server.requests[0].body.decode()))
    assert form["MessagingServiceSid"] == "MG9752274e9e519418a7406176694466fa"
    assert "From" not in form


@pytest.mark.parametrize(
    ("to", "status", "detail"),
    [
        ("+15005550001", "failed", "HTTP 400: 21211: The 'To' number"),
        ("+15005550002", "retry", "20429: Too Many Requests"),
        ("+15005550003", "retry", "20500"),
    ],
)
def test_refusals_are_classified(
    server: Server,
    make_message: Callable[..., OutboundMessage],
    to: str,
    status: str,
    detail: str,
) -> None:
    result = _channel(server.url).send(make_message(to=to))
    assert result.status == status
    assert detail in result.detail


def test_bad_credentials_fail(server: Server, make_message: Callable[..., OutboundMessage]) -> None:
    result = _channel(server.url, token="nope").send(make_message())
    assert result.status == "failed"
    assert "20003" in result.detail


def test_timeout_and_refused_connection_are_retried(
    server: Server, make_message: Callable[..., OutboundMessage]
) -> None:
    slow = _channel(server.url, timeout=0.3).send(make_message(to="+15005550004"))
    refused = _channel(f"http://127.0.0.1:{closed_port()}").send(make_message())
    assert (slow.status, refused.status) == ("retry", "retry")


def test_missing_credentials_name_the_variable() -> None:
    with pytest.raises(ChannelConfigError, match="TWILIO_AUTH_TOKEN"):
        TwilioSms(account_sid=SID, auth_token="", from_="+1")
