"""Delivery receipts: verify that a callback is genuine, then read it.

The webhook view (Django side) calls these and updates the outbox message whose
``provider_ref`` matches:

* ``verify_twilio(url, params, signature, token)`` — Twilio's ``X-Twilio-Signature``:
  base64 HMAC-SHA1 with the auth token over the full callback URL followed by the sorted POST
  parameters. Like Twilio's own validators it accepts the URL with or without an explicit
  default port, since proxies add or drop it.
* ``verify_hmac(body, signature_hex, secret)`` — our own webhooks (the voice gateway, or any
  relay we put in front of a provider): hex HMAC-SHA256 of the raw body; ``sign_hmac`` makes
  one. Comparison is constant-time.
* ``parse_receipts(provider, payload)`` — Twilio status callback, Aliyun ``SmsReport`` JSON
  list, Tencent status callback JSON list, or our gateway's JSON → ``Receipt`` tuples with a
  final status ``delivered`` or ``failed``. Intermediate states (queued, sent, ringing …)
  produce no receipt.

Aliyun and Tencent do not sign their callbacks; protect those endpoints with a secret path
token or the providers' published source addresses (docs/channels.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any, Literal, NamedTuple
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from arrears.channels.signing import Params, twilio_signature

DeliveryStatus = Literal["delivered", "failed"]


class Receipt(NamedTuple):
    provider_ref: str
    status: DeliveryStatus
    detail: str = ""


class ReceiptError(ValueError):
    """The payload is not a receipt of that provider (the webhook answers 400)."""


# --- verification -------------------------------------------------------------------------------

_DEFAULT_PORTS = {"https": 443, "http": 80}


def _url_variants(url: str) -> list[str]:
    parts = urlsplit(url)
    variants = [url]
    host = parts.hostname or ""
    if parts.port is not None:
        variants.append(urlunsplit(parts._replace(netloc=_netloc(parts.netloc, host, None))))
    elif parts.scheme in _DEFAULT_PORTS:
        port = _DEFAULT_PORTS[parts.scheme]
        variants.append(urlunsplit(parts._replace(netloc=_netloc(parts.netloc, host, port))))
    return variants


def _netloc(netloc: str, host: str, port: int | None) -> str:
    userinfo = netloc.rpartition("@")[0]
    hostpart = f"[{host}]" if ":" in host else host
    hostport = hostpart if port is None else f"{hostpart}:{port}"
    return f"{userinfo}@{hostport}" if userinfo else hostport


def verify_twilio(url: str, params: Params, signature: str, token: str) -> bool:
    """True when ``signature`` (the X-Twilio-Signature header) matches this request."""
    if not signature or not token:
        return False
    pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
    return any(
        hmac.compare_digest(twilio_signature(candidate, pairs, token).encode(), signature.encode())
        for candidate in _url_variants(url)
    )


def sign_hmac(body: bytes, secret: str | bytes) -> str:
    """Hex HMAC-SHA256 of ``body`` — what a sender puts in our signature header."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def verify_hmac(body: bytes, signature_hex: str, secret: str | bytes) -> bool:
    """Constant-time check of a hex HMAC-SHA256 (an optional ``sha256=`` prefix is allowed)."""
    if not secret or not signature_hex:
        return False
    given = signature_hex.strip().removeprefix("sha256=").lower()
    return hmac.compare_digest(sign_hmac(body, secret).encode(), given.encode())


# --- parsing ------------------------------------------------------------------------------------

TWILIO_DELIVERED = frozenset({"delivered", "read"})
TWILIO_FAILED = frozenset({"failed", "undelivered", "canceled"})
GATEWAY_DELIVERED = frozenset({"delivered", "completed", "answered"})
GATEWAY_FAILED = frozenset(
    {"failed", "no-answer", "no_answer", "busy", "canceled", "cancelled", "rejected", "undelivered"}
)


def _json(payload: bytes | str | Any) -> Any:
    if isinstance(payload, bytes | str):
        try:
            return json.loads(payload)
        except ValueError as exc:
            raise ReceiptError(f"not JSON: {exc}") from exc
    return payload


def _items(payload: bytes | str | Any, provider: str) -> list[Mapping[str, Any]]:
    data = _json(payload)
    if isinstance(data, Mapping):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(i, Mapping) for i in data):
        raise ReceiptError(f"a {provider} receipt is a JSON list of objects")
    return list(data)


def _twilio(payload: bytes | str | Mapping[str, str] | Iterable[tuple[str, str]]) -> list[Receipt]:
    if isinstance(payload, bytes):
        payload = payload.decode()
    if isinstance(payload, str):
        params = dict(parse_qsl(payload, keep_blank_values=True))
    elif isinstance(payload, Mapping):
        params = {str(k): str(v) for k, v in payload.items()}
    else:
        params = {str(k): str(v) for k, v in payload}
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    status = (params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
    if not sid or not status:
        raise ReceiptError("a Twilio status callback has MessageSid and MessageStatus")
    if status in TWILIO_DELIVERED:
        return [Receipt(sid, "delivered", status)]
    if status in TWILIO_FAILED:
        code = params.get("ErrorCode", "")
        return [Receipt(sid, "failed", f"{status}: {code}" if code else status)]
    return []


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


def _aliyun(payload: bytes | str | Any) -> list[Receipt]:
    receipts = []
    for item in _items(payload, "aliyun"):
        ref = str(item.get("biz_id") or "")
        if not ref or "success" not in item:
            raise ReceiptError("an Aliyun SmsReport item has biz_id and success")
        code, text = str(item.get("err_code", "")), str(item.get("err_msg", ""))
        if _truthy(item["success"]):
            receipts.append(Receipt(ref, "delivered", code))
        else:
            receipts.append(Receipt(ref, "failed", f"{code}: {text}".strip(": ")))
    return receipts


def _tencent(payload: bytes | str | Any) -> list[Receipt]:
    receipts = []
    for item in _items(payload, "tencent"):
        ref = str(item.get("sid") or "")
        status = str(item.get("report_status", "")).upper()
        if not ref or status not in {"SUCCESS", "FAIL"}:
            raise ReceiptError("a Tencent callback item has sid and report_status SUCCESS|FAIL")
        code, text = str(item.get("errmsg", "")), str(item.get("description", ""))
        if status == "SUCCESS":
            receipts.append(Receipt(ref, "delivered", code))
        else:
            receipts.append(Receipt(ref, "failed", f"{code}: {text}".strip(": ")))
    return receipts


def _gateway(payload: bytes | str | Any) -> list[Receipt]:
    receipts = []
    for item in _items(payload, "gateway"):
        ref = str(item.get("id") or item.get("call_id") or item.get("provider_ref") or "")
        status = str(item.get("status", "")).lower()
        if not ref or not status:
            raise ReceiptError("a gateway receipt has id and status")
        detail = str(item.get("detail", ""))
        if status in GATEWAY_DELIVERED:
            receipts.append(Receipt(ref, "delivered", detail or status))
        elif status in GATEWAY_FAILED:
            receipts.append(Receipt(ref, "failed", f"{status}: {detail}" if detail else status))
    return receipts


PARSERS = {
    "twilio": _twilio,
    "aliyun": _aliyun,
    "tencent": _tencent,
    "voice": _gateway,
    "arrears": _gateway,
}


def parse_receipts(provider: str, payload: Any) -> list[Receipt]:
    """Final delivery outcomes in a provider's callback payload (raw bytes or parsed)."""
    try:
        parser = PARSERS[provider]
    except KeyError:
        raise ReceiptError(f"unknown receipt provider {provider!r}") from None
    result: list[Receipt] = parser(payload)
    return result
