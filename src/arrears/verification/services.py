"""Issuing, checking and revoking verification codes — the one place that answers "is this
document genuine?" for letters, visitors' authorisations and messages alike.

What a code reveals is only what its document already says: the kind of document, who carries it
(as printed, masked), who issued it, what it authorises and its validity window, plus the lender's
official repayment channels (so a borrower is never sent to a private account). It never reveals
the borrower, the amounts or the case; an unknown or malformed code gets the same shape of answer
with nothing in it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from arrears import errorcodes
from arrears.kernel.errors import ArrearsError
from arrears.verification import codes
from arrears.verification.models import Credential

errorcodes.define(
    {
        "credential-window": "a credential's validity must end after it starts ({valid_from} to "
        "{valid_to})",
        "credential-text-too-long": "{field} is longer than {limit} characters",
        "credential-revoke-reason": "give a reason for revoking the credential",
    }
)


class VerificationError(ArrearsError):
    """A credential that cannot be issued or revoked as asked."""


#: The statuses an answer can have; only ``valid`` is genuine *now*.
STATUSES = ("valid", "not_yet_valid", "expired", "revoked", "unknown", "malformed")


@dataclass(frozen=True, slots=True)
class Issued:
    """A new credential and its code. The code is returned here once and stored only hashed:
    print it on the document now."""

    code: str
    credential: Credential


@dataclass(frozen=True, slots=True)
class Verification:
    """The answer to "is this code genuine at ``checked_at``?"."""

    status: str
    genuine: bool
    checked_at: str
    kind: str = ""
    holder: str = ""
    issuer_kind: str = ""
    issuer_name: str = ""
    authorises_en: str = ""
    authorises_zh: str = ""
    valid_from: str = ""
    valid_to: str = ""
    revoked: bool = False
    revoked_at: str = ""
    official_repayment_channels: dict[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _bounded(field: str, value: str, limit: int) -> str:
    if len(value) > limit:
        raise errorcodes.refuse(
            VerificationError, "credential-text-too-long", field=field, limit=limit
        )
    return value


def issue(
    *,
    kind: str,
    holder: str,
    issuer_kind: str,
    issuer_name: str,
    authorises_en: str,
    authorises_zh: str,
    valid_from: datetime,
    valid_to: datetime,
    issued_at: datetime,
    case: Any = None,
    document_ref: str = "",
) -> Issued:
    """Create a credential with a fresh random code (retrying the one-in-2^80 collision)."""
    if valid_to <= valid_from:
        raise errorcodes.refuse(
            VerificationError,
            "credential-window",
            field="valid_to",
            valid_from=valid_from.isoformat(),
            valid_to=valid_to.isoformat(),
        )
    fields = {
        "kind": Credential.Kind(kind).value,
        "holder": _bounded("holder", holder, 200),
        "issuer_kind": Credential.Issuer(issuer_kind).value,
        "issuer_name": _bounded("issuer_name", issuer_name, 200),
        "authorises_en": _bounded("authorises_en", authorises_en, 400),
        "authorises_zh": _bounded("authorises_zh", authorises_zh, 400),
        "valid_from": valid_from,
        "valid_to": valid_to,
        "case": case,
        "document_ref": _bounded("document_ref", document_ref, 200),
        "issued_at": issued_at,
    }
    for _ in range(3):
        code = codes.new_code()
        canonical = codes.normalise(code)
        assert canonical is not None
        try:
            with transaction.atomic():
                credential = Credential.objects.create(
                    code_hash=codes.digest(canonical), code_hint=canonical[-4:], **fields
                )
        except IntegrityError:  # pragma: no cover - a 2^-80 event
            continue
        return Issued(code, credential)
    raise RuntimeError("could not draw an unused verification code")  # pragma: no cover


def check_url(code: str) -> str:
    """The public check page for ``code``: what a document's QR code holds
    (``<ARREARS_PUBLIC_URL>/verify/?code=…``)."""
    base = str(getattr(settings, "ARREARS_PUBLIC_URL", "http://127.0.0.1:8000")).rstrip("/")
    return f"{base}/verify/?{urlencode({'code': code})}"


def _local(instant: datetime) -> str:
    """An instant as the lender's local time (what the documents print)."""
    return timezone.localtime(instant).isoformat()


def _channels() -> dict[str, str]:
    return dict(getattr(settings, "ARREARS_REPAYMENT_CHANNELS", {}))


def verify(code: str, at: datetime) -> Verification:
    """Look a code up as of ``at``. Unknown, malformed, expired, not yet valid and revoked codes
    are all *not genuine*; the last three still say what the document was, because a borrower
    holding an expired authorisation should learn exactly that."""
    checked = _local(at)
    canonical = codes.normalise(code)
    if canonical is None:
        return Verification("malformed", False, checked, official_repayment_channels=_channels())
    credential = Credential.objects.filter(code_hash=codes.digest(canonical)).first()
    if credential is None:
        return Verification("unknown", False, checked, official_repayment_channels=_channels())
    if credential.revoked_at is not None and credential.revoked_at <= at:
        status = "revoked"
    elif at < credential.valid_from:
        status = "not_yet_valid"
    elif at >= credential.valid_to:
        status = "expired"
    else:
        status = "valid"
    revoked = credential.revoked_at is not None and credential.revoked_at <= at
    return Verification(
        status=status,
        genuine=status == "valid",
        checked_at=checked,
        kind=credential.kind,
        holder=credential.holder,
        issuer_kind=credential.issuer_kind,
        issuer_name=credential.issuer_name,
        authorises_en=credential.authorises_en,
        authorises_zh=credential.authorises_zh,
        valid_from=_local(credential.valid_from),
        valid_to=_local(credential.valid_to),
        revoked=revoked,
        revoked_at=_local(credential.revoked_at) if revoked and credential.revoked_at else "",
        official_repayment_channels=_channels(),
    )


def verify_id(credential_id: int, at: datetime) -> bool:
    """Whether the credential with this id is valid at ``at`` (for the workflow that issued it
    and keeps its id, not its code)."""
    return (
        Credential.objects.filter(pk=credential_id, valid_from__lte=at, valid_to__gt=at)
        .filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=at))
        .exists()
    )


def revoke(credential: Credential, *, by: Any, reason: str, at: datetime) -> Credential:
    """End a credential at ``at`` (a cancelled visit, a withdrawn letter). Revoking twice keeps
    the first revocation: the record of when it stopped being valid never moves."""
    if not reason.strip():
        raise errorcodes.refuse(VerificationError, "credential-revoke-reason", field="reason")
    _bounded("reason", reason, 400)
    with transaction.atomic():
        locked = Credential.objects.select_for_update().get(pk=credential.pk)
        if locked.revoked_at is None:
            locked.revoked_at = at
            locked.revoked_by = by
            locked.revoked_reason = reason.strip()
            locked.save(update_fields=["revoked_at", "revoked_by", "revoked_reason"])
    return locked
