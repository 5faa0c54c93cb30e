"""Roll rates (迁移率): how loans moved between buckets from one month end to the next —
the migration matrix (M0 → M1 → … → closed / written off) and the flow rates, computed on
Polars over the month-end loan states (:mod:`arrears.reports.rolls`)."""

from __future__ import annotations

from datetime import date

import polars as pl
from django.utils.translation import gettext_lazy as _

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
from arrears.reports.rolls import flow_pairs, matrix, state_rank, transitions
from arrears.reports.states import roll_state, states_at, written_off

NAME = "roll_rates"


def moves_of(params: ReportParams) -> tuple[pl.DataFrame, pl.DataFrame, int, int]:
    """The transitions of ``params``' period (month ends, see ``figures.points``), the roll
    states they come from, and the states read stored and replayed."""
    assert params.start is not None and params.end is not None
    days = points(params.start, params.end)
    states = states_at(days, known_by=params.as_of)
    rolled = roll_state(states.frame, written_off(days, known_by=params.as_of))
    return transitions(rolled), rolled, states.stored, states.replayed


def _key(name: str) -> str:
    return f"to:{name}"


def compute(params: ReportParams) -> ReportResult:
    moves, rolled, stored, replayed = moves_of(params)
    wide = matrix(moves)
    targets = [c for c in wide.columns if c != "from"]
    count_columns = (
        Column("from", _("From")),
        *(Column(_key(t), state_label(t), "count") for t in targets),
        Column("loans", _("Loans at the start"), "count"),
    )
    counts: list[tuple[Cell, ...]] = []
    rates: list[tuple[Cell, ...]] = []
    for row in wide.iter_rows(named=True):
        values = [int(row[t]) for t in targets]
        total = sum(values)
        counts.append((state_label(row["from"]), *values, total))
        rates.append((state_label(row["from"]), *(rate(v, total) for v in values)))
    rate_columns = (
        Column("from", _("From")),
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
        Column("closing", _("Month end"), "date"),
        *(
            Column(f"flow:{a}:{b}", f"{state_label(a)} → {state_label(b)}", "rate")
            for a, b in flows
        ),
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
                    Column("opening", _("From date"), "date"),
                    Column("closing", _("To date"), "date"),
                    Column("from", _("From")),
                    Column("to", _("To")),
                    Column("loans", _("Loans"), "count"),
                ),
                long_rows,
            ),
            Table(
                "states",
                _("Loans per state at each month end"),
                (
                    Column("as_of", _("Date"), "date"),
                    Column("state", _("State")),
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
                tuple(f"flow:{a}:{b}" for a, b in flows),
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
                "of a bucket's loans found in the next bucket a month later; the last bucket "
                "flows to written off."
            ),
            _("%(stored)s loan states read as stored, %(replayed)s replayed.")
            % {"stored": stored, "replayed": replayed},
        ),
    )


def _flows(moves: pl.DataFrame) -> tuple[list[tuple[str, str]], tuple[tuple[Cell, ...], ...]]:
    states = sorted(set(moves["from"].to_list()) | set(moves["to"].to_list()))
    flows = flow_pairs(states)
    per: dict[date, dict[tuple[str, str], int]] = {}
    opening: dict[date, dict[str, int]] = {}
    for r in moves.iter_rows(named=True):
        per.setdefault(r["closing"], {})[(r["from"], r["to"])] = r["loans"]
        at = opening.setdefault(r["closing"], {})
        at[r["from"]] = at.get(r["from"], 0) + r["loans"]
    rows = tuple(
        (
            closing,
            *(rate(per[closing].get(pair, 0), opening[closing].get(pair[0], 0)) for pair in flows),
        )
        for closing in sorted(per)
    )
    return flows, rows


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
