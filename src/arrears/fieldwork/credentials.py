"""The visit workflow's three uses of ``arrears.verification``: issue, revoke and check the
credential behind an authorisation letter's code (kept in one place so the workflow speaks in
credential ids and never handles the hashed codes itself)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arrears.verification import services
from arrears.verification.models import Credential

KIND = "visit_authorisation"


@dataclass(frozen=True, slots=True)
class Issued:
    code: str  # shown once, on the letter
    credential_id: int


def issue(**kwargs: Any) -> Issued:
    issued = services.issue(kind=KIND, **kwargs)
    return Issued(code=issued.code, credential_id=issued.credential.pk)


def revoke(credential_id: int, *, by: Any, reason: str, at: datetime) -> None:
    credential = Credential.objects.get(pk=credential_id)
    if credential.revoked_at is None:
        services.revoke(credential, by=by, reason=reason, at=at)


def valid(credential_id: int, at: datetime) -> bool:
    return services.verify_id(credential_id, at)
