"""Penalty flows (罚息): penalty and compound interest assessed, collected and waived by month,
per currency, with the outstanding balance at each month's start and end — so that
assessed − collected − waived = the change in outstanding, month by month."""

from __future__ import annotations

import polars as pl
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
from arrears.reports.figures import points
from arrears.reports.states import replay

NAME = "penalty_flows"
#: What is replayed per month end: the engine's accrued and outstanding figures and the
#: kernel's waived amounts (``reports.states.WAIVED``).
FIGURES = (
    "penalty_accrued",
    "penalty_outstanding",
    "penalty_waived",
    "compound_accrued",
    "compound_outstanding",
    "compound_waived",
)
KINDS = ("penalty", "compound")


def flows(frame: pl.DataFrame) -> pl.DataFrame:
    """Per currency and pair of consecutive dates of ``frame`` (replayed states with
    :data:`FIGURES`): for penalty and compound interest, the amount assessed (accrued), waived
    and collected in between and the outstanding at both dates. Collected is what the
    accrual, the waivers and the outstanding leave: every fen not waived and no longer owed
    was paid (the kernel applies payments to exactly these amounts)."""
    dates = sorted(set(frame["as_of"].to_list()))
    currencies = sorted(set(frame["currency"].to_list()))
    grid = pl.DataFrame({"as_of": dates}, schema={"as_of": pl.Date()}).join(
        pl.DataFrame({"currency": currencies}, schema={"currency": pl.String()}), how="cross"
    )
    totals = (
        grid.join(
            frame.group_by("as_of", "currency").agg(pl.col(name).sum() for name in FIGURES),
            on=["as_of", "currency"],
            how="left",
        )
        .with_columns(pl.col(name).fill_null(0) for name in FIGURES)
        .sort("currency", "as_of")
    )
    columns = [pl.col("as_of").shift(1).over("currency").alias("opening")]
    for kind in KINDS:
        accrued, outstanding, waived = (
            pl.col(f"{kind}_accrued"),
            pl.col(f"{kind}_outstanding"),
            pl.col(f"{kind}_waived"),
        )
        assessed = accrued - accrued.shift(1).over("currency")
        waived_now = waived - waived.shift(1).over("currency")
        change = outstanding - outstanding.shift(1).over("currency")
        columns += [
            assessed.alias(f"{kind}_assessed"),
            (assessed - waived_now - change).alias(f"{kind}_collected"),
            waived_now.alias(f"{kind}_waived_in"),
            outstanding.shift(1).over("currency").alias(f"{kind}_opening"),
            outstanding.alias(f"{kind}_closing"),
        ]
    return (
        totals.with_columns(columns)
        .filter(pl.col("opening").is_not_null())
        .select(
            "opening",
            pl.col("as_of").alias("closing"),
            "currency",
            *(
                f"{kind}_{part}"
                for kind in KINDS
                for part in ("opening", "assessed", "collected", "waived_in", "closing")
            ),
        )
    )


LABELS = {
    "opening": pgettext_lazy("ledger report", "Outstanding at the start"),
    "assessed": pgettext_lazy("ledger report", "Assessed"),
    "collected": _("Collected"),
    "waived_in": _("Waived"),
    "closing": pgettext_lazy("ledger report", "Outstanding at the end"),
}
TITLES = {"penalty": _("Penalty interest"), "compound": _("Compound interest")}


def compute(params: ReportParams) -> ReportResult:
    assert params.start is not None and params.end is not None
    states = replay(points(params.start, params.end), known_by=params.as_of, figures=FIGURES)
    table = flows(states.frame)
    tables = []
    charts = []
    for kind in KINDS:
        parts = ("opening", "assessed", "collected", "waived_in", "closing")
        rows: tuple[tuple[Cell, ...], ...] = tuple(
            (
                r["opening"],
                r["closing"],
                r["currency"],
                *(int(r[f"{kind}_{part}"]) for part in parts),
            )
            for r in table.iter_rows(named=True)
        )
        tables.append(
            Table(
                kind,
                TITLES[kind],
                (
                    Column("opening", pgettext_lazy("ledger report", "From date"), "date"),
                    Column("closing", pgettext_lazy("ledger report", "To date"), "date"),
                    Column("currency", pgettext_lazy("ledger report", "Currency")),
                    *(Column(part, LABELS[part], "money") for part in parts),
                ),
                rows,
            )
        )
        charts.append(
            Chart(
                kind,
                TITLES[kind],
                "bar",
                kind,
                "closing",
                ("assessed", "collected", "waived_in"),
            )
        )
    notes: list[object] = [
        _(
            "By month end (the period's last day closes the last month), as recorded by the "
            "report's date. Assessed is the penalty accrued in the month; waived is what "
            "waivers and settlements took off; collected is what payments paid of it, so "
            "outstanding at the start + assessed − collected − waived = outstanding at the "
            "end. A payment reversed in a month counts against that month's collections."
        ),
        _(
            "Contract interest is not shown: it is scheduled per instalment rather than "
            "assessed, and overdue interest is in the bucket inventory."
        ),
    ]
    if states.errors:
        notes.append(
            _("%(count)s loans could not be computed and are left out (see the day run).")
            % {"count": states.errors}
        )
    return ReportResult(
        name=NAME,
        title=_("Penalty assessed, collected and waived"),
        params=params,
        tables=tuple(tables),
        charts=tuple(charts),
        notes=tuple(notes),
    )


register(
    ReportSpec(
        name=NAME,
        title=_("Penalty assessed, collected and waived"),
        compute=compute,
        period=True,
        description=_(
            "Penalty and compound interest assessed against collected and waived, by month."
        ),
        order=40,
        tags=("ledger",),
    )
)
