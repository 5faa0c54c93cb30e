"""Champion against challenger (冠军/挑战者策略): how each strategy variant's cases fared, with
95 % confidence intervals.

The cases opened in the period (known by the end of the report's date), by the arm recorded on
them (a stable hash of the borrower: a case never changes arm). Outcomes as of the report's
date: resolved (closed as resolved by then; cured or paid off), the promises taken on them
and how they stood (``history.promises``), the work the strategy asked for, and what the
borrowers paid from the day the case opened to the day it closed (or the report's date).

Rates carry Wilson score intervals; each challenger's difference from the champion a
Newcombe hybrid score interval (``reports.intervals``). An interval that does not contain 0
is a difference the data show at that confidence; one that does is not.
"""

from __future__ import annotations

import polars as pl
from django.utils.translation import gettext_lazy as _

from arrears.reports import figures, history, intervals
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

NAME = "variants"
#: The arm the others are compared with when there is one of this name; else the largest.
CHAMPION = "champion"


def arm_cases(params: ReportParams) -> pl.DataFrame:
    """The cases opened in the period with an arm, as known at the end of ``as_of``."""
    assert params.start is not None and params.end is not None
    return history.cases(params.as_of).filter(
        pl.col("opened_on").is_between(params.start, params.end) & (pl.col("variant") != "")
    )


