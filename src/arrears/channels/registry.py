"""Build the channels from environment variables (every variable is in docs/channels.md).

With nothing set, every kind gets a ``LogChannel``: nothing leaves the system, which is the
right default for the demo and for development. A provider is used only when it is asked for
(``ARREARS_SMS_PROVIDER``) or its address is given (``ARREARS_SMTP_HOST``,
``ARREARS_LETTER_DIR``, ``ARREARS_VOICE_URL``); once asked for, every credential it needs must
be there, or ``ChannelConfigError`` names the missing variable — a dispatcher never starts
sending through a half-configured provider, and never silently falls back to the log.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping

import httpx

from arrears.channels import aliyun, tencent, twilio
from arrears.channels.base import (
    KINDS,
    Channel,
    ChannelConfigError,
    optional,
    require,
    timeout_seconds,
)
from arrears.channels.letter import PdfLetters
from arrears.channels.local import InAppChannel, InAppSink, LogChannel
from arrears.channels.smtp import SmtpEmail
from arrears.channels.voice import VoiceGateway

SMS_PROVIDERS = ("aliyun", "tencent", "twilio", "log")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = optional(environ, name).lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ChannelConfigError(name, f"must be true or false, not {raw!r}")


def _templates(environ: Mapping[str, str], name: str) -> dict[str, str]:
    raw = optional(environ, name)
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ChannelConfigError(name, f"is not JSON: {exc}") from exc
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ChannelConfigError(name, 'must be a JSON object {"our template": "provider code"}')
    return data


def _sms(environ: Mapping[str, str], log: LogChannel, timeout: float) -> Channel:
    provider = optional(environ, "ARREARS_SMS_PROVIDER", "log").lower()
    if provider == "log":
        return log
    client = httpx.Client(timeout=timeout)
    if provider == "aliyun":
        return aliyun.AliyunSms(
            access_key_id=require(environ, "ALIYUN_ACCESS_KEY_ID"),
            access_key_secret=require(environ, "ALIYUN_ACCESS_KEY_SECRET"),
            sign_name=require(environ, "ALIYUN_SMS_SIGN_NAME"),
            template_code=optional(environ, "ALIYUN_SMS_TEMPLATE_CODE"),
            templates=_templates(environ, "ALIYUN_SMS_TEMPLATES"),
            body_param=optional(environ, "ALIYUN_SMS_BODY_PARAM", "content"),
            endpoint=optional(environ, "ALIYUN_SMS_ENDPOINT", aliyun.DEFAULT_ENDPOINT),
            region_id=optional(environ, "ALIYUN_SMS_REGION", "cn-hangzhou"),
            client=client,
        )
    if provider == "tencent":
        return tencent.TencentSms(
            secret_id=require(environ, "TENCENT_SECRET_ID"),
            secret_key=require(environ, "TENCENT_SECRET_KEY"),
            sdk_app_id=require(environ, "TENCENT_SMS_SDK_APP_ID"),
            sign_name=optional(environ, "TENCENT_SMS_SIGN_NAME"),
            template_id=optional(environ, "TENCENT_SMS_TEMPLATE_ID"),
            templates=_templates(environ, "TENCENT_SMS_TEMPLATES"),
            region=optional(environ, "TENCENT_SMS_REGION", "ap-guangzhou"),
            endpoint=optional(environ, "TENCENT_SMS_ENDPOINT", tencent.DEFAULT_ENDPOINT),
            client=client,
        )
    if provider == "twilio":
        return twilio.TwilioSms(
            account_sid=require(environ, "TWILIO_ACCOUNT_SID"),
            auth_token=require(environ, "TWILIO_AUTH_TOKEN"),
            from_=require(environ, "TWILIO_FROM"),
            base_url=optional(environ, "TWILIO_BASE_URL", twilio.DEFAULT_BASE_URL),
            status_callback=optional(environ, "TWILIO_STATUS_CALLBACK"),
            client=client,
        )
    client.close()
    raise ChannelConfigError(
        "ARREARS_SMS_PROVIDER", f"must be one of {', '.join(SMS_PROVIDERS)}, not {provider!r}"
    )


def _email(environ: Mapping[str, str], timeout: float) -> SmtpEmail:
    raw_port = optional(environ, "ARREARS_SMTP_PORT", "587")
    if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
        raise ChannelConfigError("ARREARS_SMTP_PORT", f"is not a port number: {raw_port!r}")
    ca_file = optional(environ, "ARREARS_SMTP_CA_FILE")
    context = None
    if ca_file:
        try:
            context = ssl.create_default_context(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ChannelConfigError("ARREARS_SMTP_CA_FILE", f"cannot be loaded: {exc}") from exc
    return SmtpEmail(
        host=require(environ, "ARREARS_SMTP_HOST"),
        port=int(raw_port),
        from_addr=require(environ, "ARREARS_SMTP_FROM"),
        username=optional(environ, "ARREARS_SMTP_USER"),
        password=optional(environ, "ARREARS_SMTP_PASSWORD"),
        starttls=_flag(environ, "ARREARS_SMTP_STARTTLS", True),
        ssl_context=context,
        timeout=timeout,
    )


def from_env(
    environ: Mapping[str, str], *, in_app_sink: InAppSink | None = None
) -> dict[str, Channel]:
    """One channel per kind (``sms``, ``email``, ``voice``, ``letter``, ``in_app``).

    ``in_app_sink`` is the web side's store for portal messages; without one, in-app
    messages go to the log channel.
    """
    timeout = timeout_seconds(environ)
    log_path = optional(environ, "ARREARS_CHANNEL_LOG") or None
    logs = {kind: LogChannel(kind, log_path) for kind in KINDS}
    channels: dict[str, Channel] = dict(logs)
    channels["sms"] = _sms(environ, logs["sms"], timeout)
    if optional(environ, "ARREARS_SMTP_HOST"):
        channels["email"] = _email(environ, timeout)
    if optional(environ, "ARREARS_LETTER_DIR"):
        channels["letter"] = PdfLetters(require(environ, "ARREARS_LETTER_DIR"))
    if optional(environ, "ARREARS_VOICE_URL"):
        channels["voice"] = VoiceGateway(
            url=require(environ, "ARREARS_VOICE_URL"),
            token=require(environ, "ARREARS_VOICE_TOKEN"),
            callback_url=optional(environ, "ARREARS_VOICE_CALLBACK_URL"),
            client=httpx.Client(timeout=timeout),
        )
    if in_app_sink is not None:
        channels["in_app"] = InAppChannel(in_app_sink)
    return channels


def describe(channels: Mapping[str, Channel]) -> str:
    """One line for a dispatcher's start-up log: ``sms=aliyun email=log …``."""
    return " ".join(
        f"{kind}={getattr(channel, 'provider', type(channel).__name__)}"
        for kind, channel in sorted(channels.items())
    )
