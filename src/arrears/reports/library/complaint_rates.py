"""Complaints per 1,000 cases (投诉率) by collector, agency and root cause.

Complaints and disputes received on the period's days and recorded by the end of the
report's date. A complaint counts against each collector and agency it names (the people of
the contacts it is about, ``complaints.services.file_complaint``), over their cases: for a
collector the cases they logged a contact on in the period (``complaints.rates``' cases
worked), for an agency the cases placed with it at some time in the period. By root cause:
over every case open at some time in the period; a complaint not resolved by the report's date
has no root cause yet.
"""

from __future__ import annotations

import polars as pl
from django.utils.translation import gettext_lazy as _

from arrears.complaints.models import Complaint
from arrears.reports import figures, history
from arrears.reports.base import Chart, Column, ReportParams, ReportResult, ReportSpec, register

NAME = "complaint_rates"

FIGURES = (
    Column("cases", _("Cases"), "count"),
    Column("complaints", _("Complaints"), "count"),
    Column("upheld", _("Upheld"), "count"),
    Column("per_1000", _("Complaints per 1,000 cases"), "number"),
)
PER_1000 = {"per_1000": lambda r: figures.per_thousand(r["complaints"], r["cases"])}


def _named(complaints: pl.DataFrame, column: str, name: str) -> pl.DataFrame:
    """Complaints (and upheld ones) per name in the list column ``column``."""
    return (
        complaints.select(pl.col(column).alias(name), "upheld")
        .explode(name)
        .drop_nulls(name)
        .group_by(name)
        .agg(pl.len().alias("complaints"), pl.col("upheld").fill_null(False).sum().alias("upheld"))
    )


def _rates(cases: pl.DataFrame, counted: pl.DataFrame, name: str) -> pl.DataFrame:
    return (
        cases.join(counted, on=name, how="full", coalesce=True)
        .with_columns(pl.col("cases", "complaints", "upheld").fill_null(0))
        .sort(name)
    )


def compute(params: ReportParams) -> ReportResult:
    assert params.start is not None and params.end is not None
    first, last = params.start, params.end
    complaints = history.complaints(params.as_of, first, last)
    worked = (
        history.contacts(params.as_of, first, last)
        .filter(pl.col("collector") != "")
        .group_by("collector")
        .agg(pl.col("case_id").n_unique().alias("cases"))
    )
    placed = (
        history.placements(params.as_of)
        .filter(
            (pl.col("placed_on") <= last)
            & (pl.col("ends_on") >= first)
            & (pl.col("recalled_on").is_null() | (pl.col("recalled_on") > first))
        )
        .group_by("agency")
        .agg(pl.col("case_id").n_unique().alias("cases"))
    )
    book = history.open_cases(params.as_of, first, last).height
    causes = dict(Complaint.RootCause.choices)
    by_cause = (
        complaints.group_by("root_cause")
        .agg(pl.len().alias("complaints"), pl.col("upheld").fill_null(False).sum().alias("upheld"))
        .with_columns(pl.lit(book).alias("cases"))
        .sort("root_cause")
    )
    cause_names = {
        "root_cause": lambda r: (
            str(causes.get(r["root_cause"], _("Not resolved yet")))
            if r["root_cause"]
            else str(_("Not resolved yet"))
        ),
        **PER_1000,
    }
    tables = (
        figures.table(
            "by_collector",
            _("By collector"),
            (Column("collector", _("Collector")), *FIGURES),
            _rates(worked, _named(complaints, "collectors", "collector"), "collector"),
            PER_1000,
        ),
        figures.table(
            "by_agency",
            _("By agency"),
            (Column("agency", _("Agency")), *FIGURES),
            _rates(placed, _named(complaints, "agencies", "agency"), "agency"),
            PER_1000,
        ),
        figures.table(
            "by_root_cause",
            _("By root cause"),
            (Column("root_cause", _("Root cause")), *FIGURES),
            by_cause,
            cause_names,
        ),
    )
    charts = (
        Chart(
            "collector_rate",
            _("Complaints per 1,000 cases by collector"),
            "bar",
            "by_collector",
            "collector",
            ("per_1000",),
        ),
        Chart(
            "agency_rate",
            _("Complaints per 1,000 cases by agency"),
            "bar",
            "by_agency",
            "agency",
            ("per_1000",),
        ),
        Chart(
            "root_cause_rate",
            _("Complaints per 1,000 cases by root cause"),
            "bar",
            "by_root_cause",
            "root_cause",
            ("per_1000",),
        ),
    )
    notes = (
        _(
            "Complaints and disputes received on the period's days and recorded by the end of "
            "the report's date; one counts against each collector and agency it names."
        ),
        _(
            "Cases: for a collector, the cases they logged a contact on in the period; for an "
            "agency, the cases placed with it in the period; by root cause, every case open in "
            "the period. Root causes and upheld are as resolved by the report's date."
        ),
    )
    return ReportResult(NAME, SPEC.title, params, tables, charts, notes)


SPEC = register(
    ReportSpec(
        name=NAME,
        title=_("Complaint rates"),
        compute=compute,
        period=True,
        description=_("Complaints per 1,000 cases by collector, agency and root cause."),
        order=65,
        tags=("events",),
    )
)
