"""Stored loan states of many days read from PostgreSQL — the read a roll-rate report over a
large book spends its time in.

A text ``COPY`` of the rows (one CopyData message per row) cost the client more than the
server: 12M month-end rows took ~7 CPU-s in psycopg's message loop alone, before any parsing.
So the server groups the rows instead: one row per (day, bucket) holding arrays of the loan ids
and of each figure asked for (``array_agg``; the aggregates of one row are fed the same rows in
the same order, so the arrays line up), sent by ``COPY … TO STDOUT (FORMAT binary)``: a few
dozen messages, and each array is fixed-width big-endian integers that numpy reads in place
(:func:`parse_grouped`). The bucket stays text (it is the group key), so no dictionary of
bucket names is needed. A statement a day (:func:`read_days`), the days dealt out to two
connections on one snapshot: the grouping is the server's work now (~0.4 CPU-s per 1M rows),
and two server processes do it on two cores.

Every figure but ``bucket`` of the stored loan state (``daily.LoanState``) is an integer and
``NOT NULL``; the parser refuses a NULL rather than read it as a number.

No Django here (a psycopg cursor and a table name), so ``bench/reports.py`` times exactly the
read the report runs.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import numpy as np
import polars as pl

#: The binary COPY header: signature, flags, header extension length (then the extension).
SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
#: Days from 1970-01-01 (Polars' date) to 2000-01-01 (PostgreSQL's binary date).
EPOCH_2000 = 10_957
#: PostgreSQL's integer type oids, by the element width they are sent in.
INTEGER_OIDS = {20: 8, 23: 4, 21: 2}
#: A binary COPY of no rows.
_EMPTY = SIGNATURE + bytes(8) + b"\xff\xff"


class BinaryCopyError(ValueError):
    """The bytes are not what the statement was expected to send (a NULL, another type)."""


def grouped_sql(table: str, figures: Sequence[str], quote: Any = None) -> str:
    """The statement :func:`parse_grouped` reads: for the days of the one parameter (a date
    array), one row per (``as_of``, ``bucket``) with ``array_agg`` of ``loan_id`` and of each
    of ``figures`` other than ``bucket`` (integer columns). ``quote`` quotes a name (the
    database connection's ``quote_name``; default: double quotes)."""

    def q(name: str) -> str:
        return str(quote(name)) if quote else f'"{name}"'

    numbers = [name for name in figures if name != "bucket"]
    arrays = ", ".join(f"array_agg({q(name)})" for name in ("loan_id", *numbers))
    return (
        f"SELECT {q('as_of')}, {q('bucket')}, {arrays} FROM {q(table)} "
        f"WHERE {q('as_of')} = ANY(%s::date[]) GROUP BY {q('as_of')}, {q('bucket')}"
    )


def _tuples(buffer: memoryview) -> Iterator[list[memoryview | None]]:
    """The fields of each row of a binary COPY (None for NULL)."""
    if bytes(buffer[: len(SIGNATURE)]) != SIGNATURE:
        raise BinaryCopyError("not a binary COPY")
    (extension,) = struct.unpack_from(">i", buffer, len(SIGNATURE) + 4)
    at = len(SIGNATURE) + 8 + extension
    while at < len(buffer):
        (count,) = struct.unpack_from(">h", buffer, at)
        at += 2
        if count == -1:
            return
        fields: list[memoryview | None] = []
        for _ in range(count):
            (size,) = struct.unpack_from(">i", buffer, at)
            at += 4
            if size < 0:
                fields.append(None)
            else:
                fields.append(buffer[at : at + size])
                at += size
        yield fields
    raise BinaryCopyError("binary COPY without its trailer")


def _integers(field: memoryview | None) -> np.ndarray:
    """A one-dimensional integer array (``array_send``) as int64, refusing NULL elements."""
    if field is None:
        raise BinaryCopyError("a NULL array")
    dims, nulls, oid = struct.unpack_from(">iii", field, 0)
    if dims == 0:
        return np.empty(0, dtype=np.int64)
    if dims != 1 or oid not in INTEGER_OIDS:
        raise BinaryCopyError(f"not a one-dimensional integer array (oid {oid})")
    if nulls:
        raise BinaryCopyError("a NULL in a stored figure")
    (length,) = struct.unpack_from(">i", field, 12)
    width = INTEGER_OIDS[oid]
    if len(field) != 20 + length * (4 + width):
        raise BinaryCopyError("an array of another size than its elements")
    # each element: its byte length (-1 for NULL), then the big-endian value
    items = np.frombuffer(
        field, dtype=np.dtype([("size", ">i4"), ("value", f">i{width}")]), count=length, offset=20
    )
    if length and not (items["size"] == width).all():
        raise BinaryCopyError("a NULL in a stored figure")
    return items["value"].astype(np.int64)


def parse_grouped(buffer: bytes | bytearray | memoryview, figures: Sequence[str]) -> pl.DataFrame:
    """The rows of :func:`grouped_sql`'s binary COPY as a frame: ``as_of`` (date),
    ``loan_id`` (int64) and ``figures`` (``bucket`` as text, the others int64), one row per
    loan and day, in no particular order."""
    numbers = [name for name in figures if name != "bucket"]
    days: list[int] = []
    buckets: list[str] = []
    arrays: list[list[np.ndarray]] = [[] for _ in ("loan_id", *numbers)]
    counts: list[int] = []
    for fields in _tuples(memoryview(buffer)):
        if len(fields) != 2 + len(arrays) or fields[0] is None or fields[1] is None:
            raise BinaryCopyError("a row of another shape")
        days.append(struct.unpack(">i", fields[0])[0] + EPOCH_2000)
        buckets.append(bytes(fields[1]).decode())
        parsed = [_integers(field) for field in fields[2:]]
        if any(len(a) != len(parsed[0]) for a in parsed):
            raise BinaryCopyError("arrays of different lengths")
        counts.append(len(parsed[0]))
        for into, values in zip(arrays, parsed, strict=True):
            into.append(values)
    groups = np.repeat(np.arange(len(counts), dtype=np.uint32), counts)
    columns: dict[str, pl.Series] = {
        "as_of": pl.Series("as_of", np.array(days, dtype=np.int32)[groups]).cast(pl.Date),
    }
    for name, parts in zip(("loan_id", *numbers), arrays, strict=True):
        joined = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
        columns[name] = pl.Series(name, joined, dtype=pl.Int64)
    if "bucket" in figures:
        # a gather from the few group labels: no Python string per row
        columns["bucket"] = pl.Series("bucket", buckets, dtype=pl.String).gather(groups)
    return pl.DataFrame([columns[name] for name in ("as_of", "loan_id", *figures)])


def read_grouped(
    cursor: Any, table: str, days: Sequence[date], figures: Sequence[str], quote: Any = None
) -> pl.DataFrame:
    """``as_of``, ``loan_id`` and ``figures`` of ``table``'s rows of ``days``, read by one
    binary COPY on ``cursor`` (a psycopg cursor) — see :func:`grouped_sql`."""
    buffer = bytearray()
    sql = grouped_sql(table, figures, quote)
    with cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT binary)", [list(days)]) as copy:
        for block in copy:
            buffer += block
    return parse_grouped(buffer, figures)


def read_days(
    cursors: Sequence[Any],
    table: str,
    days: Sequence[date],
    figures: Sequence[str],
    quote: Any = None,
) -> pl.DataFrame:
    """:func:`read_grouped` one statement a day (the server's plan for one day is an index
    range: cheaper than one statement over every day, measured), the days dealt out in turn to
    ``cursors`` (psycopg cursors of different connections, which the caller has put on one
    snapshot), each read in a thread of its own: the server groups a day on each core while
    the other's rows arrive. The rows in no particular order."""
    shares = [list(days[n :: len(cursors)]) for n in range(len(cursors))]

    def read(cursor: Any, some: Sequence[date]) -> list[pl.DataFrame]:
        return [read_grouped(cursor, table, [day], figures, quote) for day in some]

    with ThreadPoolExecutor(max(1, len(cursors) - 1)) as pool:
        others = [pool.submit(read, c, s) for c, s in zip(cursors[1:], shares[1:], strict=True)]
        parts = read(cursors[0], shares[0]) if cursors else []
        for other in others:
            parts.extend(other.result())
    if not parts:
        return parse_grouped(_EMPTY, figures)
    return pl.concat(parts)
