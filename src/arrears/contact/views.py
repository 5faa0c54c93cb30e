"""Delivery receipts: providers call back; a genuine callback moves the message to delivered/failed.

Twilio signs its callbacks (``X-Twilio-Signature``, checked with ``TWILIO_AUTH_TOKEN``).
Aliyun and Tencent do not, so their callbacks — and our own voice gateway's — must carry
``X-Arrears-Signature``: hex HMAC-SHA256 of the raw body with ``ARREARS_RECEIPT_SECRET`` (a
relay in front of the provider adds it). Anything unsigned or wrongly signed is refused (403)
and changes nothing.

A genuine receipt can still be replayed (issue 14), so a receipt also has to be *new*:

* one whose provider time is older than ``ARREARS_RECEIPT_MAX_AGE`` seconds (default 86400),
  or more than five minutes in the future, is ignored and counted as ``stale``;
* a message only moves forward: sent/uncertain → delivered or failed, failed → delivered (a
  carrier's later retry got through); a delivered message never changes again. So a replay of
  an event already applied — the same provider message id and event — changes nothing and is
  counted as ``duplicate``, as is a repeat within one callback;
* a body that is too large or nested too deeply is a 400, like any malformed receipt.
"""

from __future__ import annotations

import os
from datetime import timedelta

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from arrears.channels import ReceiptError, parse_receipts, verify_hmac, verify_twilio
from arrears.contact.models import OutboxMessage

_Status = OutboxMessage.Status
#: The states a receipt may move a message from, by the event: only forward, and only once it
#: has left (never one still queued or suppressed). Delivered is final.
_FROM = {
    "delivered": (_Status.SENT, _Status.UNCERTAIN, _Status.FAILED),
    "failed": (_Status.SENT, _Status.UNCERTAIN),
}
#: How far in the future a provider's clock may be.
_SKEW = timedelta(minutes=5)


def max_age() -> timedelta:
    """``ARREARS_RECEIPT_MAX_AGE`` (seconds, default a day): older receipts are ignored."""
    raw = os.environ.get("ARREARS_RECEIPT_MAX_AGE", "86400")
    try:
        seconds = int(raw)
    except ValueError:
        raise RuntimeError(f"ARREARS_RECEIPT_MAX_AGE must be whole seconds, got {raw!r}") from None
    return timedelta(seconds=max(seconds, 1))


def _genuine(request: HttpRequest, provider: str) -> bool:
    if provider == "twilio":
        token = os.environ.get("TWILIO_AUTH_TOKEN", "")
        signature = request.headers.get("X-Twilio-Signature", "")
        params = list(request.POST.items())
        return bool(token) and verify_twilio(request.build_absolute_uri(), params, signature, token)
    secret = os.environ.get("ARREARS_RECEIPT_SECRET", "")
    signature = request.headers.get("X-Arrears-Signature", "")
    return bool(secret) and verify_hmac(request.body, signature, secret)


@csrf_exempt
@require_POST
def receipts(request: HttpRequest, provider: str) -> HttpResponse:
    if not _genuine(request, provider):
        return JsonResponse({"error": "signature missing or invalid"}, status=403)
    try:
        payload = request.POST if provider == "twilio" else request.body
        found = parse_receipts(provider, payload)
    except ReceiptError as error:
        return JsonResponse({"error": str(error)}, status=400)
    now = timezone.now()
    window = max_age()
    counts = {"receipts": len(found), "updated": 0, "duplicate": 0, "stale": 0}
    seen: set[tuple[str, str]] = set()
    for receipt in found:
        event = (receipt.provider_ref, receipt.status)
        if not receipt.provider_ref or event in seen:
            counts["duplicate"] += 1
            continue
        seen.add(event)
        if receipt.at is not None and not now - window <= receipt.at <= now + _SKEW:
            counts["stale"] += 1
            continue
        messages = OutboxMessage.objects.filter(
            provider_ref=receipt.provider_ref, status__in=_FROM[receipt.status]
        )
        if receipt.status == "delivered":
            moved = messages.update(status=_Status.DELIVERED, delivered_at=now)
        else:
            moved = messages.update(
                status=_Status.FAILED,
                status_reason=f"provider reported failure: {receipt.detail}"[:2000],
            )
        counts["updated"] += moved
        if (
            not moved
            and OutboxMessage.objects.filter(
                provider_ref=receipt.provider_ref,
                status=_Status.DELIVERED if receipt.status == "delivered" else _Status.FAILED,
            ).exists()
        ):
            counts["duplicate"] += 1
    return JsonResponse(counts)
