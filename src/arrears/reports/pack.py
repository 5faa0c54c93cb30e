"""The monthly pack: every registered report for one calendar month, as one PDF in one
language — a cover, then per report its title, notes, charts and tables.

Each report is computed as of the month's last day over the month (``params.month_params``),
so the pack of a past month is the same whenever it is made (``ReportResult`` is reproducible
as of a date, and ReportLab's ``invariant`` mode leaves creation times and random ids out of the
file: the same figures give the same bytes). Charts are drawn with ReportLab's own charts from
the very values the page's Chart.js draws (``reports.charts``); a ``matrix`` is the shaded
table. Text is set in the built-in CJK font (``channels.pdfparts``), which covers Latin too.

A table longer than :data:`PDF_ROWS` rows is cut with a line saying so; the XLSX download holds
every row.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from django.utils import translation
from django.utils.translation import gettext as _

from arrears.channels.pdfparts import cjk_font
from arrears.reports import cells, charts
from arrears.reports.base import ReportParams, ReportResult, ReportSpec

#: Rows of one table printed in the pack.
PDF_ROWS = 60
#: Categories one chart draws (a longer table is printed, not drawn).
CHART_CATEGORIES = 40
PALETTE = ("#2c6fbb", "#c0392b", "#27ae60", "#8e44ad", "#e67e22", "#16a085", "#7f8c8d")
LANGUAGES = ("zh-hans", "en")
CUT = "The first %(shown)s of %(total)s rows; the XLSX download holds them all."


def _number(text: str | None) -> float | None:
    """A chart value as the drawing's coordinate (display only: never summed or stored)."""
    return None if text is None else float(Decimal(text))


def _chart_drawing(chart: charts.DrawnChart, width: float, font: str) -> Any:
    from reportlab.graphics.charts.barcharts import VerticalBarChart  # type: ignore[import-untyped]
    from reportlab.graphics.charts.legends import Legend  # type: ignore[import-untyped]
    from reportlab.graphics.charts.linecharts import (  # type: ignore[import-untyped]
        HorizontalLineChart,
    )
    from reportlab.graphics.shapes import Drawing  # type: ignore[import-untyped]
    from reportlab.lib import colors  # type: ignore[import-untyped]

    height = 190.0
    drawing = Drawing(width, height)
    plot = HorizontalLineChart() if chart.kind == "line" else VerticalBarChart()
    plot.x, plot.y = 45, 45
    plot.width, plot.height = width - 60, height - 75
    #: A missing value (a rate without denominator) is a gap, not a zero.
    data = [tuple(_number(t) for t in values) for _label, values in chart.series]
    plot.data = data or [(0.0,)]
    plot.categoryAxis.categoryNames = list(chart.labels)
    plot.categoryAxis.labels.fontName = font
    plot.categoryAxis.labels.fontSize = 7
    plot.categoryAxis.labels.angle = 30 if len(chart.labels) > 6 else 0
    plot.categoryAxis.labels.boxAnchor = "ne" if len(chart.labels) > 6 else "n"
    plot.valueAxis.labels.fontName = font
    plot.valueAxis.labels.fontSize = 7
    plot.valueAxis.valueMin = min([0.0, *(v for row in data for v in row if v is not None)])
    if chart.kind == "stacked":
        plot.categoryAxis.style = "stacked"
    for n in range(len(data)):
        colour = colors.HexColor(PALETTE[n % len(PALETTE)])
        if chart.kind == "line":
            plot.lines[n].strokeColor = colour
            plot.lines[n].strokeWidth = 1.5
        else:
            plot.bars[n].fillColor = colour
            plot.bars[n].strokeColor = None
    drawing.add(plot)
    legend = Legend()
    legend.fontName = font
    legend.fontSize = 7
    legend.x, legend.y = 45, height - 8
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.deltax = 90
    legend.colorNamePairs = [
        (colors.HexColor(PALETTE[n % len(PALETTE)]), label)
        for n, (label, _values) in enumerate(chart.series)
    ]
    legend.dx = legend.dy = 6
    legend.boxAnchor = "nw"
    legend.columnMaximum = 1
    drawing.add(legend)
    return drawing


