"""Roll rates (迁移率): how loans moved between buckets from one month end to the next —
the migration matrix (M0 → M1 → … → closed / written off) and the flow rates, computed on
Polars over the month-end loan states (:mod:`arrears.reports.rolls`)."""

from __future__ import annotations

import polars as pl
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from arrears.reports.base import (
    Cell,
    Chart,
    Column,
    ReportParams,
    ReportResult,
    ReportSpec,
    Table,
    register,
)
from arrears.reports.figures import points, rate, state_label
from arrears.reports.rolls import forward, matrix, state_rank, transitions
from arrears.reports.snapshots import ROLL_COLUMNS, month_end_states
from arrears.reports.states import roll_state, states_at, written_off

NAME = "roll_rates"
#: A flow rate's destination: any worse state (a higher bucket, or written off).
WORSE = pgettext_lazy("ledger report", "worse")


def moves_of(params: ReportParams) -> tuple[pl.DataFrame, pl.DataFrame, int, int]:
    """The transitions of ``params``' period (month ends, see ``figures.points``), the roll
    states they come from, and the states read stored and replayed."""
    assert params.start is not None and params.end is not None
    every = points(params.start, params.end)
    days, frames, stored, replayed = every, [], 0, 0
    root = getattr(settings, "ARREARS_REPORT_STATES", "")
    if root:  # a book too large for the database: the snapshot runners' output first
        outside = month_end_states(root, every)
        frames.append(outside)
        stored += len(outside)
        held = set(outside["as_of"].unique().to_list())
        days = [day for day in every if day not in held]
    if days or not frames:
        # only what a roll reads: two figures a loan, no attributes, in no order (the
        # transitions sort by their own key)
        states = states_at(
            days,
            known_by=params.as_of,
            figures=("bucket", "payoff"),
            attributes=False,
            ordered=False,
        )
        frames.append(states.frame.select(ROLL_COLUMNS))
        stored, replayed = stored + states.stored, states.replayed
    rolled = roll_state(pl.concat(frames), written_off(every, known_by=params.as_of))
    return transitions(rolled), rolled, stored, replayed


def _key(name: str) -> str:
    return f"to:{name}"


def compute(params: ReportParams) -> ReportResult:
    moves, rolled, stored, replayed = moves_of(params)
    wide = matrix(moves)
    targets = [c for c in wide.columns if c != "from"]
    count_columns = (
        Column("from", pgettext_lazy("ledger report", "From")),
        *(Column(_key(t), state_label(t), "count") for t in targets),
        Column("loans", pgettext_lazy("ledger report", "Loans at the start"), "count"),
    )
    counts: list[tuple[Cell, ...]] = []
    rates: list[tuple[Cell, ...]] = []
    for row in wide.iter_rows(named=True):
        values = [int(row[t]) for t in targets]
        total = sum(values)
        counts.append((state_label(row["from"]), *values, total))
        rates.append((state_label(row["from"]), *(rate(v, total) for v in values)))
    rate_columns = (
        Column("from", pgettext_lazy("ledger report", "From")),
        *(Column(_key(t), state_label(t), "rate") for t in targets),
    )
    long_rows = tuple(
        (r["opening"], r["closing"], state_label(r["from"]), state_label(r["to"]), r["loans"])
        for r in moves.iter_rows(named=True)
    )
    flows, flow_rows = _flows(moves)
    opening = (
        rolled.group_by("as_of", "state")
        .agg(pl.len().alias("loans"))
        .sort("as_of")
        .iter_rows(named=True)
    )
    opening_rows = tuple(
        (r["as_of"], state_label(r["state"]), r["loans"])
        for r in sorted(opening, key=lambda r: (r["as_of"], state_rank(r["state"])))
    )
    flow_columns = (
        Column("closing", pgettext_lazy("ledger report", "Month end"), "date"),
        *(Column(f"flow:{b}", f"{b} → {WORSE}", "rate") for b in flows),
    )
    return ReportResult(
        name=NAME,
        title=_("Roll rates"),
        params=params,
        tables=(
            Table("matrix_rates", _("Roll rates over the period"), rate_columns, tuple(rates)),
            Table("matrix", _("Loans moved over the period"), count_columns, tuple(counts)),
            Table("flow_rates", _("Flow rates by month"), flow_columns, flow_rows),
            Table(
                "transitions",
                _("Loans moved, month by month"),
                (
                    Column("opening", pgettext_lazy("ledger report", "From date"), "date"),
                    Column("closing", pgettext_lazy("ledger report", "To date"), "date"),
                    Column("from", pgettext_lazy("ledger report", "From")),
                    Column("to", pgettext_lazy("ledger report", "To")),
                    Column("loans", _("Loans"), "count"),
                ),
                long_rows,
            ),
            Table(
                "states",
                _("Loans per state at each month end"),
                (
                    Column("as_of", pgettext_lazy("ledger report", "Date"), "date"),
                    Column("state", pgettext_lazy("ledger report", "State")),
                    Column("loans", _("Loans"), "count"),
                ),
                opening_rows,
            ),
        ),
        charts=(
            Chart(
                "matrix",
                _("Roll rates over the period"),
                "matrix",
                "matrix_rates",
                "from",
                tuple(_key(t) for t in targets),
            ),
            Chart(
                "flows",
                _("Flow rates by month"),
                "line",
                "flow_rates",
                "closing",
                tuple(f"flow:{b}" for b in flows),
            ),
        ),
        notes=(
            _(
                "Loans are compared between consecutive month ends of the period (the day before "
                "it starts, each month end, and its last day); each row of the matrix sums to "
                "the loans in that state at the earlier date. Loans drawn down in between are "
                "not in it."
            ),
            _(
                "The ledger has no write-off state: a loan counts as written off from the day "
                "its case was closed as written off (核销) until a new case of the borrower "
                "opens; closed means paid off (nothing left to pay). Flow rates are the share "
                "of a bucket's loans found in a worse bucket (a higher number) or written off at "
                "the next month end."
            ),
            _("%(stored)s loan states read as stored, %(replayed)s replayed.")
            % {"stored": stored, "replayed": replayed},
        ),
    )


def _flows(moves: pl.DataFrame) -> tuple[list[str], tuple[tuple[Cell, ...], ...]]:
    counts = forward(moves)
    buckets = sorted(set(counts["from"].to_list()), key=state_rank)
    per = {(r["closing"], r["from"]): r for r in counts.iter_rows(named=True)}
    rows = []
    for closing in sorted(set(counts["closing"].to_list())):
        cells: list[Cell] = [closing]
        for bucket in buckets:
            r = per.get((closing, bucket))
            cells.append(None if r is None else rate(int(r["forward"]), int(r["loans"])))
        rows.append(tuple(cells))
    return buckets, tuple(rows)


register(
    ReportSpec(
        name=NAME,
        title=_("Roll rates"),
        compute=compute,
        period=True,
        description=_(
            "How loans moved between buckets from one month end to the next, and the flow "
            "rates from each bucket to the next."
        ),
        order=20,
        tags=("ledger",),
    )
)
