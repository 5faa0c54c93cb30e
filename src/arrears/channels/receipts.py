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

A signature proves who sent a receipt, not when: a captured, genuine callback can be posted
again later (issue 14). So each ``Receipt`` carries the time the provider reports (``at``:
Aliyun ``report_time``, Tencent ``user_receive_time``, our gateway's ``timestamp``; Twilio sends
none) for the webhook to refuse stale ones, and the payload is bounded (size, JSON nesting)
before it is parsed, so a hostile body is a ``ReceiptError`` (400), never a ``RecursionError``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final, Literal, NamedTuple
from urllib.parse import parse_qsl, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from arrears.channels.signing import Params, twilio_signature

DeliveryStatus = Literal["delivered", "failed"]


#: Largest receipt body (bytes): a provider batches at most a few hundred items.
MAX_BODY: Final = 1_000_000
#: Deepest JSON nesting read (a receipt is a list of flat objects).
MAX_NESTING: Final = 16
#: The zone Aliyun and Tencent write their report times in.
_CHINA = ZoneInfo("Asia/Shanghai")


class Receipt(NamedTuple):
    provider_ref: str
    status: DeliveryStatus
    detail: str = ""
    #: When the provider says the outcome happened (aware), or ``None`` when it does not say.
    at: datetime | None = None


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


def _nesting(text: str | bytes) -> int:
    """How deeply the JSON text nests arrays and objects (brackets inside strings skipped)."""
    data = text.encode("utf-8", "replace") if isinstance(text, str) else text
    depth = deepest = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_NESTING:
                    return deepest
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _json(payload: bytes | str | Any) -> Any:
    if isinstance(payload, bytes | str):
        if len(payload) > MAX_BODY:
            raise ReceiptError(f"larger than {MAX_BODY:,} bytes")
        if _nesting(payload) > MAX_NESTING:
            raise ReceiptError(f"JSON nested more than {MAX_NESTING} levels deep")
        try:
            return json.loads(payload)
        except (ValueError, RecursionError) as exc:
            raise ReceiptError(f"not JSON: {str(exc)[:200]}") from None
    return payload


def _when(value: Any, what: str, zone: ZoneInfo = _CHINA) -> datetime | None:
    """A provider's event time: ``YYYY-MM-DD HH:MM:SS`` (in ``zone`` unless it has an offset),
    ISO 8601, or Unix seconds; ``None`` when absent."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool):
            raise ValueError("a boolean")
        if isinstance(value, int | float):
            return datetime.fromtimestamp(float(value), UTC)
        text = str(value).strip()
        if len(text) > 40:
            raise ValueError("too long")
        if text.isdigit():
            return datetime.fromtimestamp(int(text), UTC)
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError) as exc:
        raise ReceiptError(f"{what}: not a time: {str(value)[:40]!r} ({exc})") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=zone)


def _items(payload: bytes | str | Any, provider: str) -> list[Mapping[str, Any]]:
    data = _json(payload)
    if isinstance(data, Mapping):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(i, Mapping) for i in data):
        raise ReceiptError(f"a {provider} receipt is a JSON list of objects")
    return list(data)


def _twilio(payload: bytes | str | Mapping[str, str] | Iterable[tuple[str, str]]) -> list[Receipt]:
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8", "replace")
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
        at = _when(item.get("report_time"), "report_time")
        if _truthy(item["success"]):
            receipts.append(Receipt(ref, "delivered", code, at))
        else:
            receipts.append(Receipt(ref, "failed", f"{code}: {text}".strip(": "), at))
    return receipts


def _tencent(payload: bytes | str | Any) -> list[Receipt]:
    receipts = []
    for item in _items(payload, "tencent"):
        ref = str(item.get("sid") or "")
        status = str(item.get("report_status", "")).upper()
        if not ref or status not in {"SUCCESS", "FAIL"}:
            raise ReceiptError("a Tencent callback item has sid and report_status SUCCESS|FAIL")
        code, text = str(item.get("errmsg", "")), str(item.get("description", ""))
        at = _when(item.get("user_receive_time"), "user_receive_time")
        if status == "SUCCESS":
            receipts.append(Receipt(ref, "delivered", code, at))
        else:
            receipts.append(Receipt(ref, "failed", f"{code}: {text}".strip(": "), at))
    return receipts


def _gateway(payload: bytes | str | Any) -> list[Receipt]:
    receipts = []
    for item in _items(payload, "gateway"):
        ref = str(item.get("id") or item.get("call_id") or item.get("provider_ref") or "")
        status = str(item.get("status", "")).lower()
        if not ref or not status:
            raise ReceiptError("a gateway receipt has id and status")
        detail = str(item.get("detail", ""))
        at = _when(item.get("timestamp"), "timestamp", ZoneInfo("UTC"))
        if status in GATEWAY_DELIVERED:
            receipts.append(Receipt(ref, "delivered", detail or status, at))
        elif status in GATEWAY_FAILED:
            receipts.append(Receipt(ref, "failed", f"{status}: {detail}" if detail else status, at))
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