def outcomes(params: ReportParams) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(per arm: counts of cases, resolutions, promises and work; per arm and currency: the
    amount collected)."""
    cases = arm_cases(params)
    closed = pl.col("closed_as")
    arms = cases.group_by("variant").agg(
        pl.len().alias("cases"),
        (closed == "resolved").sum().alias("resolved"),
        (pl.col("resolution") == "cured").sum().alias("cured"),
        (pl.col("resolution") == "paid").sum().alias("paid_off"),
        (closed == "written_off").sum().alias("written_off"),
    )
    outcome = pl.col("outcome")
    promises = (
        history.promises(params.as_of)
        .join(cases.select("case_id", "variant"), on="case_id", how="inner")
        .group_by("variant")
        .agg(
            pl.len().alias("promises"),
            (outcome == history.KEPT).sum().alias("kept"),
            outcome.is_in([history.KEPT, history.PARTIAL, history.BROKEN]).sum().alias("judged"),
        )
    )
    work = (
        history.work_items(params.as_of)
        .join(cases.select("case_id", "variant"), on="case_id", how="inner")
        .group_by("variant")
        .agg(pl.len().alias("work_items"))
    )
    arms = (
        arms.join(promises, on="variant", how="left")
        .join(work, on="variant", how="left")
        .with_columns(pl.col("promises", "kept", "judged", "work_items").fill_null(0))
        .sort("variant")
    )
    cash = history.payments(params.as_of, params.start)
    collected = (
        cases.select("variant", "borrower_id", "opened_on", "closed_on")
        .join(cash, on="borrower_id", how="inner")
        .filter(
            (pl.col("value_date") >= pl.col("opened_on"))
            & (pl.col("closed_on").is_null() | (pl.col("value_date") <= pl.col("closed_on")))
        )
        .group_by("variant", "currency")
        .agg(pl.col("amount").sum().alias("collected"), pl.col("borrower_id").n_unique())
        .rename({"borrower_id": "payers"})
        .sort("variant", "currency")
    )
    return arms, collected


def champion_of(arms: pl.DataFrame) -> str | None:
    names = arms["variant"].to_list()
    if not names:
        return None
    if CHAMPION in names:
        return CHAMPION
    return str(arms.sort("cases", "variant", descending=[True, False])["variant"][0])


def _bounds(part: int, whole: int) -> tuple[Cell, Cell]:
    found = intervals.wilson(part, whole)
    return (found.low, found.high) if found else (None, None)


def _verdict(low: object, high: object) -> str:
    if low is None or high is None:
        return ""
    if low > 0:  # type: ignore[operator]
        return str(_("higher"))
    if high < 0:  # type: ignore[operator]
        return str(_("lower"))
    return str(_("no clear difference"))


def differences(arms: pl.DataFrame, champion: str | None) -> tuple[tuple[Cell, ...], ...]:
    """Each challenger against the champion, for the resolution and the promise-kept rates."""
    if champion is None:
        return ()
    by_name = {row["variant"]: row for row in arms.iter_rows(named=True)}
    base = by_name[champion]
    out: list[tuple[Cell, ...]] = []
    measures = (
        (str(_("Resolution rate")), "resolved", "cases"),
        (str(_("Promise-kept rate")), "kept", "judged"),
    )
    for name, row in by_name.items():
        if name == champion:
            continue
        for label, part, whole in measures:
            found = intervals.newcombe(row[part], row[whole], base[part], base[whole])
            low, high = (found.low, found.high) if found else (None, None)
            out.append(
                (
                    name,
                    label,
                    figures.rate(row[part], row[whole]),
                    figures.rate(base[part], base[whole]),
                    found.estimate if found else None,
                    low,
                    high,
                    _verdict(low, high),
                )
            )
    return tuple(out)


def compute(params: ReportParams) -> ReportResult:
    arms, collected = outcomes(params)
    champion = champion_of(arms)
    derived: dict[str, object] = {
        "resolution_rate": lambda r: figures.rate(r["resolved"], r["cases"]),
        "resolution_low": lambda r: _bounds(r["resolved"], r["cases"])[0],
        "resolution_high": lambda r: _bounds(r["resolved"], r["cases"])[1],
        "kept_rate": lambda r: figures.rate(r["kept"], r["judged"]),
        "kept_low": lambda r: _bounds(r["kept"], r["judged"])[0],
        "kept_high": lambda r: _bounds(r["kept"], r["judged"])[1],
        "work_per_case": lambda r: figures.ratio(r["work_items"], r["cases"]),
    }
    tables = (
        figures.table(
            "arms",
            _("Arms"),
            (
                Column("variant", _("Variant")),
                Column("cases", _("Cases opened"), "count"),
                Column("resolved", _("Resolved"), "count"),
                Column("resolution_rate", _("Resolution rate"), "rate"),
                Column("resolution_low", _("Resolution rate, 95% low"), "rate"),
                Column("resolution_high", _("Resolution rate, 95% high"), "rate"),
                Column("cured", _("Cured"), "count"),
                Column("paid_off", _("Paid off"), "count"),
                Column("written_off", _("Written off"), "count"),
                Column("promises", _("Promises"), "count"),
                Column("kept", _("Kept"), "count"),
                Column("judged", _("Judged"), "count"),
                Column("kept_rate", _("Kept rate"), "rate"),
                Column("kept_low", _("Kept rate, 95% low"), "rate"),
                Column("kept_high", _("Kept rate, 95% high"), "rate"),
                Column("work_items", _("Work items"), "count"),
                Column("work_per_case", _("Work items per case"), "number"),
            ),
            arms,
            derived,
        ),
        Table(
            key="differences",
            title=_("Challengers against the champion"),
            columns=(
                Column("variant", _("Variant")),
                Column("measure", _("Measure")),
                Column("rate", _("Variant's rate"), "rate"),
                Column("champion_rate", _("Champion's rate"), "rate"),
                Column("difference", _("Difference"), "rate"),
                Column("low", _("Difference, 95% low"), "rate"),
                Column("high", _("Difference, 95% high"), "rate"),
                Column("verdict", _("Verdict")),
            ),
            rows=differences(arms, champion),
        ),
        figures.table(
            "collected",
            _("Collected"),
            (
                Column("variant", _("Variant")),
                Column("currency", _("Currency")),
                Column("payers", _("Borrowers who paid"), "count"),
                Column("collected", _("Collected"), "money"),
            ),
            collected,
        ),
    )
    charts = (
        Chart(
            "resolution",
            _("Resolution rate with its 95% interval"),
            "bar",
            "arms",
            "variant",
            ("resolution_low", "resolution_rate", "resolution_high"),
        ),
        Chart(
            "kept",
            _("Promise-kept rate with its 95% interval"),
            "bar",
            "arms",
            "variant",
            ("kept_low", "kept_rate", "kept_high"),
        ),
        Chart("collected", _("Collected"), "bar", "collected", "variant", ("collected",)),
    )
    notes = (
        _(
            "Cases opened in the period, by the arm recorded on them; outcomes as they stood at "
            "the end of the report's date."
        ),
        _(
            "95% intervals: Wilson score for a rate, Newcombe's hybrid score for a difference "
            "from the champion, rounded outward; an interval that holds 0 shows no clear "
            "difference."
        ),
        _(
            "Collected: the borrowers' payments from the day the case opened to the day it "
            "closed (or the report's date), in each currency."
        ),
    )
    return ReportResult(NAME, SPEC.title, params, tables, charts, notes)


SPEC = register(
    ReportSpec(
        name=NAME,
        title=_("Champion and challenger"),
        compute=compute,
        period=True,
        description=_(
            "Strategy variants compared: resolution and promise-kept rates with confidence "
            "intervals, work and amounts collected."
        ),
        order=70,
        tags=("events",),
    )
)
