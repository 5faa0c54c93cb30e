"""Where a request came from (for the sign-in lockout and the audit chain's sign-in entries)."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def client_ip(request: Any) -> str:
    """The address a request came from: ``REMOTE_ADDR``, or — only behind a proxy the
    operator trusts (``ARREARS_TRUST_X_FORWARDED_FOR=1``) — the left-most address of
    ``X-Forwarded-For``. Used both for the lockout key and the audit entry, so the two agree;
    a header from an untrusted client is never believed (it would let anyone pick the address
    their failures count against)."""
    meta = getattr(request, "META", {}) or {}
    if getattr(settings, "ARREARS_TRUST_X_FORWARDED_FOR", False):
        forwarded = str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",")[0].strip()
        if forwarded:
            return forwarded[:45]
    return str(meta.get("REMOTE_ADDR", ""))[:45]
