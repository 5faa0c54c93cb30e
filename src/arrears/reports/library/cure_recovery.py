"""Cure and recovery curves (回收率): of the loans that rolled into a bucket at a month end,
the share back to current (or paid off) and the cash recovered as a share of their debt at
entry, one, two, … months later — by the bucket entered and by vintage (month of drawdown).
On Polars over the month-end states of :mod:`arrears.reports.states`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from arrears.ledger.models import Payment
from arrears.reports import history
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
from arrears.reports.figures import points, rate
from arrears.reports.params import end_of_day
from arrears.reports.rolls import CLOSED, WRITTEN_OFF, roll_state, state_rank
from arrears.reports.states import states_at, written_off

NAME = "cure_recovery"
#: Vintages drawn in a chart (the latest ones); the tables hold every vintage.
MAX_VINTAGES = 12
#: The shortest window the curves follow cohorts over (months): a curve needs the months
#: after entry, so a shorter period (the default: one month) is widened back to this.
MIN_WINDOW_MONTHS = 12


def window_start(start: date, end: date) -> date:
    """The first day the curves read: ``start``, or earlier so that the window is at least
    :data:`MIN_WINDOW_MONTHS` months to ``end``."""
    month = end.year * 12 + end.month - 1 - (MIN_WINDOW_MONTHS - 1)
    earliest = date(month // 12, month % 12 + 1, 1)
    return min(start, earliest)


def entries(rolled: pl.DataFrame) -> pl.DataFrame:
    """The loans that rolled into a delinquent bucket at a date: in a bucket with days past
    due at that date, in a lower state (or current) at the previous date. Columns: ``entry``
    (the date), ``step`` (its index), ``loan_id``, ``bucket``, ``vintage``, ``currency``,
    ``balance`` (payoff at entry) and ``from_current`` (current at the previous date: the
    loan's first roll into arrears, the vintage curves' cohorts)."""
    dates = sorted(set(rolled["as_of"].to_list()))
    steps = pl.DataFrame(
        {"as_of": dates, "step": list(range(len(dates)))},
        schema={"as_of": pl.Date(), "step": pl.Int64()},
    )
    names = sorted(set(rolled["state"].to_list()), key=state_rank)
    ranks = {name: n for n, name in enumerate(names)}
    frame = rolled.join(steps, on="as_of").with_columns(
        pl.col("state").replace_strict(ranks, return_dtype=pl.Int64).alias("rank")
    )
    before = frame.select(
        "loan_id",
        (pl.col("step") + 1).alias("step"),
        pl.col("rank").alias("rank_before"),
        ((pl.col("dpd") == 0) & (pl.col("state") != CLOSED)).alias("from_current"),
    )
    return (
        frame.join(before, on=["loan_id", "step"], how="inner")
        .filter(
            (pl.col("dpd") > 0)
            & ~pl.col("state").is_in([CLOSED, WRITTEN_OFF])
            & (pl.col("rank") > pl.col("rank_before"))
        )
        .select(
            pl.col("as_of").alias("entry"),
            "step",
            "loan_id",
            pl.col("state").alias("bucket"),
            pl.col("start_date").dt.strftime("%Y-%m").alias("vintage"),
            "currency",
            pl.col("payoff").alias("balance"),
            "from_current",
        )
    )


def curves(rolled: pl.DataFrame, cash: pl.DataFrame, key: str) -> pl.DataFrame:
    """Per ``key`` (``bucket`` or ``vintage``), currency and months after entry: loans in the
    cohort still followed, those cured (0 days past due, or paid off), their debt at entry
    and the cash recovered since (``cash``: ``loan_id``, ``value_date``, ``amount``)."""
    found = entries(rolled)
    if key == "vintage":  # a loan once per delinquency, not once per bucket it rolls through
        found = found.filter(pl.col("from_current"))
    dates = sorted(set(rolled["as_of"].to_list()))
    steps = pl.DataFrame(
        {"as_of": dates, "later": list(range(len(dates)))},
        schema={"as_of": pl.Date(), "later": pl.Int64()},
    )
    later = rolled.join(steps, on="as_of").select(
        "loan_id",
        "later",
        ((pl.col("dpd") == 0) | (pl.col("state") == CLOSED)).alias("cured"),
    )
    followed = (
        found.with_row_index("cohort")
        .join(later, on="loan_id")
        .filter(pl.col("later") > pl.col("step"))
        .with_columns((pl.col("later") - pl.col("step")).alias("months"))
    )
    # each payment at the first date on or after its value date
    bounds = pl.Series(dates, dtype=pl.Date())
    paid = cash.with_columns(
        pl.Series("later", bounds.search_sorted(cash["value_date"], side="left"), pl.Int64)
    )
    amounts = (
        followed.select("cohort", "loan_id", "step")
        .unique()
        .join(paid, on="loan_id")
        .filter(pl.col("later") > pl.col("step"))
        .with_columns((pl.col("later") - pl.col("step")).alias("months"))
        .group_by("cohort", "months")
        .agg(pl.col("amount").sum())
    )
    with_cash = (
        followed.join(amounts, on=["cohort", "months"], how="left")
        .with_columns(pl.col("amount").fill_null(0))
        .sort("cohort", "months")
        .with_columns(pl.col("amount").cum_sum().over("cohort").alias("recovered"))
    )
    return (
        with_cash.group_by(key, "currency", "months")
        .agg(
            pl.len().alias("loans"),
            pl.col("cured").sum().cast(pl.Int64).alias("cured"),
            pl.col("balance").sum().alias("balance"),
            pl.col("recovered").sum().alias("recovered"),
        )
        .sort(key, "currency", "months")
    )


def _cash(params: ReportParams, first: date, last: date) -> pl.DataFrame:
    """Payments with value dates in ``(first, last]`` recorded by the end of ``as_of`` and
    not reversed by then (``history.reversal_known``: a reversal recorded later, even
    back-dated, is not known as of then)."""
    rows = (
        Payment.objects.filter(
            value_date__gt=first,
            value_date__lte=last,
            created_at__lt=end_of_day(params.as_of),
        )
        .exclude(history.reversal_known(params.as_of))
        .order_by()
        .values_list("loan_id", "value_date", "amount_minor")
    )
    return pl.DataFrame(
        list(rows),
        schema={"loan_id": pl.Int64(), "value_date": pl.Date(), "amount": pl.Int64()},
        orient="row",
    )


def _wide(
    long: pl.DataFrame, key: str, keys: Sequence[str], value: str, table: str, title: object
) -> tuple[Table, Chart]:
    """A curve chart's table: one row per month after entry, one rate column per ``keys``."""
    months = sorted(set(long["months"].to_list()))
    index = {(r[key], r["months"]): r for r in long.iter_rows(named=True)}
    rows: list[tuple[Cell, ...]] = []
    for month in months:
        cells: list[Cell] = [month]
        for name in keys:
            r = index.get((name, month))
            if r is None:
                cells.append(None)
            elif value == "cure":
                cells.append(rate(r["cured"], r["loans"]))
            else:
                cells.append(rate(int(r["recovered"]), int(r["balance"])))
        rows.append(tuple(cells))
    columns = (
        Column("months", pgettext_lazy("ledger report", "Months after entry"), "count"),
        *(Column(f"{key}:{name}", name, "rate") for name in keys),
    )
    chart = Chart(table, title, "line", table, "months", tuple(f"{key}:{name}" for name in keys))
    return Table(table, title, columns, tuple(rows)), chart


