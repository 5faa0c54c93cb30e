"""Reading the database for a whole file: one query per chunk of references, never one per row.

Both validation (what is already stored) and writing (the ids of what was just inserted) look
rows up by reference; a chunk keeps each ``IN (…)`` under SQLite's bound-parameter limit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

#: References per ``IN (…)`` query (well under SQLite's bound-parameter limit).
LOOKUP_CHUNK = 500


def chunks(values: Iterable[T]) -> Iterator[list[T]]:
    """``values`` without repeats, in order, ``LOOKUP_CHUNK`` at a time."""
    items = list(dict.fromkeys(values))
    for start in range(0, len(items), LOOKUP_CHUNK):
        yield items[start : start + LOOKUP_CHUNK]


def fetch(
    queryset: Any, lookup: str, values: Iterable[str], select: Callable[[Any], Any] = lambda q: q
) -> list[Any]:
    """Rows of ``queryset`` whose ``lookup`` is in ``values``: one query per chunk."""
    found: list[Any] = []
    for chunk in chunks(values):
        found.extend(select(queryset.filter(**{f"{lookup}__in": chunk})))
    return found


def ids(model: Any, refs: Iterable[str]) -> dict[str, int]:
    """Reference → primary key, for linking rows just written to the rows that point at them."""
    return dict(fetch(model.objects.all(), "ref", refs, lambda q: q.values_list("ref", "id")))
