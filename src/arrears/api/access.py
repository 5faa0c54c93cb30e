"""Integration keys and the per-key rate limit: the one place that decides who may call.

Keys are ``ark_`` + 256 random bits, shown once (``arrears api token create``) and stored as
their SHA-256 (:func:`arrears.api.common.hash_key`, the same as agency keys and portal tokens).
A key works while it is not revoked and its integration is active; each use stamps
``last_used`` (at most once a minute, so reads do not turn into a write per request).

The rate limit is a fixed window per key and minute, counted in the database
(:class:`RateWindow`): an insert that a unique constraint guards, then an ``UPDATE … SET count
= count + 1`` — one atomic statement on SQLite and PostgreSQL — so every server process shares
one count and no check-then-write race lets extra requests through.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from arrears import errorcodes
from arrears.api.common import check_scopes, hash_key
from arrears.api.models import Integration, IntegrationToken, RateWindow
from arrears.kernel.errors import ArrearsError

#: What a key may be allowed to do (an endpoint names the one it needs).
SCOPES = (
    "loans:read",
    "loans:write",
    "payments:read",
    "payments:write",
    "cases:read",
    "contacts:read",
    "contacts:write",
    "promises:read",
    "promises:write",
    "plans:read",
    "plans:write",
    "holds:read",
    "holds:write",
    "gate:read",
)
#: Prefix of every key, so a leaked key is recognisable in logs and secret scanners.
KEY_PREFIX = "ark_"
#: The longest key looked up (anything longer is not one of ours).
MAX_KEY = 200
#: The default requests per minute of a new key.
DEFAULT_RATE_LIMIT = 600
#: The most a key may be given.
MAX_RATE_LIMIT = 100_000

errorcodes.define(
    {
        "api-integration-name": "an integration needs a name of 1 to 80 characters",
        "api-token-scope": "%(value)s is not one of %(allowed)s",
        "api-token-no-scope": "a key needs at least one scope",
        "api-token-rate": "the rate limit must be 1 to %(max)s requests a minute",
    }
)


class IntegrationAccessError(ArrearsError):
    code = "api-access"


def integration(name: str) -> Integration:
    """The integration called ``name``, created (with its service account) when new."""
    name = name.strip()
    if not name or len(name) > 80:
        raise errorcodes.refuse(IntegrationAccessError, "api-integration-name", field="name")
    found = Integration.objects.filter(name=name).first()
    if found is not None:
        return found
    users = get_user_model()
    with transaction.atomic():
        user, made = users.objects.get_or_create(username=f"api:{name}"[:150])
        if made:  # a service account: nobody signs in with it
            user.set_unusable_password()
            user.save()
        return Integration.objects.create(name=name, user=user)


def create_token(
    owner: Integration,
    scopes: list[str] | tuple[str, ...],
    *,
    rate_limit: int = DEFAULT_RATE_LIMIT,
) -> str:
    """A new key for ``owner`` with ``scopes``; returns the plain key (never stored)."""
    wanted = sorted({s.strip() for s in scopes if s.strip()})
    check_scopes(
        wanted, SCOPES, IntegrationAccessError, none="api-token-no-scope", unknown="api-token-scope"
    )
    if not 1 <= rate_limit <= MAX_RATE_LIMIT:
        raise errorcodes.refuse(
            IntegrationAccessError, "api-token-rate", field="rate_limit", max=MAX_RATE_LIMIT
        )
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    IntegrationToken.objects.create(
        integration=owner,
        key_hash=hash_key(key),
        key_hint=key[-4:],
        scopes=wanted,
        rate_limit=rate_limit,
    )
    return key


def token_for(key: str) -> IntegrationToken | None:
    """The live key ``key`` (unrevoked, of an active integration), or ``None``."""
    if not key or len(key) > MAX_KEY:
        return None
    found = (
        IntegrationToken.objects.filter(
            key_hash=hash_key(key), revoked_at__isnull=True, integration__active=True
        )
        .select_related("integration", "integration__user")
        .first()
    )
    if found is None:
        return None
    now = timezone.now()
    if found.last_used is None or now - found.last_used >= timedelta(minutes=1):
        IntegrationToken.objects.filter(pk=found.pk).update(last_used=now)
        found.last_used = now
    return found


def revoke_token(token: IntegrationToken) -> None:
    """Switch a key off for good (the row stays for the record)."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


@dataclass(frozen=True, slots=True)
class RateCheck:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # seconds until the window ends


def count_request(token: IntegrationToken) -> RateCheck:
    """Count one request of ``token`` in the current minute and say whether it is allowed."""
    now = timezone.now().timestamp()
    window = int(now // 60)
    with transaction.atomic():
        updated = RateWindow.objects.filter(token=token, window=window).update(count=F("count") + 1)
        if not updated:
            try:
                with transaction.atomic():
                    RateWindow.objects.create(token=token, window=window, count=1)
            except IntegrityError:  # another process opened the window first
                RateWindow.objects.filter(token=token, window=window).update(count=F("count") + 1)
            else:
                RateWindow.objects.filter(token=token, window__lt=window - 1).delete()
        count = RateWindow.objects.filter(token=token, window=window).values_list(
            "count", flat=True
        )[0]
    retry = max(1, int((window + 1) * 60 - now + 0.999))
    return RateCheck(
        count <= token.rate_limit, token.rate_limit, max(0, token.rate_limit - count), retry
    )
