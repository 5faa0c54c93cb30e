"""Channels: the last step of a message — SMS, email, voice, letters, in-app. No Django.

One small interface (``base``): ``Channel.send(OutboundMessage) -> SendResult`` with status
``sent``, ``failed`` (permanent) or ``retry`` (transient), never an exception for a provider's
refusal or a network error. ``registry.from_env`` builds one channel per kind from environment
variables, defaulting to the log channel. Adapters: Aliyun SMS, Tencent Cloud SMS, Twilio
(``aliyun``, ``tencent``, ``twilio``; signatures in ``signing``), SMTP email (``smtp``), PDF
letters into a print-queue directory (``letter``), a generic robocall gateway (``voice``), the
log channel and in-app sink (``local``). ``receipts`` verifies and reads delivery callbacks.
See docs/channels.md.
"""

from arrears.channels.base import (
    KINDS,
    Channel,
    ChannelConfigError,
    OutboundMessage,
    SendResult,
)
from arrears.channels.local import InAppChannel, LogChannel, read_log
from arrears.channels.receipts import (
    Receipt,
    ReceiptError,
    parse_receipts,
    sign_hmac,
    verify_hmac,
    verify_twilio,
)
from arrears.channels.registry import describe, from_env

__all__ = [
    "KINDS",
    "Channel",
    "ChannelConfigError",
    "InAppChannel",
    "LogChannel",
    "OutboundMessage",
    "Receipt",
    "ReceiptError",
    "SendResult",
    "describe",
    "from_env",
    "parse_receipts",
    "read_log",
    "sign_hmac",
    "verify_hmac",
    "verify_twilio",
]
