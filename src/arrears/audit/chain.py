"""The audit chain's hashing rule, pure Python with no Django.

An exported dispute bundle must be checkable by this module alone (copy it next to the bundle
and run ``python chain.py DIR``), so nothing here imports the application.

Canonical form: JSON with sorted keys, no whitespace, ``ensure_ascii=False``, UTF-8 bytes;
datetimes as ISO 8601 in UTC. ``hash`` = SHA-256 hex of the canonical form of every field of
the entry except ``hash`` itself (``prev_hash`` included). The first entry's ``prev_hash`` is
64 zeros.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
FIELDS = (
    "seq",
    "at",
    "actor",
    "action",
    "subject_type",
    "subject_id",
    "case_id",
    "before",
    "after",
    "reason",
    "config",
    "prev_hash",
)


def iso_utc(value: datetime) -> str:
    """A datetime as ISO 8601 in UTC: one spelling per instant, whatever zone it came in."""
    return value.astimezone(UTC).isoformat()


def canonical(record: Mapping[str, Any]) -> bytes:
    """The bytes that are hashed: only FIELDS, sorted keys, compact, UTF-8."""
    body = {name: record.get(name) for name in FIELDS}
    if isinstance(body["at"], datetime):
        body["at"] = iso_utc(body["at"])
    return json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def entry_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 hex of the canonical form."""
    return hashlib.sha256(canonical(record)).hexdigest()


@dataclass(frozen=True)
class Break:
    """Where and why a chain stops holding."""

    seq: int
    why: str  # "edited", "deleted", "prev-link", "start"

    def __str__(self) -> str:
        return f"entry seq {self.seq}: {self.why}"


def check(
    records: Iterable[Mapping[str, Any]],
    *,
    expect_seq: int = 1,
    prev_hash: str = GENESIS,
) -> Break | None:
    """Walk records in seq order; return the first break or None.

    ``expect_seq``/``prev_hash`` let a caller resume a chunked walk or start mid-chain (a bundle).
    """
    for record in records:
        seq = int(record["seq"])
        if seq != expect_seq:
            return Break(expect_seq, f"deleted (seq {expect_seq} missing, next is {seq})")
        if record.get("prev_hash") != prev_hash:
            return Break(seq, "prev-link broken (prev_hash does not match the previous hash)")
        if entry_hash(record) != record.get("hash"):
            return Break(seq, "edited (hash mismatch)")
        prev_hash = str(record["hash"])
        expect_seq = seq + 1
    return None


def check_links(
    links: Iterable[Mapping[str, Any]], *, prev_hash: str | None = None
) -> Break | None:
    """Check a run of (seq, prev_hash, hash) links: consecutive seqs and each prev_hash equal to the
    previous hash. Full records among them are also re-hashed (when they carry ``action``)."""
    expect: int | None = None
    for link in links:
        seq = int(link["seq"])
        if expect is not None and seq != expect:
            return Break(expect, f"deleted (seq {expect} missing, next is {seq})")
        if prev_hash is not None and link.get("prev_hash") != prev_hash:
            return Break(seq, "prev-link broken")
        if "action" in link and entry_hash(link) != link.get("hash"):
            return Break(seq, "edited (hash mismatch)")
        prev_hash = str(link["hash"])
        expect = seq + 1
    return None


def verify_bundle(directory: str) -> list[str]:
    """Check a dispute bundle: manifest hashes of its files, then the entries' chain proof.

    Returns a list of problems (empty = the bundle holds)."""
    from pathlib import Path

    root = Path(directory)
    problems: list[str] = []
    try:
        manifest = json.loads((root / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError) as error:
        return [f"manifest.json unreadable: {error}"]
    for name, digest in sorted(manifest.get("files", {}).items()):
        path = root / name
        if "/" in name or "\\" in name or not path.is_file():
            problems.append(f"{name}: missing")
            continue
        if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            problems.append(f"{name}: SHA-256 does not match the manifest (file edited)")
    try:
        bundle = json.loads((root / "entries.json").read_text("utf-8"))
    except (OSError, ValueError) as error:
        return [*problems, f"entries.json unreadable: {error}"]
    links = bundle.get("chain", [])
    full = {int(e["seq"]): e for e in bundle.get("entries", [])}
    merged = [full.get(int(link["seq"]), link) for link in links]
    for seq, entry in full.items():
        if entry_hash(entry) != entry.get("hash"):
            problems.append(f"entry seq {seq}: edited (hash mismatch)")
        if not any(int(link["seq"]) == seq and link["hash"] == entry["hash"] for link in links):
            problems.append(f"entry seq {seq}: not in the bundle's chain proof")
    broken = check_links(merged)
    if broken is not None:
        problems.append(str(broken))
    return problems


if __name__ == "__main__":  # pragma: no cover - standalone use beside an exported bundle
    import sys

    found = verify_bundle(sys.argv[1])
    print("\n".join(found) if found else "bundle holds")
    sys.exit(1 if found else 0)
