"""Before/after of an entry as the fields that changed (what a reader wants to see first)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    before: Any
    after: Any


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[Change]:
    """Every field whose value differs, in name order (a creation: every field of ``after``;
    a deletion: every field of ``before``)."""
    old, new = before or {}, after or {}
    missing = object()
    out = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name, missing), new.get(name, missing)
        if a != b:
            out.append(Change(name, None if a is missing else a, None if b is missing else b))
    return out
