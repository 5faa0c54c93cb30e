"""Delivery receipts: providers call back; a genuine callback moves the message to delivered/failed.

Twilio signs its callbacks (``X-Twilio-Signature``, checked with ``TWILIO_AUTH_TOKEN``).
Aliyun and Tencent do not, so their callbacks — and our own voice gateway's — must carry
``X-Arrears-Signature``: hex HMAC-SHA256 of the raw body with ``ARREARS_RECEIPT_SECRET`` (a
relay in front of the provider adds it). Anything unsigned or wrongly signed is refused (403)
and changes nothing.
"""

from __future__ import annotations

import os

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from arrears.channels import ReceiptError, parse_receipts, verify_hmac, verify_twilio
from arrears.contact.models import OutboxMessage

#: A receipt may only move a message that has left (never one still queued or suppressed).
_RECEIVABLE = (
    OutboxMessage.Status.SENT,
    OutboxMessage.Status.UNCERTAIN,
    OutboxMessage.Status.DELIVERED,
)


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
    updated = 0
    for receipt in found:
        messages = OutboxMessage.objects.filter(
            provider_ref=receipt.provider_ref, status__in=_RECEIVABLE
        ).exclude(provider_ref="")
        if receipt.status == "delivered":
            updated += messages.update(
                status=OutboxMessage.Status.DELIVERED, delivered_at=timezone.now()
            )
        else:
            updated += messages.update(
                status=OutboxMessage.Status.FAILED,
                status_reason=f"provider reported failure: {receipt.detail}",
            )
    return JsonResponse({"receipts": len(found), "updated": updated})