def _detail(long: pl.DataFrame, key: str, label: object, table: str, title: object) -> Table:
    return Table(
        table,
        title,
        (
            Column(key, label),
            Column("currency", pgettext_lazy("ledger report", "Currency")),
            Column("months", pgettext_lazy("ledger report", "Months after entry"), "count"),
            Column("loans", _("Loans"), "count"),
            Column("cured", pgettext_lazy("ledger report", "Cured"), "count"),
            Column("cure_rate", pgettext_lazy("ledger report", "Cure rate"), "rate"),
            Column("balance", pgettext_lazy("ledger report", "Debt at entry"), "money"),
            Column("recovered", pgettext_lazy("ledger report", "Recovered"), "money"),
            Column("recovery_rate", pgettext_lazy("ledger report", "Recovery rate"), "rate"),
        ),
        tuple(
            (
                r[key],
                r["currency"],
                r["months"],
                r["loans"],
                r["cured"],
                rate(r["cured"], r["loans"]),
                int(r["balance"]),
                int(r["recovered"]),
                rate(int(r["recovered"]), int(r["balance"])),
            )
            for r in long.iter_rows(named=True)
        ),
    )


def compute(params: ReportParams) -> ReportResult:
    assert params.start is not None and params.end is not None
    days = points(window_start(params.start, params.end), params.end)
    states = states_at(days, known_by=params.as_of)
    rolled = roll_state(states.frame, written_off(days, known_by=params.as_of))
    cash = _cash(params, days[0], days[-1])
    tables: list[Table] = []
    charts: list[Chart] = []
    for key, label, latest in (
        ("bucket", pgettext_lazy("ledger report", "Bucket at entry"), None),
        ("vintage", pgettext_lazy("ledger report", "Vintage"), MAX_VINTAGES),
    ):
        long = curves(rolled, cash, key)
        names = sorted(set(long[key].to_list()), key=state_rank if key == "bucket" else None)
        if latest is not None:
            names = names[-latest:]
        # the cure curve counts loans (all currencies); recovery is per currency
        counted = long.group_by(key, "months").agg(pl.col("loans").sum(), pl.col("cured").sum())
        title = _("Cure rate by bucket at entry") if key == "bucket" else _("Cure rate by vintage")
        table, chart = _wide(counted, key, names, "cure", f"cure_by_{key}", title)
        tables.append(table)
        charts.append(chart)
        for currency in sorted(set(long["currency"].to_list())):
            title = (
                _("Recovery rate by bucket at entry")
                if key == "bucket"
                else _("Recovery rate by vintage")
            )
            table, chart = _wide(
                long.filter(pl.col("currency") == currency),
                key,
                names,
                "recovery",
                f"recovery_by_{key}_{currency}",
                f"{title} · {currency}",
            )
            tables.append(table)
            charts.append(chart)
        tables.append(
            _detail(long, key, label, f"{key}_detail", _("Cohorts by %(key)s") % {"key": label})
        )
    return ReportResult(
        name=NAME,
        title=pgettext_lazy("ledger report", "Cure and recovery"),
        params=params,
        tables=tuple(tables),
        charts=tuple(charts),
        notes=(
            _(
                "A cohort is the loans that rolled into a bucket at a month end of the period "
                "(from a lower bucket or current at the month end before). Cured: 0 days past "
                "due, or paid off, n month ends later. Recovered: payments with value dates "
                "after entry up to that month end, recorded by the report's date and not "
                "reversed, as a share of the payoff at entry. Later months have fewer cohorts. "
                "A period shorter than twelve months is widened back to twelve months to its "
                "end, so the curves have months to follow."
            ),
            _("%(stored)s loan states read as stored, %(replayed)s replayed.")
            % {"stored": states.stored, "replayed": states.replayed},
        ),
    )


register(
    ReportSpec(
        name=NAME,
        title=pgettext_lazy("ledger report", "Cure and recovery"),
        compute=compute,
        period=True,
        description=_(
            "Cure and recovery curves of the loans that rolled into a bucket, by bucket at "
            "entry and by vintage (month of drawdown)."
        ),
        order=30,
        tags=("ledger",),
    )
)
