"""Compliance gate decisions (合规闸门) by rule and channel: allowed, deferred, denied, and the
contacts made against the gate (overrides).

Every answer the gate gave on the period's days and recorded by the end of the report's date
(``contact.GateDecision``): one per message dispatch attempt (a message deferred and later
sent counts twice: once deferred, once allowed) and one per logged outbound contact. A decision
counts under each rule that fired; an allowed decision with no rule under "—".
"""

from __future__ import annotations

import polars as pl
from django.utils.translation import gettext_lazy as _

from arrears.reports import figures, history
from arrears.reports.base import Chart, Column, ReportParams, ReportResult, ReportSpec, register

NAME = "gate_decisions"

OUTCOMES = (
    Column("allowed", _("Allowed"), "count"),
    Column("deferred", _("Deferred"), "count"),
    Column("denied", _("Denied"), "count"),
    Column("decisions", _("Decisions"), "count"),
    Column("stopped_rate", _("Deferred or denied"), "rate"),
    Column("overridden", _("Overridden"), "count"),
)


def _count(frame: pl.DataFrame, *by: str) -> pl.DataFrame:
    outcome = pl.col("outcome")
    return (
        frame.group_by(*by)
        .agg(
            (outcome == "allow").sum().alias("allowed"),
            (outcome == "defer").sum().alias("deferred"),
            (outcome == "deny").sum().alias("denied"),
            pl.len().alias("decisions"),
            pl.col("overridden").sum().alias("overridden"),
        )
        .sort(*by)
    )


def compute(params: ReportParams) -> ReportResult:
    assert params.start is not None and params.end is not None
    decisions = history.gate_decisions(params.as_of, params.start, params.end)
    by_rule = decisions.with_columns(
        pl.when(pl.col("rules").list.len() == 0)
        .then(pl.lit([history.NOBODY], pl.List(pl.String)))
        .otherwise(pl.col("rules"))
        .alias("rule")
    ).explode("rule")
    contacts = history.contacts(params.as_of, params.start, params.end).filter(pl.col("overridden"))
    overrides = (
        contacts.with_columns(pl.col("collector").replace("", history.NOBODY))
        .group_by("collector")
        .agg(
            pl.len().alias("overrides"),
            (pl.col("gate_outcome") == "defer").sum().alias("deferred"),
            (pl.col("gate_outcome") == "deny").sum().alias("denied"),
            pl.col("case_id").n_unique().alias("cases"),
        )
        .sort("collector")
    )
    stopped = {"stopped_rate": lambda r: figures.rate(r["deferred"] + r["denied"], r["decisions"])}
    tables = (
        figures.table(
            "by_channel",
            _("By channel"),
            (Column("channel", _("Channel")), *OUTCOMES),
            _count(decisions, "channel"),
            stopped,
        ),
        figures.table(
            "by_rule",
            _("By rule"),
            (Column("rule", _("Rule")), *OUTCOMES),
            _count(by_rule, "rule"),
            stopped,
        ),
        figures.table(
            "by_rule_channel",
            _("By rule and channel"),
            (Column("rule", _("Rule")), Column("channel", _("Channel")), *OUTCOMES),
            _count(by_rule, "rule", "channel"),
            stopped,
        ),
        figures.table(
            "overrides",
            _("Contacts made against the gate"),
            (
                Column("collector", _("Collector")),
                Column("overrides", _("Overrides"), "count"),
                Column("deferred", _("The gate deferred"), "count"),
                Column("denied", _("The gate denied"), "count"),
                Column("cases", _("Cases"), "count"),
            ),
            overrides,
        ),
    )
    charts = (
        Chart(
            "channel_outcomes",
            _("Decisions by channel"),
            "stacked",
            "by_channel",
            "channel",
            ("allowed", "deferred", "denied"),
        ),
        Chart(
            "rule_outcomes",
            _("Decisions by rule"),
            "stacked",
            "by_rule",
            "rule",
            ("allowed", "deferred", "denied"),
        ),
        Chart(
            "overrides",
            _("Overrides by collector"),
            "bar",
            "overrides",
            "collector",
            ("overrides",),
        ),
    )
    notes = (
        _(
            "Every answer the gate gave on the period's days, recorded by the end of the "
            "report's date: one per dispatch attempt of a message (a message deferred and later "
            "sent counts once deferred and once allowed) and one per logged outbound contact."
        ),
        _(
            "A decision counts under each rule that fired; an allowed decision with no rule "
            "under “—”. Overridden: a contact logged although the gate said no, with a reason."
        ),
    )
    return ReportResult(NAME, SPEC.title, params, tables, charts, notes)


SPEC = register(
    ReportSpec(
        name=NAME,
        title=_("Gate decisions"),
        compute=compute,
        period=True,
        description=_(
            "Compliance gate decisions by rule and channel — allowed, deferred, denied — and "
            "overrides."
        ),
        order=60,
        tags=("events",),
    )
)
