"""Aliyun (Alibaba Cloud) SMS: ``SendSms`` of dysmsapi, API version 2017-05-25, RPC style.

Aliyun sends only pre-approved templates under a pre-approved signature (签名): the text is
fixed at the provider and we supply the template code and its parameters. The template code
comes from ``metadata["provider_template"]``, else from the ``ALIYUN_SMS_TEMPLATES`` map keyed
by our template name (``metadata["template"]``), else ``ALIYUN_SMS_TEMPLATE_CODE``. Template
parameters are the ``metadata`` entries named ``param.<name>``; with none, the rendered body is
passed as the single parameter ``ALIYUN_SMS_BODY_PARAM`` (default ``content``), for a
notification template registered as ``${content}``.

The request is a form POST signed with signature v1 (``signing.aliyun_signature``). Our
idempotency key goes out as ``OutId`` and comes back in the delivery report's ``out_id``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

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
from arrears.channels.signing import aliyun_signature, aliyun_timestamp

DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
API_VERSION = "2017-05-25"

#: Provider codes that mean "not now": throttling and provider-side faults.
TRANSIENT_CODES = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",  # per-number rate limit (1/min, 5/h …): later may pass
        "isp.SYSTEM_ERROR",
        "isp.GATEWAY_ERROR",
        "Throttling",
        "Throttling.User",
        "Throttling.Api",
        "ServiceUnavailable",
        "InternalError",
        "SignatureNonceUsed",  # our nonce collided: a new attempt has a new nonce
    }
)
#: A few permanent codes with a plain explanation (anything else non-OK is permanent too).
KNOWN_PERMANENT = {
    "isv.MOBILE_NUMBER_ILLEGAL": "invalid mobile number",
    "isv.BLACK_KEY_CONTROL_LIMIT": "number on the provider's block list",
    "isv.TEMPLATE_MISSING_PARAMETERS": "template parameters missing",
    "isv.SMS_TEMPLATE_ILLEGAL": "template not approved",
    "isv.SMS_SIGNATURE_ILLEGAL": "signature (签名) not approved",
    "isv.AMOUNT_NOT_ENOUGH": "account balance too low",
    "SignatureDoesNotMatch": "request signature rejected (check ALIYUN_ACCESS_KEY_SECRET)",
    "InvalidAccessKeyId.NotFound": "unknown ALIYUN_ACCESS_KEY_ID",
}


def classify(code: str, message: str, ref: str = "") -> SendResult:
    """Map Aliyun's ``Code`` to sent / retry / failed."""
    if code == "OK":
        return sent(ref)
    detail = f"{code}: {message}"
    if code in KNOWN_PERMANENT:
        detail = f"{detail} ({KNOWN_PERMANENT[code]})"
    if code in TRANSIENT_CODES:
        return retry(detail)
    return failed(detail)


class AliyunSms:
    """SMS through Aliyun dysmsapi ``SendSms``."""

    name = "sms"
    provider = "aliyun"

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        template_code: str = "",
        templates: Mapping[str, str] | None = None,
        body_param: str = "content",
        endpoint: str = DEFAULT_ENDPOINT,
        region_id: str = "cn-hangzhou",
        client: httpx.Client | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        nonce: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        require_set(
            ("ALIYUN_ACCESS_KEY_ID", access_key_id),
            ("ALIYUN_ACCESS_KEY_SECRET", access_key_secret),
            ("ALIYUN_SMS_SIGN_NAME", sign_name),
        )
        if not template_code and not templates:
            raise ChannelConfigError(
                "ALIYUN_SMS_TEMPLATE_CODE", "is not set (nor ALIYUN_SMS_TEMPLATES)"
            )
        self.access_key_id = access_key_id
        self._secret = access_key_secret
        self.sign_name = sign_name
        self.template_code = template_code
        self.templates = dict(templates or {})
        self.body_param = body_param
        self.endpoint = endpoint
        self.region_id = region_id
        self._client = client or httpx.Client(timeout=10.0)
        self._clock = clock
        self._nonce = nonce

    def template_for(self, message: OutboundMessage) -> str:
        meta = message.metadata
        return (
            meta.get("provider_template")
            or self.templates.get(meta.get("template", ""), "")
            or self.template_code
        )

    def template_params(self, message: OutboundMessage) -> dict[str, str]:
        params = {
            k.removeprefix("param."): v
            for k, v in message.metadata.items()
            if k.startswith("param.")
        }
        return params or {self.body_param: message.body}

    def request_params(self, message: OutboundMessage) -> dict[str, str]:
        """Every parameter of the request, ``Signature`` included."""
        params = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": message.idempotency_key,
            "PhoneNumbers": message.to.removeprefix("+"),
            "RegionId": self.region_id,
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": self._nonce(),
            "SignatureVersion": "1.0",
            "TemplateCode": self.template_for(message),
            "TemplateParam": json.dumps(
                self.template_params(message), ensure_ascii=False, separators=(",", ":")
            ),
            "Timestamp": aliyun_timestamp(self._clock()),
            "Version": API_VERSION,
        }
        params["Signature"] = aliyun_signature("POST", params, self._secret)
        return params

    def send(self, message: OutboundMessage) -> SendResult:
        if not self.template_for(message):
            return failed(f"no Aliyun template for {message.metadata.get('template', '')!r}")
        try:
            response = self._client.post(self.endpoint, data=self.request_params(message))
        except httpx.TransportError as exc:
            return transport_result(exc)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            return http_status_result(response.status_code, response.text[:200])
        code = str(answer.get("Code", ""))
        text = str(answer.get("Message", ""))
        if not code:
            return http_status_result(response.status_code, text or response.text[:200])
        if response.status_code == 429 or response.status_code >= 500:
            return retry(f"HTTP {response.status_code}: {code}: {text}")
        return classify(code, text, str(answer.get("BizId", "")))

    def close(self) -> None:
        self._client.close()
