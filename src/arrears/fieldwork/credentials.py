"""The one door to ``arrears.verification``: issue, revoke and check the credential behind an
authorisation letter's code.

Why an adapter: the verification app is the lead's, and the visit workflow only needs three
operations. Keeping them here means one place changes if its signature does, and tests can
stand in a fake backend (``BACKEND``) where the real app is not installed.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

KIND = "visit_authorisation"


@dataclass(frozen=True, slots=True)
class Issued:
    code: str  # shown once, on the letter
    credential_id: int


class Backend(Protocol):
    def issue(self, **kwargs: Any) -> Issued: ...

    def revoke(self, credential_id: int, *, by: Any, reason: str, at: datetime) -> None: ...

    def valid(self, credential_id: int, at: datetime) -> bool: ...


class VerificationBackend:
    """``arrears.verification.services`` (the real thing)."""

    def issue(self, **kwargs: Any) -> Issued:
        from arrears.verification import services

        # ``issued_at`` is passed when the service takes it (its signature is still settling)
        accepted = inspect.signature(services.issue).parameters
        given = {k: v for k, v in kwargs.items() if k in accepted}
        issued = services.issue(kind=KIND, **given)
        return Issued(code=issued.code, credential_id=issued.credential.pk)

    def revoke(self, credential_id: int, *, by: Any, reason: str, at: datetime) -> None:
        from arrears.verification import services
        from arrears.verification.models import Credential

        credential = Credential.objects.get(pk=credential_id)
        if credential.revoked_at is None:
            services.revoke(credential, by=by, reason=reason, at=at)

    def valid(self, credential_id: int, at: datetime) -> bool:
        from arrears.verification.models import Credential

        return Credential.objects.filter(
            pk=credential_id, revoked_at__isnull=True, valid_from__lte=at, valid_to__gt=at
        ).exists()


BACKEND: Backend = VerificationBackend()


def issue(**kwargs: Any) -> Issued:
    return BACKEND.issue(**kwargs)


def revoke(credential_id: int, *, by: Any, reason: str, at: datetime) -> None:
    BACKEND.revoke(credential_id, by=by, reason=reason, at=at)


def valid(credential_id: int, at: datetime) -> bool:
    return BACKEND.valid(credential_id, at)
