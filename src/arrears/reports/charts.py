"""A report's charts as the page draws them (Chart.js, with the figures' table under each) and
as the PDF pack draws them (``reports.pack``): the categories, the series and their values.

A chart names a table, its category column and its series columns. When a series is money and
the table holds rows of several currencies, the chart is drawn once per currency (amounts are
never put on one axis across currencies). A ``matrix`` chart (roll rates) is a heat table: the
table itself with each cell shaded by its share of its row's largest value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from arrears.reports import cells
from arrears.reports.base import Cell, Chart, Column, ReportResult, Table

#: Chart.js's type for each kind (``matrix`` is not drawn by Chart.js).
CHARTJS_TYPE = {"bar": "bar", "stacked": "bar", "line": "line"}
#: The shades of a heat table's cells: 0 (none) to this.
HEAT_LEVELS = 10


@dataclass
class DrawnChart:
    id: str
    title: str
    kind: str
    currency: str | None
    #: The figures' table: its header (category first) and rows, as a person reads them.
    header: list[str]
    rows: list[list[str]]
    #: What a chart library plots: categories and one value list per series (text numbers).
    labels: list[str]
    series: list[tuple[str, list[str | None]]]
    percent: bool
    #: For a ``matrix``: each row's cells' shade (0..HEAT_LEVELS), in the order of ``rows``.
    heat: list[list[int]] = field(default_factory=list)
    #: Whether a page draws it (a renderer's choice: not a heat table, not too many points),
    #: and how many rows its table had before a renderer cut it.
    drawable: bool = True
    total: int = 0

    def table_rows(self) -> list[tuple[str, list[tuple[str, int | None]]]]:
        """The figures' table for a template: each row's category, then (text, shade) per
        series cell (the shade is ``None`` unless the chart is a heat table)."""
        out = []
        for n, row in enumerate(self.rows):
            shades: list[int | None] = list(self.heat[n]) if self.heat else [None] * len(row[1:])
            out.append((row[0], list(zip(row[1:], shades, strict=True))))
        return out

    def chartjs(self) -> dict[str, object]:
        """The page script's input for this chart (``None`` for a heat table)."""
        return {
            "type": CHARTJS_TYPE.get(self.kind, "bar"),
            "stacked": self.kind == "stacked",
            "percent": self.percent,
            "labels": self.labels,
            "datasets": [{"label": label, "data": data} for label, data in self.series],
        }


def _dom_id(text: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_-]", "-", text)


def _columns(table: Table, keys: tuple[str, ...]) -> list[tuple[int, Column]]:
    index = {column.key: n for n, column in enumerate(table.columns)}
    return [(index[key], table.columns[index[key]]) for key in keys]


def _currencies(table: Table, series: list[tuple[int, Column]]) -> list[str | None]:
    if not any(column.kind == "money" for _, column in series):
        return [None]
    found: list[str | None] = []
    for row in table.rows:
        currency = cells.row_currency(table, row)
        if currency not in found:
            found.append(currency)
    return found or [None]


def _level(value: Cell, top: Decimal) -> int:
    if not isinstance(value, (int, Decimal)) or isinstance(value, bool) or top <= 0:
        return 0
    return int(Decimal(value) * HEAT_LEVELS / top)


def draw(result: ReportResult, chart: Chart, locale: str) -> list[DrawnChart]:
    """``chart`` of ``result`` as one drawn chart per currency (one when none applies)."""
    table = result.table(chart.table)
    (x_index, x_column), *_ = _columns(table, (chart.x,))
    series = _columns(table, chart.series)
    title = str(chart.title)
    drawn = []
    currencies = _currencies(table, series)
    for currency in currencies:
        rows = [
            row
            for row in table.rows
            if currency is None or cells.row_currency(table, row) == currency
        ]
        suffix = f" · {currency}" if currency is not None and len(currencies) > 1 else ""
        shown_rows = []
        heat = []
        for row in rows:
            row_currency = cells.row_currency(table, row)
            shown = [cells.show(row[x_index], x_column, row_currency, locale)]
            shown += [cells.show(row[n], column, row_currency, locale) for n, column in series]
            shown_rows.append(shown)
            if chart.kind == "matrix":
                values = [row[n] for n, _ in series]
                top = max(
                    (Decimal(v) for v in values if isinstance(v, (int, Decimal))),
                    default=Decimal(0),
                )
                heat.append([_level(v, top) for v in values])
        drawn.append(
            DrawnChart(
                id=_dom_id(chart.key + (f"-{currency}" if suffix else "")),
                title=title + suffix,
                kind=chart.kind,
                currency=currency,
                header=[str(x_column.label)] + [str(column.label) for _, column in series],
                rows=shown_rows,
                labels=[cells.show(row[x_index], x_column, None, locale) for row in rows],
                series=[
                    (
                        str(column.label),
                        [
                            cells.chart_value(row[n], column, cells.row_currency(table, row))
                            for row in rows
                        ],
                    )
                    for n, column in series
                ],
                percent=bool(series) and all(column.kind == "rate" for _, column in series),
                heat=heat,
            )
        )
    return drawn


def draw_all(result: ReportResult, locale: str) -> list[DrawnChart]:
    return [drawn for chart in result.charts for drawn in draw(result, chart, locale)]
