"""Voice reminders (robocalls) through a provider-agnostic text-to-speech gateway.

Agent calls are call tasks for people and never come here; this is only the automated,
recorded reminder. The contract is deliberately small so any TTS/IVR vendor can sit behind a
thin shim (docs/channels.md, "Voice gateway contract"):

``POST ARREARS_VOICE_URL`` with ``Authorization: Bearer ARREARS_VOICE_TOKEN``,
``Idempotency-Key: <key>`` and the JSON body
``{"to", "text", "locale", "callback_url", "idempotency_key"}``. A 2xx answer with
``{"id": "..."}`` (or ``call_id``) means the call is queued; the outcome arrives later on
``callback_url`` signed with ``receipts.sign_hmac`` and is read by
``receipts.parse_receipts("voice", …)``.
"""

from __future__ import annotations

import json

import httpx

from arrears.channels.base import (
    ChannelConfigError,
    OutboundMessage,
    SendResult,
    http_status_result,
    sent,
    transport_result,
)


class VoiceGateway:
    """Robocall reminders via a generic HTTP TTS gateway."""

    name = "voice"
    provider = "gateway"

    def __init__(
        self,
        *,
        url: str,
        token: str,
        callback_url: str = "",
        client: httpx.Client | None = None,
    ) -> None:
        if not url:
            raise ChannelConfigError("ARREARS_VOICE_URL")
        if not token:
            raise ChannelConfigError("ARREARS_VOICE_TOKEN")
        self.url = url
        self._token = token
        self.callback_url = callback_url
        self._client = client or httpx.Client(timeout=10.0)

    def payload(self, message: OutboundMessage) -> dict[str, str]:
        return {
            "to": message.to,
            "text": message.body,
            "locale": message.locale,
            "callback_url": self.callback_url,
            "idempotency_key": message.idempotency_key,
        }

    def send(self, message: OutboundMessage) -> SendResult:
        body = json.dumps(self.payload(message), ensure_ascii=False).encode()
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": message.idempotency_key,
        }
        try:
            response = self._client.post(self.url, content=body, headers=headers)
        except httpx.TransportError as exc:
            return transport_result(exc)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not 200 <= response.status_code < 300:
            detail = response.text[:200]
            if isinstance(answer, dict) and ("code" in answer or "error" in answer):
                reason = answer.get("error") or answer.get("message", "")
                detail = f"{answer.get('code', '')}: {reason}"
            return http_status_result(response.status_code, detail)
        ref = ""
        if isinstance(answer, dict):
            ref = str(answer.get("id") or answer.get("call_id") or "")
        if not ref:  # accepted all the same: the call will happen, receipts cannot match it
            return sent("", f"gateway returned no call id: {response.text[:200]}")
        return sent(ref)

    def close(self) -> None:
        self._client.close()