def _table(header: list[str], rows: Iterable[list[str]], font: str, heat: list[list[int]]) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle  # type: ignore[import-untyped]

    body = [header, *rows]
    table = Table(body, repeatRows=1)
    style = [
        ("FONT", (0, 0), (-1, -1), font, 7.5),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.HexColor("#1d2330")),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#d5d9e0")),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    for r, levels in enumerate(heat, start=1):
        for c, level in enumerate(levels, start=1):
            if level:
                shade = colors.Color(0.75, 0.22, 0.17, alpha=min(0.9, level / charts.HEAT_LEVELS))
                style.append(("BACKGROUND", (c, r), (c, r), shade))
    table.setStyle(TableStyle(style))
    return table


def _story(result: ReportResult, spec: ReportSpec, language: str, width: float) -> list[Any]:
    from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
    from reportlab.platypus import Paragraph, Spacer  # type: ignore[import-untyped]

    font = cjk_font()
    h1 = ParagraphStyle("h1", fontName=font, fontSize=15, leading=20, spaceAfter=6)
    h2 = ParagraphStyle("h2", fontName=font, fontSize=11, leading=15, spaceBefore=8, spaceAfter=4)
    body = ParagraphStyle("body", fontName=font, fontSize=8.5, leading=12, wordWrap="CJK")
    story: list[Any] = [Paragraph(escape(str(result.title)), h1)]
    if spec.description:
        story.append(Paragraph(escape(str(spec.description)), body))
    story.extend(Paragraph("· " + escape(str(note)), body) for note in result.notes)
    for chart in charts.draw_all(result, language):
        story.append(Paragraph(escape(chart.title), h2))
        if chart.kind != "matrix" and 0 < len(chart.labels) <= CHART_CATEGORIES:
            story.append(_chart_drawing(chart, width, font))
        story.append(_table(chart.header, chart.rows[:PDF_ROWS], font, chart.heat[:PDF_ROWS]))
    for table in result.tables:
        story.append(Paragraph(escape(str(table.title)), h2))
        rows = [
            [
                cells.show(cell, column, cells.row_currency(table, row), language)
                for column, cell in zip(table.columns, row, strict=True)
            ]
            for row in table.rows[:PDF_ROWS]
        ]
        if rows:
            story.append(_table([str(c.label) for c in table.columns], rows, font, []))
        else:
            story.append(Paragraph(escape(_("No figures for this date.")), body))
        if len(table.rows) > PDF_ROWS:
            story.append(
                Paragraph(
                    escape(_(CUT) % {"shown": PDF_ROWS, "total": len(table.rows)}),
                    body,
                )
            )
    story.append(Spacer(1, 12))
    return story


def build_pack(specs: list[ReportSpec], params: ReportParams, language: str) -> bytes:
    """The pack of ``specs`` for the month of ``params`` in ``language`` (``zh-hans`` or
    ``en``), as PDF bytes. The caller chooses the reports (``load_all`` for all of them)."""
    from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm  # type: ignore[import-untyped]
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    if language not in LANGUAGES:
        raise ValueError(f"language {language!r}: expected one of {', '.join(LANGUAGES)}")
    assert params.start is not None and params.end is not None
    with translation.override(language):
        font = cjk_font()
        out = io.BytesIO()
        month = params.start.strftime("%Y-%m")
        title = _("Monthly report pack %(month)s") % {"month": month}
        document = SimpleDocTemplate(
            out,
            pagesize=A4,
            leftMargin=15 * mm,
            rightMargin=15 * mm,
            topMargin=15 * mm,
            bottomMargin=15 * mm,
            title=title,
            author="Arrears",
            invariant=1,
        )
        cover = ParagraphStyle("cover", fontName=font, fontSize=20, leading=28, spaceAfter=12)
        body = ParagraphStyle("body", fontName=font, fontSize=10, leading=15, wordWrap="CJK")
        story: list[Any] = [
            Paragraph(escape(title), cover),
            Paragraph(
                escape(
                    _("Figures as of the end of %(as_of)s, for %(start)s to %(end)s.")
                    % {
                        "as_of": params.as_of.isoformat(),
                        "start": params.start.isoformat(),
                        "end": params.end.isoformat(),
                    }
                ),
                body,
            ),
        ]
        story.extend(Paragraph("· " + escape(str(spec.title)), body) for spec in specs)
        if not specs:
            story.append(Paragraph(escape(_("No report is registered.")), body))
        for spec in specs:
            story.append(PageBreak())
            asked = params if spec.period else ReportParams(as_of=params.as_of)
            story.extend(_story(spec.compute(asked), spec, language, document.width))
        document.build(story)
        return out.getvalue()
