"""Tencent Cloud SMS: API 3.0 ``SendSms``, version 2021-01-11, signed TC3-HMAC-SHA256.

Like Aliyun, Tencent sends only approved templates: the template id comes from
``metadata["provider_template"]``, else the ``TENCENT_SMS_TEMPLATES`` map keyed by our template
name, else ``TENCENT_SMS_TEMPLATE_ID``. ``TemplateParamSet`` is positional: the ``metadata``
entries ``param.1``, ``param.2`` … in numeric order; with none, the rendered body is the single
parameter. Our idempotency key travels as ``SessionContext`` (returned verbatim by Tencent).

Tencent answers HTTP 200 for almost everything; the outcome is in ``Response.Error`` (the
whole request failed) or in each ``SendStatusSet`` entry's ``Code`` (``Ok`` or an error code).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping

import httpx

from arrears.channels.base import (
    ChannelConfigError,
    OutboundMessage,
    SendResult,
    failed,
    http_status_result,
    require_set,
    retry,
    sent,
    transport_result,
)
from arrears.channels.signing import tc3_authorization

DEFAULT_ENDPOINT = "https://sms.tencentcloudapi.com/"
API_VERSION = "2021-01-11"
SERVICE = "sms"
CONTENT_TYPE = "application/json; charset=utf-8"
SIGNED_HEADERS = ("content-type", "host", "x-tc-action")

#: Codes (or prefixes) that mean "not now".
TRANSIENT_PREFIXES = (
    "InternalError",
    "RequestLimitExceeded",
    "LimitExceeded.PhoneNumberThirtySecondLimit",  # 30 s per number: the next try passes
    "ResourceUnavailable",
)
KNOWN_PERMANENT = {
    "InvalidParameterValue.IncorrectPhoneNumber": "invalid mobile number",
    "FailedOperation.PhoneNumberInBlacklist": "number on the provider's block list",
    "FailedOperation.TemplateIncorrectOrUnapproved": "template not approved",
    "FailedOperation.SignatureIncorrectOrUnapproved": "signature (签名) not approved",
    "FailedOperation.InsufficientBalanceInSmsPackage": "SMS package exhausted",
    "AuthFailure.SignatureFailure": "request signature rejected (check TENCENT_SECRET_KEY)",
    "AuthFailure.SecretIdNotFound": "unknown TENCENT_SECRET_ID",
}


def classify(code: str, message: str, ref: str = "") -> SendResult:
    """Map a Tencent error code (or ``Ok``) to sent / retry / failed.

    ``FailedOperation.*`` and every other business code are permanent.
    """
    if code.lower() == "ok":
        return sent(ref)
    detail = f"{code}: {message}"
    if code in KNOWN_PERMANENT:
        detail = f"{detail} ({KNOWN_PERMANENT[code]})"
    if code.startswith(TRANSIENT_PREFIXES):
        return retry(detail)
    return failed(detail)


class TencentSms:
    """SMS through Tencent Cloud SMS ``SendSms``."""

    name = "sms"
    provider = "tencent"

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        sign_name: str = "",
        template_id: str = "",
        templates: Mapping[str, str] | None = None,
        region: str = "ap-guangzhou",
        endpoint: str = DEFAULT_ENDPOINT,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        require_set(
            ("TENCENT_SECRET_ID", secret_id),
            ("TENCENT_SECRET_KEY", secret_key),
            ("TENCENT_SMS_SDK_APP_ID", sdk_app_id),
        )
        if not template_id and not templates:
            raise ChannelConfigError(
                "TENCENT_SMS_TEMPLATE_ID", "is not set (nor TENCENT_SMS_TEMPLATES)"
            )
        self.secret_id = secret_id
        self._secret_key = secret_key
        self.sdk_app_id = sdk_app_id
        self.sign_name = sign_name
        self.template_id = template_id
        self.templates = dict(templates or {})
        self.region = region
        self.endpoint = endpoint
        self.host = httpx.URL(endpoint).netloc.decode()
        self._client = client or httpx.Client(timeout=10.0)
        self._clock = clock

    def template_for(self, message: OutboundMessage) -> str:
        meta = message.metadata
        return (
            meta.get("provider_template")
            or self.templates.get(meta.get("template", ""), "")
            or self.template_id
        )

    def template_params(self, message: OutboundMessage) -> list[str]:
        numbered = sorted(
            (int(k.removeprefix("param.")), v)
            for k, v in message.metadata.items()
            if k.startswith("param.") and k.removeprefix("param.").isdigit()
        )
        return [v for _, v in numbered] or [message.body]

    def payload(self, message: OutboundMessage) -> bytes:
        body: dict[str, object] = {
            "PhoneNumberSet": [message.to],
            "SmsSdkAppId": self.sdk_app_id,
            "TemplateId": self.template_for(message),
            "TemplateParamSet": self.template_params(message),
            "SessionContext": message.idempotency_key,
        }
        if self.sign_name:
            body["SignName"] = self.sign_name
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    def headers(self, payload: bytes) -> dict[str, str]:
        timestamp = int(self._clock())
        headers = {
            "Content-Type": CONTENT_TYPE,
            "Host": self.host,
            "X-TC-Action": "SendSms",
            "X-TC-Version": API_VERSION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": self.region,
        }
        headers["Authorization"] = tc3_authorization(
            self.secret_id,
            self._secret_key,
            SERVICE,
            timestamp,
            "POST",
            headers,
            SIGNED_HEADERS,
            payload,
        )
        return headers

    def send(self, message: OutboundMessage) -> SendResult:
        if not self.template_for(message):
            return failed(f"no Tencent template for {message.metadata.get('template', '')!r}")
        payload = self.payload(message)
        try:
            response = self._client.post(
                self.endpoint, content=payload, headers=self.headers(payload)
            )
        except httpx.TransportError as exc:
            return transport_result(exc)
        if response.status_code != 200:
            return http_status_result(response.status_code, response.text[:200])
        try:
            answer = response.json()["Response"]
        except (ValueError, KeyError, TypeError):
            return failed(f"unreadable answer: {response.text[:200]}")
        error = answer.get("Error")
        if isinstance(error, dict):
            return classify(str(error.get("Code", "")), str(error.get("Message", "")))
        statuses = answer.get("SendStatusSet") or []
        if not statuses:
            return failed(f"no SendStatusSet in answer (RequestId {answer.get('RequestId')})")
        status = statuses[0]
        return classify(
            str(status.get("Code", "")),
            str(status.get("Message", "")),
            str(status.get("SerialNo", "")),
        )

    def close(self) -> None:
        self._client.close()
