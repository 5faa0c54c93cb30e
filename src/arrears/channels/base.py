"""The one small interface every channel implements, and the rules they share.

The outbox dispatcher is the only caller. It needs three things from a channel and nothing
more: hand over one rendered message, learn whether it left (``sent``), will never leave
(``failed``) or may leave if tried again later (``retry``), and keep the provider's reference
so a delivery receipt can find the message again. A provider refusing a message or the network
failing is therefore a *result*, never an exception: the dispatcher must be able to record it
and move on to the next message. Only a channel that cannot work at all — a credential missing
from the environment — raises, and it does so when it is built, so a dispatcher never starts
half-configured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import httpx

ChannelKind = Literal["sms", "email", "voice", "letter", "in_app"]
Status = Literal["sent", "failed", "retry"]

#: Channel kinds the outbox produces; each gets exactly one configured channel.
KINDS: tuple[str, ...] = ("sms", "email", "voice", "letter", "in_app")

#: Seconds a provider call may take before it counts as a (transient) timeout.
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class OutboundMessage:
    """A message exactly as the compliance gate approved it.

    Channels must not change the text: the gate screened *this* subject and body. Providers
    that only send registered templates (Aliyun, Tencent) take the template's parameters from
    ``metadata`` instead — see docs/channels.md.

    ``attachment`` is a finished document that goes with the text (a lawyer's letter PDF, made
    and fingerprinted when the letter was issued): the letter channel prints it instead of laying
    out the body, email attaches it as ``attachment_name``. Other channels ignore it.
    """

    idempotency_key: str
    channel: str  # "sms" | "email" | "voice" | "letter" | "in_app"
    to: str  # E.164 phone, email address, postal address block, or user id
    subject: str
    body: str
    locale: str  # "zh-CN" | "en"
    sender_name: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)
    attachment: bytes | None = None
    attachment_name: str = ""


@dataclass(frozen=True)
class SendResult:
    """What became of one hand-over.

    ``retry`` is for transient trouble (HTTP 429/5xx, timeouts, connection errors, provider
    throttling); ``failed`` is permanent (the request itself is wrong: invalid number, refused
    content, bad credentials). ``detail`` carries the provider's error code and message so the
    outbox row explains itself.
    """

    status: Status
    provider_ref: str = ""
    detail: str = ""


@runtime_checkable
class Channel(Protocol):
    """Anything with a ``name`` and a ``send`` that never raises for a provider's refusal."""

    name: str

    def send(self, message: OutboundMessage) -> SendResult: ...


class ChannelConfigError(Exception):
    """A channel cannot be built: the message names the environment variable to set."""

    def __init__(self, variable: str, reason: str = "is not set") -> None:
        self.variable = variable
        super().__init__(f"{variable} {reason}")


def require_set(*pairs: tuple[str, str]) -> None:
    """Refuse to build a channel while any ``(variable, value)`` credential is empty."""
    for variable, value in pairs:
        if not value:
            raise ChannelConfigError(variable)


def sent(ref: str, detail: str = "") -> SendResult:
    return SendResult("sent", ref, detail)


def failed(detail: str, ref: str = "") -> SendResult:
    return SendResult("failed", ref, detail)


def retry(detail: str, ref: str = "") -> SendResult:
    return SendResult("retry", ref, detail)


def require(environ: Mapping[str, str], name: str) -> str:
    """The variable's value, or a ChannelConfigError naming it (blank counts as missing)."""
    value = environ.get(name, "").strip()
    if not value:
        raise ChannelConfigError(name)
    return value


def optional(environ: Mapping[str, str], name: str, default: str = "") -> str:
    value = environ.get(name, "").strip()
    return value or default


def http_status_result(status_code: int, detail: str) -> SendResult:
    """Transient vs permanent for an HTTP answer that is not a success.

    429 and 5xx mean "not now": the same request may succeed later. Any other 4xx means the
    request is wrong and sending it again would be refused again.
    """
    if status_code == 429 or status_code >= 500:
        return retry(f"HTTP {status_code}: {detail}")
    return failed(f"HTTP {status_code}: {detail}")


def transport_result(exc: httpx.TransportError) -> SendResult:
    """A network failure is transient. A timeout *after* the request went out is ambiguous —
    the provider may have accepted it — and the detail says so, so the outbox can tell."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return retry(f"not sent: {type(exc).__name__}: {exc}")
    return retry(
        f"outcome unknown (request may have reached the provider): {type(exc).__name__}: {exc}"
    )


def timeout_seconds(environ: Mapping[str, str]) -> float:
    """ARREARS_CHANNEL_TIMEOUT: seconds a provider call (HTTP or SMTP) may take."""
    raw = optional(environ, "ARREARS_CHANNEL_TIMEOUT", str(DEFAULT_TIMEOUT))
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ChannelConfigError("ARREARS_CHANNEL_TIMEOUT", f"is not a positive number: {raw!r}")
    return value
