"""Appending to the audit chain.

``record`` runs inside the caller's transaction, so the entry commits or rolls back with the
change it records. Appends are serialised (PostgreSQL advisory lock; SQLite serialises writers
anyway) so two writers never fork the chain.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

import arrears
from arrears.audit import chain
from arrears.audit.context import current_actor
from arrears.audit.models import AuditEntry
from arrears.ledger.masking import mask_text

#: The advisory-lock key every append takes (any constant; ASCII "AUDIT").
LOCK_KEY = 0x4155444954
#: The most a before/after image may take, encoded; larger ones are truncated with a marker.
MAX_IMAGE_BYTES = 64 * 1024
TRUNCATED = "…[truncated]"


def bound_image(image: dict[str, Any] | None) -> dict[str, Any] | None:
    """Mask ID and phone numbers in every string and cap the JSON size at MAX_IMAGE_BYTES."""
    if image is None:
        return None
    masked = {str(k)[:64]: mask_text(v) if isinstance(v, str) else v for k, v in image.items()}
    text = json.dumps(masked, ensure_ascii=False, default=str, sort_keys=True)
    if len(text.encode("utf-8")) <= MAX_IMAGE_BYTES:
        return json.loads(text)  # type: ignore[no-any-return]
    cut = text.encode("utf-8")[: MAX_IMAGE_BYTES - 64].decode("utf-8", "ignore")
    return {"_truncated": True, "_text": cut + TRUNCATED}


def config_in_force() -> dict[str, Any]:
    """Versions in force: the active strategy, the policy pack, the app version."""
    from arrears.collections.models import StrategyVersion

    active = StrategyVersion.objects.filter(active=True).values_list("name", "version").first()
    return {
        "strategy": f"{active[0]} v{active[1]}" if active else None,
        "policy_pack": getattr(settings, "ARREARS_POLICY_PACK", None),
        "app": arrears.__version__,
    }


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def record(
    action: str,
    *,
    subject_type: str,
    subject_id: object,
    case_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    actor: str | None = None,
) -> AuditEntry:
    """Append one entry to the chain, in the caller's transaction."""
    with transaction.atomic():
        _lock()
        head = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev = (head[0] + 1, head[1]) if head else (1, chain.GENESIS)
        entry = AuditEntry(
            seq=seq,
            at=timezone.now(),
            actor=(actor or current_actor())[:150],
            action=action[:64],
            subject_type=subject_type[:64],
            subject_id=str(subject_id)[:64],
            case_id=case_id,
            before=bound_image(before),
            after=bound_image(after),
            reason=mask_text(reason)[:500],
            config=config_in_force(),
            prev_hash=prev,
        )
        entry.hash = chain.entry_hash(entry.record())
        entry.save(force_insert=True)
        return entry


def record_many(items: list[dict[str, Any]]) -> None:
    """Record several entries (for bulk writes that send no signals), one lock for all."""
    with transaction.atomic():
        for item in items:
            record(**item)


def verify_chain(chunk: int = 1000) -> chain.Break | None:
    """Walk the whole chain in seq order, ``chunk`` rows at a time (bounded memory)."""
    expect, prev, last = 1, chain.GENESIS, 0
    while True:
        rows = list(AuditEntry.objects.filter(seq__gt=last).order_by("seq")[:chunk])
        if not rows:
            return None
        broken = chain.check((r.record() for r in rows), expect_seq=expect, prev_hash=prev)
        if broken is not None:
            return broken
        last = rows[-1].seq
        expect, prev = last + 1, rows[-1].hash
