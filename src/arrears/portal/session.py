"""Who is signed in to the portal, from the web session or a mobile app's bearer token.

The portal keeps its own keys in the session (``portal.*``), apart from a staff login: a
borrower is never a Django user, and a staff member signed in to the back office is not a
borrower. Sign-in cycles the session key (no fixation); a session idle for ``idle_minutes``
(``ARREARS_PORTAL_IDLE_MINUTES``, default 15) is signed out. Every page finds the borrower here
and every query is scoped by it (``portal.selectors``): an id typed into a URL is only ever
looked up among the borrower's own records.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from arrears.api.common import hash_key
from arrears.ledger.models import Borrower, Loan
from arrears.portal.models import ApiToken

BORROWER = "portal.borrower"
LOAN = "portal.loan"
SEEN = "portal.seen"


def idle_limit() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "ARREARS_PORTAL_IDLE_MINUTES", 15)))


def sign_in(request: HttpRequest, loan: Loan) -> None:
    """Start a portal session for ``loan``'s borrower on a fresh session key."""
    request.session.cycle_key()
    request.session[BORROWER] = loan.borrower_id
    request.session[LOAN] = loan.pk
    request.session[SEEN] = timezone.now().isoformat()


def sign_out(request: HttpRequest) -> None:
    for key in (BORROWER, LOAN, SEEN, "portal.challenge"):
        request.session.pop(key, None)
    request.session.cycle_key()


def current(request: HttpRequest) -> Borrower | None:
    """The signed-in borrower, or ``None`` (not signed in, idle too long, or gone)."""
    borrower_id = request.session.get(BORROWER)
    seen = request.session.get(SEEN)
    if not isinstance(borrower_id, int) or not isinstance(seen, str):
        return None
    try:
        last = datetime.fromisoformat(seen)
    except ValueError:
        return None
    now = timezone.now()
    if now - last > idle_limit():
        sign_out(request)
        return None
    request.session[SEEN] = now.isoformat()
    return Borrower.objects.filter(pk=borrower_id).first()


def borrower_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A portal page: the signed-in borrower as ``request.borrower``, else to the sign-in."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        borrower = current(request)
        if borrower is None:
            return redirect("portal:sign-in")
        request.borrower = borrower  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapped


def issue_token(loan: Loan) -> str:
    """A bearer token for the mobile app (shown once; its SHA-256 kept), valid as long as an
    idle web session."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    ApiToken.objects.create(
        digest=hash_key(token),
        borrower_id=loan.borrower_id,
        loan=loan,
        created_at=now,
        expires_at=now + idle_limit(),
    )
    return token


def token_borrower(token: str) -> Borrower | None:
    """The borrower a live token belongs to; each use extends it by the idle limit."""
    digest = hash_key(token)
    now = timezone.now()
    row = (
        ApiToken.objects.select_related("borrower")
        .filter(digest=digest, revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if row is None:
        return None
    ApiToken.objects.filter(pk=row.pk).update(expires_at=now + idle_limit())
    return row.borrower


def revoke_token(token: str) -> None:
    digest = hash_key(token)
    ApiToken.objects.filter(digest=digest, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
