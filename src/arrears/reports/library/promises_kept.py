"""Promise-kept rate and amount by collector, team and agency (承诺还款兑现率).

The promises due in the period (due date from ``from`` to ``to``), each judged as of
``as_of`` from the payments recorded by then (``history.promises``). A promise counts for the
collector who took it (``made_by``; else the collector holding the case that day), that
collector's team that day (``history.team_on``), and the agency that took it (else the agency
the case was placed with that day). The kept rate is kept ÷ judged (kept + partly kept +
broken): pending and cancelled promises are listed but not in it.
"""

from __future__ import annotations

import polars as pl
from django.utils.translation import gettext_lazy as _

from arrears.reports import figures, history
from arrears.reports.base import Chart, Column, ReportParams, ReportResult, ReportSpec, register

NAME = "promises_kept"

COUNTS = (
    Column("currency", _("Currency")),
    Column("promises", _("Promises due"), "count"),
    Column("kept", _("Kept"), "count"),
    Column("partial", _("Partly kept"), "count"),
    Column("broken", _("Broken"), "count"),
    Column("pending", _("Pending"), "count"),
    Column("cancelled", _("Cancelled"), "count"),
    Column("kept_rate", _("Kept rate"), "rate"),
    Column("promised", _("Promised (judged)"), "money"),
    Column("paid", _("Paid towards them"), "money"),
    Column("kept_amount", _("Amount of kept promises"), "money"),
    Column("amount_rate", _("Paid ÷ promised"), "rate"),
)

GROUPS = (
    ("collector", _("Collector"), _("By collector")),
    ("team", _("Team"), _("By team")),
    ("agency", _("Agency"), _("By agency")),
)


def due_promises(params: ReportParams) -> pl.DataFrame:
    """The promises due in the period with their outcome as of ``as_of`` and who answers
    for them (``collector``, ``team``, ``agency``)."""
    assert params.start is not None and params.end is not None
    found = history.promises(params.as_of).filter(
        pl.col("due_date").is_between(params.start, params.end)
    )
    return history.attribute(found, params.as_of, day="made_on", person="made_by")


def summarise(frame: pl.DataFrame, by: str) -> pl.DataFrame:
    outcome = pl.col("outcome")
    judged = outcome.is_in([history.KEPT, history.PARTIAL, history.BROKEN])
    return (
        frame.group_by(by, "currency")
        .agg(
            pl.len().alias("promises"),
            (outcome == history.KEPT).sum().alias("kept"),
            (outcome == history.PARTIAL).sum().alias("partial"),
            (outcome == history.BROKEN).sum().alias("broken"),
            (outcome == history.PENDING).sum().alias("pending"),
            (outcome == history.CANCELLED).sum().alias("cancelled"),
            pl.col("amount").filter(judged).sum().alias("promised"),
            pl.col("paid").clip(upper_bound=pl.col("amount")).filter(judged).sum().alias("paid"),
            pl.col("amount").filter(outcome == history.KEPT).sum().alias("kept_amount"),
        )
        .sort(by, "currency")
    )


def compute(params: ReportParams) -> ReportResult:
    frame = due_promises(params)
    derived: dict[str, object] = {
        "kept_rate": lambda r: figures.rate(r["kept"], r["kept"] + r["partial"] + r["broken"]),
        "amount_rate": lambda r: figures.rate(r["paid"], r["promised"]),
    }
    tables = tuple(
        figures.table(
            f"by_{key}",
            title,
            (Column(key, label), *COUNTS),
            summarise(frame, key),
            derived,
        )
        for key, label, title in GROUPS
    )
    charts = (
        Chart(
            "collector_outcomes",
            _("Promise outcomes by collector"),
            "stacked",
            "by_collector",
            "collector",
            ("kept", "partial", "broken", "pending"),
        ),
        Chart(
            "collector_rate",
            _("Kept rate by collector"),
            "bar",
            "by_collector",
            "collector",
            ("kept_rate",),
        ),
        Chart("team_rate", _("Kept rate by team"), "bar", "by_team", "team", ("kept_rate",)),
        Chart(
            "agency_rate", _("Kept rate by agency"), "bar", "by_agency", "agency", ("kept_rate",)
        ),
        Chart(
            "agency_amounts",
            _("Promised and paid by agency"),
            "bar",
            "by_agency",
            "agency",
            ("promised", "paid"),
        ),
    )
    notes = (
        _(
            "Promises due in the period, judged as of the report's date from the payments "
            "recorded by then; the kept rate is kept ÷ (kept + partly kept + broken)."
        ),
        _(
            "A promise counts for the collector and agency who took it, else for who held the "
            "case the day it was made, and for the team its collector was in that day."
        ),
        _(
            "Paid towards a promise: the borrower's payments from the day it was made to its due "
            "date plus the grace days, at most its amount."
        ),
    )
    return ReportResult(NAME, SPEC.title, params, tables, charts, notes)


SPEC = register(
    ReportSpec(
        name=NAME,
        title=_("Promises kept"),
        compute=compute,
        period=True,
        description=_("Promise-kept rate and amount by collector, team and agency."),
        order=50,
        tags=("events",),
    )
)
