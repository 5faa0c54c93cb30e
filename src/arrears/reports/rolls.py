"""Roll rates on Polars: the migration of loans between buckets from one date to the next,
over stacked loan states (``as_of``, ``loan_id``, ``state``) — whole frames at once, never a
loop over loans. No Django here, so ``bench/reports.py`` times exactly what the report runs.

A loan's *roll state* on a date is its bucket (M0, M1, …), :data:`CLOSED` when it is paid off
(payoff 0) or :data:`WRITTEN_OFF` when its case was written off (``reports.states``): the
ledger itself has no write-off state, a write-off is a collections decision.
"""

from __future__ import annotations

import re

import polars as pl

CLOSED = "closed"
WRITTEN_OFF = "written_off"
#: The "to" state of a loan with a state on one date and none on the next (the engine could
#: not compute it then): counted, so every row still sums to the opening count.
MISSING = "missing"

_NUMBER = re.compile(r"(\d+)")


def state_rank(name: str) -> tuple[int, str]:
    """The order buckets and roll states are shown in: M0, M1, … M7+ by their number, then
    closed, written off and missing."""
    terminal = {CLOSED: 10_000, WRITTEN_OFF: 10_001, MISSING: 10_002}
    if name in terminal:
        return (terminal[name], name)
    found = _NUMBER.search(name)
    return (int(found.group(1)) if found else 9_999, name)


def roll_state(frame: pl.DataFrame, written: pl.DataFrame | None = None) -> pl.DataFrame:
    """``frame`` (states with ``as_of``, ``loan_id``, ``bucket``, ``payoff``) with a ``state``
    column: written off when ``written`` (``as_of``, ``loan_id``) has the loan that day, closed
    when paid off, else its bucket."""
    state = pl.when(pl.col("payoff") == 0).then(pl.lit(CLOSED)).otherwise(pl.col("bucket"))
    if written is None or not len(written):
        return frame.with_columns(state.alias("state"))
    # one int key per (loan, day): a membership test, cheaper than a join over every state
    key = pl.col("loan_id") * 100_000 + pl.col("as_of").cast(pl.Int32)
    keys = written.select(key.alias("key"))["key"].implode()
    return frame.with_columns(
        pl.when(key.is_in(keys)).then(pl.lit(WRITTEN_OFF)).otherwise(state).alias("state")
    )


def transitions(states: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Loans per (opening date, closing date, from state, to state) for every pair of
    consecutive dates in ``states`` (``as_of``, ``loan_id``, ``state``): each loan with a state
    on the opening date is counted once (``to`` = :data:`MISSING` when it has none on the
    closing date), so the rows of a pair sum to the opening date's loans per state. Loans new
    on the closing date are not in it."""
    lazy = states.lazy().select("as_of", "loan_id", "state")
    dates = lazy.select(pl.col("as_of").unique()).sort("as_of").collect()
    steps = dates.with_row_index("step").with_columns(pl.col("step").cast(pl.Int64))
    if len(steps) < 2:
        return pl.DataFrame(
            schema={
                "opening": pl.Date(),
                "closing": pl.Date(),
                "from": pl.String(),
                "to": pl.String(),
                "loans": pl.Int64(),
            }
        )
    count = len(steps)
    last = count - 1
    # one int key per (loan, step), sorted: a loan's next state is the next row when its key
    # is one more (a sort and a shift, three times faster than joining the dates' frames)
    counted = (
        lazy.join(steps.lazy(), on="as_of")
        .select(
            (pl.col("loan_id") * count + pl.col("step")).alias("key"),
            "step",
            pl.col("state").cast(pl.Categorical).alias("from"),
        )
        .sort("key")
        .with_columns(
            pl.when(pl.col("key").shift(-1) == pl.col("key") + 1)
            .then(pl.col("from").shift(-1))
            .otherwise(None)
            .alias("to"),
            (pl.col("step") + 1).alias("step"),
        )
        .filter(pl.col("step") <= last)
        .group_by("step", "from", "to")
        .agg(pl.len().cast(pl.Int64).alias("loans"))
        .collect()
    )
    labels = steps.select(pl.col("step"), pl.col("as_of").alias("closing")).with_columns(
        pl.col("closing").shift(1).alias("opening")
    )
    return (
        counted.join(labels, on="step")
        .select(
            "opening",
            "closing",
            pl.col("from").cast(pl.String),
            pl.col("to").cast(pl.String).fill_null(MISSING),
            "loans",
        )
        .sort("opening", "from", "to")
    )


def matrix(moves: pl.DataFrame) -> pl.DataFrame:
    """``moves`` (from :func:`transitions`) summed over every pair of dates, wide: one row per
    ``from`` state, one column per ``to`` state, in :func:`state_rank` order."""
    summed = moves.group_by("from", "to").agg(pl.col("loans").sum())
    if not len(summed):
        return pl.DataFrame(schema={"from": pl.String()})
    wide = summed.pivot(on="to", index="from", values="loans").fill_null(0)
    columns = sorted((c for c in wide.columns if c != "from"), key=state_rank)
    order = {name: n for n, name in enumerate(sorted(wide["from"].to_list(), key=state_rank))}
    return (
        wide.select("from", *columns)
        .with_columns(pl.col("from").replace_strict(order, return_dtype=pl.Int64).alias("_o"))
        .sort("_o")
        .drop("_o")
    )


def is_bucket(name: str) -> bool:
    return name not in {CLOSED, WRITTEN_OFF, MISSING}


def forward(moves: pl.DataFrame) -> pl.DataFrame:
    """Flow rates' counts: per closing date and bucket, the loans in the bucket at the opening
    date (``loans``) and those found in a worse state at the closing date (``forward``): a
    bucket of a higher number (M2 from M1; buckets of different products' tables compare by
    their number, so M3 and M3+ are level) or written off."""
    names = sorted(set(moves["from"].to_list()) | set(moves["to"].to_list()), key=state_rank)
    level = {name: state_rank(name)[0] for name in names if is_bucket(name)}
    worse = pl.col("to").replace_strict(level, default=None, return_dtype=pl.Int64) > pl.col(
        "from"
    ).replace_strict(level, default=None, return_dtype=pl.Int64)
    return (
        moves.filter(pl.col("from").is_in(list(level)))
        .with_columns(((pl.col("to") == WRITTEN_OFF) | worse.fill_null(False)).alias("worse"))
        .group_by("closing", "from")
        .agg(
            pl.col("loans").sum().alias("loans"),
            pl.col("loans").filter(pl.col("worse")).sum().alias("forward"),
        )
        .sort("closing", "from")
    )
