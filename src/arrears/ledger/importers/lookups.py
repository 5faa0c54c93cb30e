"""Reading the database for a whole file: one query per chunk of references, never one per row.

Both validation (what is already stored) and writing (the ids of what was just inserted) look
rows up by reference; a chunk keeps each ``IN (…)`` under SQLite's bound-parameter limit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from django.db import connection

T = TypeVar("T")

#: References per ``IN (…)`` query (well under SQLite's bound-parameter limit).
LOOKUP_CHUNK = 500
#: References per ``= ANY(array)`` query on PostgreSQL (one parameter however many).
ARRAY_CHUNK = 50_000


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


def select_in(
    model: Any, select: str, column: str, values: Iterable[str]
) -> Iterator[tuple[Any, ...]]:
    """``SELECT select FROM model's table WHERE column IN chunk`` for each chunk, without the
    ORM (which prepares every parameter of every ``IN`` in Python: most of a lookup's time)."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    where = quote(model._meta.get_field(column).column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # one array parameter: one round trip a chunk
            items = list(dict.fromkeys(values))
            for start in range(0, len(items), ARRAY_CHUNK):
                part = items[start : start + ARRAY_CHUNK]
                # %b: the array sent in binary, its items not quoted one by one in Python
                cursor.execute(f"SELECT {select} FROM {table} WHERE {where} = ANY(%b)", [part])
                yield from cursor.fetchall()
            return
        for chunk in chunks(values):
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"SELECT {select} FROM {table} WHERE {where} IN ({marks})", chunk)
            yield from cursor.fetchall()


def present(model: Any, values: Iterable[str], column: str = "ref") -> list[str]:
    """Those of ``values`` that some stored row of ``model`` has in ``column``: most of a new
    file's references are not stored, so only these are then fetched as model instances."""
    quoted = connection.ops.quote_name(model._meta.get_field(column).column)
    return [row[0] for row in select_in(model, quoted, column, values)]


def ids(model: Any, refs: Iterable[str]) -> dict[str, int]:
    """Reference → primary key, for linking rows just written to the rows that point at them."""
    return dict(select_in(model, '"ref", "id"', "ref", refs))
