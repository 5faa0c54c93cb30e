"""The report pages: the index of the reports a user may see, any report's page (its tables,
its charts drawn by the vendored Chart.js with each chart's figures in a table under it) and
its CSV and XLSX downloads. Views parse the request, ask ``reports.access``, compute the
registered report and render its result; no figure is computed here."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_GET

from arrears import errorcodes
from arrears.reports import access, cells, charts, export
from arrears.reports.base import ReportParams, ReportResult, ReportSpec, load_all
from arrears.reports.params import ReportRequestError, read_params, today

#: Rows of one table a page shows; the downloads hold them all.
PAGE_ROWS = 500
#: Categories one chart draws on the page; a longer one shows its table only (cut like the
#: tables), since thousands of bars say nothing a table does not.
CHART_POINTS = 200
#: Numeric column kinds, right-aligned.
NUMERIC = frozenset({"count", "money", "rate", "number"})


def _spec(request: HttpRequest, name: str) -> ReportSpec:
    if not access.may_open(request.user):
        raise PermissionDenied
    spec = load_all().get(name)
    if spec is None:
        raise Http404(name)
    if not access.may_view(request.user, spec):
        raise PermissionDenied
    return spec


def _params(request: HttpRequest, spec: ReportSpec) -> ReportParams:
    return read_params(
        spec, request.GET.get("as_of"), request.GET.get("from"), request.GET.get("to")
    )


@require_GET
@login_required
def index(request: HttpRequest) -> HttpResponse:
    if not access.may_open(request.user):
        raise PermissionDenied
    specs = access.visible_reports(request.user)
    return render(request, "reports/index.html", {"specs": specs, "today": today()})


def _shown_table(result: ReportResult, table_index: int, locale: str) -> dict[str, Any]:
    table = result.tables[table_index]
    rows = []
    for row in table.rows[:PAGE_ROWS]:
        currency = cells.row_currency(table, row)
        rows.append(
            [
                (cells.show(cell, column, currency, locale), column.kind in NUMERIC)
                for column, cell in zip(table.columns, row, strict=True)
            ]
        )
    return {
        "key": table.key,
        "title": table.title,
        "columns": [(column.label, column.kind in NUMERIC) for column in table.columns],
        "rows": rows,
        "total": len(table.rows),
        "cut": len(table.rows) > PAGE_ROWS,
    }


@require_GET
@login_required
def report(request: HttpRequest, name: str) -> HttpResponse:
    spec = _spec(request, name)
    context: dict[str, Any] = {
        "spec": spec,
        "form": {key: request.GET.get(key, "")[:40] for key in ("as_of", "from", "to")},
        "page_rows": PAGE_ROWS,
        "heat_levels": range(1, charts.HEAT_LEVELS),
        "today": today(),
    }
    try:
        params = _params(request, spec)
    except ReportRequestError as error:
        context["problem"] = errorcodes.describe(error)
        return render(request, "reports/report.html", context, status=400)
    result = spec.compute(params)
    locale = translation.get_language() or "zh-hans"
    drawn = charts.draw_all(result, locale)
    for chart in drawn:
        chart.drawable = chart.kind != "matrix" and 0 < len(chart.labels) <= CHART_POINTS
        chart.total = len(chart.rows)
        chart.rows, chart.heat = chart.rows[:PAGE_ROWS], chart.heat[:PAGE_ROWS]
    query = {"as_of": params.as_of.isoformat()}
    if params.start and params.end:
        query |= {"from": params.start.isoformat(), "to": params.end.isoformat()}
    context["form"] = {"as_of": "", "from": "", "to": ""} | query
    context.update(
        result=result,
        params=params,
        query=query,
        charts=drawn,
        chart_data={chart.id: chart.chartjs() for chart in drawn if chart.drawable},
        tables=[_shown_table(result, n, locale) for n in range(len(result.tables))],
    )
    return render(request, "reports/report.html", context)


@require_GET
@login_required
def download(request: HttpRequest, name: str, fmt: str) -> HttpResponse:
    spec = _spec(request, name)
    if fmt not in ("csv", "xlsx"):
        raise Http404(fmt)
    try:
        params = _params(request, spec)
    except ReportRequestError as error:
        return HttpResponse(
            errorcodes.describe(error), status=400, content_type="text/plain; charset=utf-8"
        )
    result = spec.compute(params)
    stem = f"{spec.name}-{params.as_of.isoformat()}"
    if fmt == "csv":
        key = request.GET.get("table") or result.tables[0].key
        table = next((t for t in result.tables if t.key == key), None)
        if table is None:
            raise Http404(key)
        response = HttpResponse(export.csv_bytes(table), content_type="text/csv; charset=utf-8")
        filename = f"{stem}-{re.sub(r'[^A-Za-z0-9_-]', '-', table.key)}.csv"
    else:
        response = HttpResponse(
            export.xlsx_bytes(result),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        filename = f"{stem}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
