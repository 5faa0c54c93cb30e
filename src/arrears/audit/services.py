"""Appending to the audit chain: record now, seal after the commit.

``record`` inserts an *unsealed* entry (no ``seq``, ``prev_hash`` or ``hash``) in the caller's
transaction, so the entry commits or rolls back with the change it records, and it takes no
lock: writers of watched models never wait for one another because of the chain. Right after
the commit (``transaction.on_commit``) a short sealer transaction takes the chain's lock
(PostgreSQL advisory lock; SQLite serialises writers anyway) and gives every unsealed committed
entry, in id order, the next ``seq``, the previous entry's hash as ``prev_hash``, and its own
``hash``. ``verify`` and ``export`` seal first too, and ``arrears audit seal`` does it by hand,
so an entry whose writer died between its commit and the seal is sealed by whoever comes next.

Only the sealer ever updates a row, once: the PostgreSQL trigger lets an UPDATE through only
from unsealed to sealed, changing nothing but the seal columns.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

import arrears
from arrears.audit import chain
from arrears.audit.context import current_actor
from arrears.audit.models import AuditEntry
from arrears.ledger.masking import mask_text

logger = logging.getLogger(__name__)

#: The advisory-lock key the sealer takes (any constant; ASCII "AUDIT").
LOCK_KEY = 0x4155444954
#: The most a before/after image may take, encoded; larger ones are truncated with a marker.
MAX_IMAGE_BYTES = 64 * 1024
TRUNCATED = "…[truncated]"
#: Entries sealed per sealer transaction (bounded memory and lock time on a backlog).
SEAL_BATCH = 500
#: An entry still unsealed this long after it was written is reported by ``verify``: its
#: writer committed but no sealer ran since (a crash between commit and seal).
STALE_AFTER = timedelta(minutes=1)


#: A SHA-256 digest in hex (the day summary's, a template version's texts'): a fingerprint, not
#: a personal number, kept whole. About one digest in a hundred holds 18 decimal digits in a
#: row, which the masking took for a resident ID and starred: the entry then no longer matched
#: its day, so every rerun recorded the day again and ``audit verify`` named it as altered.
DIGEST = re.compile(r"[0-9a-f]{64}")


def _masked(value: object) -> object:
    if not isinstance(value, str) or DIGEST.fullmatch(value):
        return value
    return mask_text(value)


def bound_image(image: dict[str, Any] | None) -> dict[str, Any] | None:
    """Mask ID and phone numbers in every string but a digest, and cap the JSON size at
    MAX_IMAGE_BYTES."""
    if image is None:
        return None
    masked = {str(k)[:64]: _masked(v) for k, v in image.items()}
    text = json.dumps(masked, ensure_ascii=False, default=str, sort_keys=True)
    if len(text.encode("utf-8")) <= MAX_IMAGE_BYTES:
        return json.loads(text)  # type: ignore[no-any-return]
    cut = text.encode("utf-8")[: MAX_IMAGE_BYTES - 64].decode("utf-8", "ignore")
    return {"_truncated": True, "_text": cut + TRUNCATED}


def config_in_force() -> dict[str, Any]:
    """Versions in force: the active strategy, the policy pack, the app version."""
    from arrears.collections.models import StrategyVersion

    # Every audited write asks, so one plain statement rather than a queryset: compiling the
    # ORM query was nine tenths of its cost (about half of ``record``'s). At most one row is
    # active (the partial unique index ``strategy_one_active``).
    meta = StrategyVersion._meta
    name, version, active_ = (
        connection.ops.quote_name(meta.get_field(field).column)
        for field in ("name", "version", "active")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {name}, {version} FROM {connection.ops.quote_name(meta.db_table)} "
            f"WHERE {active_} = %s LIMIT 1",
            [True],
        )
        active = cursor.fetchone()
    return {
        "strategy": f"{active[0]} v{active[1]}" if active else None,
        "policy_pack": getattr(settings, "ARREARS_POLICY_PACK", None),
        "app": arrears.__version__,
    }


def _lock() -> None:
    """Take the chain's lock for the rest of the sealer's transaction (PostgreSQL).

    Also steers the unsealed-entries query to a plain index scan: every sealed entry leaves a
    dead entry in the partial index ``audit_unsealed`` until VACUUM, and a bitmap scan visits
    every one of them each time, while an index scan marks them dead once and skips them after.
    One round trip for both (a constant key, so no parameters: two statements may go together).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SET LOCAL enable_bitmapscan = off; SELECT pg_advisory_xact_lock({int(LOCK_KEY)})"
            )


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
    """Write one unsealed entry in the caller's transaction; it is sealed after the commit."""
    entry = AuditEntry.objects.create(
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
    )
    _seal_after_commit()
    return entry


def record_many(items: list[dict[str, Any]]) -> None:
    """Record several entries in one transaction (one seal after it commits)."""
    with transaction.atomic():
        for item in items:
            record(**item)


def _seal_quietly() -> None:
    """The on-commit sealer: a failure here must not fail the writer, whose change and entry
    are already committed; the next seal (or ``verify``) picks the entry up."""
    try:
        seal()
    except Exception:  # logged; the entry stays unsealed until the next seal picks it up
        logger.exception("audit: sealing after commit failed")


def _seal_after_commit() -> None:
    """Ask for one seal when the current transaction commits (once, however many entries)."""
    pending = getattr(connection, "run_on_commit", None) or []
    if any(item[1] is _seal_quietly for item in pending):
        return
    transaction.on_commit(_seal_quietly)


def seal(batch: int = SEAL_BATCH) -> int:
    """Give every unsealed entry this connection can see its place in the chain; returns how
    many were sealed. Each batch is one short transaction holding the chain's lock."""
    total = 0
    while True:
        with transaction.atomic():
            _lock()
            rows = list(AuditEntry.objects.filter(seq__isnull=True).order_by("id")[:batch])
            if not rows:
                return total
            head = (
                AuditEntry.objects.filter(seq__isnull=False)
                .order_by("-seq")
                .values_list("seq", "hash")
                .first()
            )
            seq, prev = (head[0], head[1]) if head else (0, chain.GENESIS)
            for row in rows:
                seq += 1
                row.seq, row.prev_hash = seq, prev
                row.hash = prev = chain.entry_hash(row.record())
            AuditEntry.objects.bulk_update(rows, ["seq", "prev_hash", "hash"])
        total += len(rows)


def stale_unsealed(now: datetime | None = None) -> int:
    """Entries still unsealed ``STALE_AFTER`` after they were written."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    return AuditEntry.objects.filter(seq__isnull=True, at__lt=cutoff).count()


def verify_chain(chunk: int = 1000) -> chain.Break | None:
    """Walk the sealed chain in seq order, ``chunk`` rows at a time (bounded memory)."""
    expect, prev, last = 1, chain.GENESIS, 0
    while True:
        rows = list(
            AuditEntry.objects.filter(seq__isnull=False, seq__gt=last).order_by("seq")[:chunk]
        )
        if not rows:
            return None
        broken = chain.check((r.record() for r in rows), expect_seq=expect, prev_hash=prev)
        if broken is not None:
            return broken
        last = rows[-1].seq or last
        expect, prev = last + 1, rows[-1].hash or ""
