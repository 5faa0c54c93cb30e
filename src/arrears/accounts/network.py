"""Where a request came from (for the sign-in lockout and the audit chain's sign-in entries)."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def client_ip(request: Any) -> str:
    """The address a request came from: ``REMOTE_ADDR``, or — only behind a proxy the
    operator trusts (``ARREARS_TRUST_X_FORWARDED_FOR=1``) — the right-most address of
    ``X-Forwarded-For``: the one our proxy appended, the address it saw. Everything left of it
    came from the client and could be anything, so a client who sends its own header cannot
    choose the address its failures count against (whether the proxy appends, as nginx's
    ``$proxy_add_x_forwarded_for`` does, or replaces the header). Used both for the lockout
    key and the audit entry, so the two agree; without the setting the header is ignored."""
    meta = getattr(request, "META", {}) or {}
    if getattr(settings, "ARREARS_TRUST_X_FORWARDED_FOR", False):
        forwarded = str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",")[-1].strip()
        if forwarded:
            return forwarded[:45]
    return str(meta.get("REMOTE_ADDR", ""))[:45]
