"""Contact intensity (催收强度): attempts, right-party contacts and promises per case and per
collector over a period.

Attempts are the contact attempts logged for the period's days (local time) and recorded by
the end of the report's date; a right-party contact (本人接通) reached the borrower or a
co-borrower (``history.RIGHT_PARTY``). Promises are the promises made in the period. Per case
for the book: over the cases open at some time in the period; per collector: over the cases
they logged a contact on (cases worked).
"""

from __future__ import annotations

import polars as pl
from django.utils.translation import gettext_lazy as _

from arrears.reports import figures, history
from arrears.reports.base import Chart, Column, ReportParams, ReportResult, ReportSpec, register

NAME = "contact_intensity"

PER_CASE = (
    Column("attempts", _("Attempts"), "count"),
    Column("right_party", _("Right-party contacts"), "count"),
    Column("promises", _("Promises"), "count"),
    Column("attempts_per_case", _("Attempts per case"), "number"),
    Column("right_party_per_case", _("Right-party contacts per case"), "number"),
    Column("promises_per_case", _("Promises per case"), "number"),
    Column("right_party_rate", _("Right-party rate"), "rate"),
)


def made_promises(params: ReportParams) -> pl.DataFrame:
    """Promises made in the period with who took them (``history.attribute``)."""
    assert params.start is not None and params.end is not None
    found = history.promises(params.as_of).filter(
        pl.col("made_on").is_between(params.start, params.end)
    )
    return history.attribute(found, params.as_of, day="made_on", person="made_by")


def derived(cases: str) -> dict[str, object]:
    return {
        "attempts_per_case": lambda r: figures.ratio(r["attempts"], r[cases]),
        "right_party_per_case": lambda r: figures.ratio(r["right_party"], r[cases]),
        "promises_per_case": lambda r: figures.ratio(r["promises"], r[cases]),
        "right_party_rate": lambda r: figures.rate(r["right_party"], r["attempts"]),
    }


def compute(params: ReportParams) -> ReportResult:
    assert params.start is not None and params.end is not None
    contacts = history.contacts(params.as_of, params.start, params.end)
    promises = made_promises(params)
    book = pl.DataFrame(
        {
            "scope": [str(_("All cases"))],
            "cases": [history.open_cases(params.as_of, params.start, params.end).height],
            "worked": [contacts["case_id"].n_unique()],
            "attempts": [contacts.height],
            "right_party": [int(contacts["right_party"].sum())],
            "promises": [promises.height],
        }
    )
    people = (
        contacts.with_columns(pl.col("collector").replace("", history.NOBODY))
        .group_by("collector")
        .agg(
            pl.col("case_id").n_unique().alias("worked"),
            pl.len().alias("attempts"),
            pl.col("right_party").sum().alias("right_party"),
        )
        .join(
            promises.group_by("collector").agg(pl.len().alias("promises")),
            on="collector",
            how="full",
            coalesce=True,
        )
        .with_columns(pl.col("worked", "attempts", "right_party", "promises").fill_null(0))
        .sort("collector")
    )
    channels = (
        contacts.group_by("channel")
        .agg(
            pl.col("case_id").n_unique().alias("worked"),
            pl.len().alias("attempts"),
            pl.col("right_party").sum().alias("right_party"),
        )
        .with_columns(pl.lit(0).alias("promises"))
        .sort("channel")
    )
    tables = (
        figures.table(
            "book",
            _("Per case"),
            (
                Column("scope", _("Scope")),
                Column("cases", _("Cases open in the period"), "count"),
                Column("worked", _("Cases contacted"), "count"),
                *PER_CASE,
            ),
            book,
            derived("cases"),
        ),
        figures.table(
            "by_collector",
            _("By collector"),
            (
                Column("collector", _("Collector")),
                Column("worked", _("Cases worked"), "count"),
                *PER_CASE,
            ),
            people,
            derived("worked"),
        ),
        figures.table(
            "by_channel",
            _("By channel"),
            (
                Column("channel", _("Channel")),
                Column("worked", _("Cases worked"), "count"),
                Column("attempts", _("Attempts"), "count"),
                Column("right_party", _("Right-party contacts"), "count"),
                Column("right_party_rate", _("Right-party rate"), "rate"),
            ),
            channels,
            derived("worked"),
        ),
    )
    charts = (
        Chart(
            "collector_counts",
            _("Attempts, right-party contacts and promises by collector"),
            "bar",
            "by_collector",
            "collector",
            ("attempts", "right_party", "promises"),
        ),
        Chart(
            "collector_per_case",
            _("Per case worked, by collector"),
            "bar",
            "by_collector",
            "collector",
            ("attempts_per_case", "right_party_per_case", "promises_per_case"),
        ),
        Chart(
            "channel_counts",
            _("Attempts and right-party contacts by channel"),
            "bar",
            "by_channel",
            "channel",
            ("attempts", "right_party"),
        ),
    )
    notes = (
        _(
            "Contact attempts logged for the period's days and recorded by the end of the "
            "report's date; a right-party contact reached the borrower or a co-borrower."
        ),
        _(
            "Per case: for the book, over the cases open at some time in the period; for a "
            "collector, over the cases they logged a contact on."
        ),
    )
    return ReportResult(NAME, SPEC.title, params, tables, charts, notes)


SPEC = register(
    ReportSpec(
        name=NAME,
        title=_("Contact intensity"),
        compute=compute,
        period=True,
        description=_("Attempts, right-party contacts and promises per case and per collector."),
        order=55,
        tags=("events",),
    )
)
