"""Twilio Programmable Messaging: ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``.

A form POST with HTTP Basic auth (account SID : auth token). ``TWILIO_FROM`` is either a phone
number (sent as ``From``) or a Messaging Service SID ``MG…`` (sent as
``MessagingServiceSid``). The answer's ``sid`` is the provider reference that Twilio's status
callback (``receipts.parse_receipts("twilio", …)``) reports against.

Twilio has no idempotency key on this endpoint; our key is therefore not sent, and duplicate
protection rests on the outbox (one hand-over per key).
"""

from __future__ import annotations

import httpx

from arrears.channels.base import (
    OutboundMessage,
    SendResult,
    failed,
    http_status_result,
    require_set,
    retry,
    sent,
    transport_result,
)

DEFAULT_BASE_URL = "https://api.twilio.com"

#: Twilio error codes worth naming (all permanent but 20429/20003-style transients below).
KNOWN_ERRORS = {
    21211: "invalid 'To' phone number",
    21408: "region not enabled for this account",
    21610: "recipient has replied STOP (unsubscribed)",
    21614: "'To' number is not a mobile number",
    20003: "authentication failed (check TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN)",
}
TRANSIENT_ERRORS = frozenset({20429, 20500, 20503})


class TwilioSms:
    """SMS through Twilio's Messages resource."""

    name = "sms"
    provider = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_: str,
        base_url: str = DEFAULT_BASE_URL,
        status_callback: str = "",
        client: httpx.Client | None = None,
    ) -> None:
        require_set(
            ("TWILIO_ACCOUNT_SID", account_sid),
            ("TWILIO_AUTH_TOKEN", auth_token),
            ("TWILIO_FROM", from_),
        )
        self.account_sid = account_sid
        self._auth = (account_sid, auth_token)
        self.from_ = from_
        self.base_url = base_url.rstrip("/")
        self.status_callback = status_callback
        self._client = client or httpx.Client(timeout=10.0)

    @property
    def url(self) -> str:
        return f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    def form(self, message: OutboundMessage) -> dict[str, str]:
        form = {"To": message.to, "Body": message.body}
        if self.from_.startswith("MG"):
            form["MessagingServiceSid"] = self.from_
        else:
            form["From"] = self.from_
        if self.status_callback:
            form["StatusCallback"] = self.status_callback
        return form

    def send(self, message: OutboundMessage) -> SendResult:
        try:
            response = self._client.post(self.url, data=self.form(message), auth=self._auth)
        except httpx.TransportError as exc:
            return transport_result(exc)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            return http_status_result(response.status_code, response.text[:200])
        if response.status_code >= 300:
            code = answer.get("code")
            detail = f"{code}: {answer.get('message', '')}"
            if isinstance(code, int) and code in KNOWN_ERRORS:
                detail = f"{detail} ({KNOWN_ERRORS[code]})"
            if isinstance(code, int) and code in TRANSIENT_ERRORS:
                return retry(detail)
            return http_status_result(response.status_code, detail)
        sid = str(answer.get("sid", ""))
        error_code = answer.get("error_code")
        if answer.get("status") == "failed" or error_code:
            return failed(f"{error_code}: {answer.get('error_message', '')}", sid)
        return sent(sid, str(answer.get("status", "")))

    def close(self) -> None:
        self._client.close()
