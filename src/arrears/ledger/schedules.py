"""A loan's stored schedule: the kernel's instalments as one text value, one row a loan.

A schedule is written once, when the loan is created, exactly as the kernel built it, and is
always read whole (by the kernel's terms, the ledger frames, explain, the API). So it is one
row a loan (``ledger.models.Schedule``) instead of one row an instalment: a 100 000-loan
import writes 100 000 schedule rows where it wrote 1.2 million instalments, and checks one
foreign key a loan at commit where it checked twelve (on PostgreSQL those were two thirds of
the server's work; ``docs/architecture.md``, "The stored schedule").

The text is plain, so a dispute or an operator reads it without tools::

    2026-02-01 83333 10000 2026-01-01 2026-02-01;2026-03-01 83333 9167 2026-02-01 2026-03-01

one instalment after another in ``seq`` order (1, 2, …) separated by ``;``, each its due date,
principal and interest (integer minor units) and the unshifted accrual period's start and end,
separated by one space. :func:`encode` and :func:`decode` are the per-loan pair (the services,
the kernel's terms); :func:`encode_frame` and :func:`explode` the bulk pair (the importer, the
ledger frames), vectorised in Polars and agreeing with them value for value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from arrears.kernel.errors import NO_SCHEDULE, ScheduleUnreadable
from arrears.kernel.terms import Instalment

if TYPE_CHECKING:  # Polars is imported by the bulk pair only: the models import this module,
    import polars as pl  # and a command that needs no frames starts without Polars

#: Between instalments, and between the fields of one.
INSTALMENT_SEPARATOR, FIELD_SEPARATOR = ";", " "
#: The fields of one instalment, in their order in the text.
FIELDS = ("due_date", "principal", "interest", "period_start", "period_end")
#: The most instalments a schedule holds (the kernel's longest term, 600 months) and so the
#: longest text: a stored value past it is refused before it is split.
MAX_INSTALMENTS = 600
MAX_TEXT = MAX_INSTALMENTS * 64

#: The largest amount a stored value may hold (a bigint, as every amount column of the ledger).
LARGEST = 2**63 - 1
_DATE = r"\d{4}-\d{2}-\d{2}"
_AMOUNT = r"\d{1,19}"  # a bigint's digits: the ledger's amounts are 64-bit integers
_ONE = re.compile(rf"({_DATE}) ({_AMOUNT}) ({_AMOUNT}) ({_DATE}) ({_DATE})", re.ASCII)


def encode(schedule: Iterable[Instalment]) -> str:
    """The stored text of ``schedule`` (its instalments in ``seq`` order, numbered from 1)."""
    parts = []
    for expected, i in enumerate(schedule, start=1):
        if i.seq != expected:
            raise ValueError(f"instalment {i.seq} where {expected} was expected")
        parts.append(
            f"{i.due_date.isoformat()} {i.principal} {i.interest} "
            f"{i.period_start.isoformat()} {i.period_end.isoformat()}"
        )
    return INSTALMENT_SEPARATOR.join(parts)


def decode(text: str) -> tuple[Instalment, ...]:
    """The instalments of a stored schedule; :class:`~arrears.kernel.errors.ScheduleUnreadable`
    for anything :func:`encode` would not have written (and for an empty schedule: a loan has
    at least one instalment)."""
    if not text:
        raise ScheduleUnreadable(NO_SCHEDULE)
    if len(text) > MAX_TEXT:
        raise ScheduleUnreadable(f"a stored schedule of {len(text)} characters")
    rows = []
    for seq, part in enumerate(text.split(INSTALMENT_SEPARATOR), start=1):
        found = _ONE.fullmatch(part)
        if found is None:
            raise ScheduleUnreadable(f"instalment {seq} of the stored schedule is unreadable")
        due, principal_text, interest_text, start, end = found.groups()
        principal, interest = int(principal_text), int(interest_text)
        if max(principal, interest) > LARGEST:
            raise ScheduleUnreadable(f"instalment {seq} of the stored schedule: past a bigint")
        try:
            rows.append(
                Instalment(
                    seq=seq,
                    due_date=date.fromisoformat(due),
                    principal=principal,
                    interest=interest,
                    period_start=date.fromisoformat(start),
                    period_end=date.fromisoformat(end),
                )
            )
        except ValueError as error:  # an impossible date such as 2026-02-30
            raise ScheduleUnreadable(f"instalment {seq} of the stored schedule: {error}") from None
    if len(rows) > MAX_INSTALMENTS:
        raise ScheduleUnreadable(f"a stored schedule of {len(rows)} instalments")
    return tuple(rows)


def encode_frame(instalments: pl.DataFrame, key: str) -> pl.DataFrame:
    """One row per ``key`` with its ``schedule`` text, from a frame of instalments (columns
    ``key``, ``seq``, ``due_date``, ``principal``, ``interest``, ``period_start``,
    ``period_end``; each key's rows in ``seq`` order, numbered from 1): what :func:`encode`
    gives for each key's instalments, built in bulk."""
    import polars as pl

    line = pl.concat_str(
        pl.col("due_date").dt.to_string("%Y-%m-%d"),
        pl.col("principal").cast(pl.String),
        pl.col("interest").cast(pl.String),
        pl.col("period_start").dt.to_string("%Y-%m-%d"),
        pl.col("period_end").dt.to_string("%Y-%m-%d"),
        separator=FIELD_SEPARATOR,
    )
    return (
        instalments.select(key, line.alias("line"))
        .group_by(key, maintain_order=True)
        .agg(pl.col("line").str.join(INSTALMENT_SEPARATOR).alias("schedule"))
    )


def explode(frame: pl.DataFrame, key: str = "loan_id", text: str = "schedule") -> pl.DataFrame:
    """The instalments of each row's stored schedule, one row each (``key``, ``seq``,
    ``due_date``, ``principal_minor``, ``interest_minor``, ``period_start``, ``period_end``),
    in ``key`` then ``seq`` order — :func:`decode` in bulk. A part that is not an instalment
    (a schedule changed past the services) becomes a row whose values are null, so the loan
    fails its computation and is isolated by it (``engine.chunk.isolating``) instead of
    being computed on part of its schedule."""
    import polars as pl

    parts = frame.select(
        pl.col(key), pl.col(text).str.split(INSTALMENT_SEPARATOR).alias("part")
    ).with_columns(pl.int_ranges(1, pl.col("part").list.len() + 1, dtype=pl.Int32).alias("seq"))
    rows = parts.explode("part", "seq")
    well_formed = pl.col("part").str.contains(f"^{_ONE.pattern}$")
    fields = (
        pl.when(well_formed)
        .then(pl.col("part"))
        .str.split_exact(FIELD_SEPARATOR, len(FIELDS) - 1)
        .struct.rename_fields(list(FIELDS))
        .alias("fields")
    )
    day = "%Y-%m-%d"
    return rows.select(key, "seq", fields).select(
        key,
        "seq",
        pl.col("fields").struct.field("due_date").str.to_date(day, strict=False),
        pl.col("fields")
        .struct.field("principal")
        .cast(pl.Int64, strict=False)
        .alias("principal_minor"),
        pl.col("fields")
        .struct.field("interest")
        .cast(pl.Int64, strict=False)
        .alias("interest_minor"),
        pl.col("fields").struct.field("period_start").str.to_date(day, strict=False),
        pl.col("fields").struct.field("period_end").str.to_date(day, strict=False),
    )
