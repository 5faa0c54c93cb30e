"""Bucket inventory (账龄分布): how many loans and how much money sit in each bucket, by product
and currency, as of a date — the loan states of :mod:`arrears.reports.states` summed."""

from __future__ import annotations

import polars as pl
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from arrears.reports.base import (
    Chart,
    Column,
    ReportParams,
    ReportResult,
    ReportSpec,
    Table,
    register,
)
from arrears.reports.figures import money, state_label
from arrears.reports.states import CLOSED, roll_state, state_rank, states_as_of

NAME = "bucket_inventory"
#: The money figures summed per bucket (loan-state contract names).
AMOUNTS = (
    "principal_outstanding",
    "overdue_principal",
    "overdue_interest",
    "penalty_outstanding",
    "compound_outstanding",
    "total_due",
    "payoff",
)


def inventory(frame: pl.DataFrame) -> pl.DataFrame:
    """Loans and the :data:`AMOUNTS` per product, currency and roll state (a bucket, or
    closed), from a states frame."""
    return (
        roll_state(frame)
        .with_columns(
            pl.when(pl.col("state") == CLOSED)
            .then(pl.lit(CLOSED))
            .otherwise(pl.col("bucket"))
            .alias("state")
        )
        .group_by("product", "currency", "state")
        .agg(pl.len().alias("loans"), *(pl.col(name).sum() for name in AMOUNTS))
    )


def compute(params: ReportParams) -> ReportResult:
    states = states_as_of(params.as_of)
    grouped = inventory(states.frame)
    rows = sorted(
        grouped.iter_rows(named=True),
        key=lambda r: (r["product"], r["currency"], state_rank(r["state"])),
    )
    detail = (
        Column("product", pgettext_lazy("ledger report", "Product")),
        Column("currency", pgettext_lazy("ledger report", "Currency")),
        Column("bucket", _("Bucket")),
        Column("loans", _("Loans"), "count"),
        *(money(name) for name in AMOUNTS),
    )
    by_product = [
        (
            r["product"],
            r["currency"],
            state_label(r["state"]),
            r["loans"],
            *(int(r[name]) for name in AMOUNTS),
        )
        for r in rows
    ]
    # the chart's table: one row per currency and bucket, one column per product's balance
    products = sorted({r["product"] for r in rows})
    wide: dict[tuple[str, str], dict[str, int]] = {}
    for r in rows:
        if r["state"] == CLOSED:
            continue
        wide.setdefault((r["currency"], r["state"]), {})[r["product"]] = int(
            r["principal_outstanding"]
        )
    chart_rows = tuple(
        (state_label(state), currency, *(balances.get(p, 0) for p in products))
        for (currency, state), balances in sorted(
            wide.items(), key=lambda item: (item[0][0], state_rank(item[0][1]))
        )
    )
    totals = (
        grouped.group_by("currency", "state")
        .agg(pl.col("loans").sum(), *(pl.col(name).sum() for name in AMOUNTS))
        .iter_rows(named=True)
    )
    total_rows = tuple(
        (r["currency"], state_label(r["state"]), r["loans"], *(int(r[n]) for n in AMOUNTS))
        for r in sorted(totals, key=lambda r: (r["currency"], state_rank(r["state"])))
    )
    totals_columns = (
        Column("currency", pgettext_lazy("ledger report", "Currency")),
        Column("bucket", _("Bucket")),
        Column("loans", _("Loans"), "count"),
        *(money(name) for name in AMOUNTS),
    )
    notes: list[object] = [
        _(
            "Loan states at the end of the day, as recorded by then: the stored daily states "
            "where the day was run, else the ledger replayed. Loans paid off (payoff 0) are "
            "counted as closed; balances are the principal outstanding."
        ),
        _("%(stored)s loan states read as stored, %(replayed)s replayed.")
        % {"stored": states.stored, "replayed": states.replayed},
    ]
    if states.errors:
        notes.append(
            _("%(count)s loans could not be computed and are left out (see the day run).")
            % {"count": states.errors}
        )
    return ReportResult(
        name=NAME,
        title=pgettext_lazy("ledger report", "Bucket inventory"),
        params=params,
        tables=(
            Table(
                "by_bucket", pgettext_lazy("ledger report", "By bucket"), totals_columns, total_rows
            ),
            Table("by_product", _("By product and bucket"), detail, tuple(by_product)),
            Table(
                "balance_chart",
                _("Principal outstanding by bucket and product"),
                (
                    Column("bucket", _("Bucket")),
                    Column("currency", pgettext_lazy("ledger report", "Currency")),
                    *(Column(f"product:{p}", p, "money") for p in products),
                ),
                chart_rows,
            ),
        ),
        charts=(
            Chart(
                "balance",
                _("Principal outstanding by bucket and product"),
                "stacked",
                "balance_chart",
                "bucket",
                tuple(f"product:{p}" for p in products),
            ),
            Chart("loans", _("Loans by bucket"), "bar", "by_bucket", "bucket", ("loans",)),
        ),
        notes=tuple(notes),
    )


register(
    ReportSpec(
        name=NAME,
        title=pgettext_lazy("ledger report", "Bucket inventory"),
        compute=compute,
        description=_("Loans and balances in each bucket, by product and currency, as of a date."),
        order=10,
        tags=("ledger",),
    )
)
