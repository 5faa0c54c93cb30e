"""``arrears report``: any registered report on the command line, and the monthly pack.

* ``arrears report list`` — the registered reports (name, period or not, title);
* ``arrears report NAME [--as-of D] [--from D --to D] [--format table|csv|json]
  [--table KEY] [--language en|zh-hans]`` — one report; ``table`` prints every table aligned
  for a terminal, ``csv`` one table (``--table`` when there are several), ``json`` the whole
  result exactly (money in integer minor units beside its currency, rates as decimal text);
* ``arrears report pack --month YYYY-MM [--language zh-hans|en] [--out FILE]`` — the monthly
  PDF pack (default file: ``<data dir>/reports/pack-YYYY-MM-LANG.pdf``).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from arrears.commands import OFFLINE_CHECKS
from arrears.kernel.errors import ArrearsError
from arrears.reports import cells, export
from arrears.reports.base import Cell, ReportResult, ReportSpec, in_order, load_all
from arrears.reports.pack import LANGUAGES
from arrears.reports.params import read_params
from arrears.reports.schedule import write_pack


def _json_cell(cell: Cell) -> object:
    if isinstance(cell, Decimal):
        return str(cell)
    if isinstance(cell, date):
        return cell.isoformat()
    return cell


def result_json(result: ReportResult) -> dict[str, object]:
    """The whole result, exactly, as JSON-ready values."""
    params = result.params
    return {
        "name": result.name,
        "title": str(result.title),
        "params": {
            "as_of": params.as_of.isoformat(),
            "from": params.start.isoformat() if params.start else None,
            "to": params.end.isoformat() if params.end else None,
        },
        "notes": [str(note) for note in result.notes],
        "tables": [
            {
                "key": table.key,
                "title": str(table.title),
                "columns": [
                    {"key": c.key, "label": str(c.label), "kind": c.kind} for c in table.columns
                ],
                "rows": [[_json_cell(cell) for cell in row] for row in table.rows],
            }
            for table in result.tables
        ],
    }


def result_text(result: ReportResult, language: str) -> str:
    """Every table of the result aligned for a terminal, amounts with their currency."""
    lines = [str(result.title)]
    params = result.params
    period = f" ({params.start} – {params.end})" if params.start and params.end else ""
    lines.append(f"as of {params.as_of}{period}")
    lines.extend(f"  {note}" for note in result.notes)
    for table in result.tables:
        header = [str(c.label) for c in table.columns]
        body = [
            [
                cells.show(cell, column, cells.row_currency(table, row), language)
                for column, cell in zip(table.columns, row, strict=True)
            ]
            for row in table.rows
        ]
        widths = [max(len(text) for text in column) for column in zip(header, *body, strict=True)]
        numeric = [c.kind != "text" and c.kind != "date" for c in table.columns]
        lines += ["", str(table.title)]
        for row in [header, *body]:
            lines.append(
                "  ".join(
                    text.rjust(width) if right else text.ljust(width)
                    for text, width, right in zip(row, widths, numeric, strict=True)
                ).rstrip()
            )
        if not body:
            lines.append("(no rows)")
    return "\n".join(lines)


class Command(BaseCommand):
    requires_system_checks = OFFLINE_CHECKS  # not the URL checks: a command serves no page
    help = (
        "Reports: `report list`; `report NAME --as-of D [--from D --to D] "
        "[--format table|csv|json]`; `report pack --month YYYY-MM [--language zh-hans|en]`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("report", help="a report's name, `list` or `pack`")
        parser.add_argument("--as-of", dest="as_of")
        parser.add_argument("--from", dest="first")
        parser.add_argument("--to", dest="last")
        parser.add_argument("--format", choices=["table", "csv", "json"], default="table")
        parser.add_argument("--table", help="the table a CSV holds (by key)")
        parser.add_argument("--language", choices=list(LANGUAGES))
        parser.add_argument("--month", help="the pack's month, YYYY-MM")
        parser.add_argument("--out", help="where the pack is written")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["report"]
        registry = load_all()
        try:
            if name == "list":
                self._list(registry)
            elif name == "pack":
                self._pack(registry, options)
            else:
                spec = registry.get(name)
                if spec is None:
                    known = ", ".join(sorted(registry)) or "none"
                    raise CommandError(f"there is no report {name!r} (registered: {known})")
                self._one(spec, options)
        except ArrearsError as error:
            raise CommandError(str(error)) from None

    def _list(self, registry: dict[str, ReportSpec]) -> None:
        for spec in in_order(registry.values()):
            kind = "period" if spec.period else "as-of"
            self.stdout.write(f"{spec.name:<28} {kind:<7} {spec.title}")

    def _one(self, spec: ReportSpec, options: dict[str, Any]) -> None:
        params = read_params(spec, options["as_of"], options["first"], options["last"])
        language = options["language"] or "en"
        with translation.override(language):
            result = spec.compute(params)
            if options["format"] == "json":
                self.stdout.write(json.dumps(result_json(result), ensure_ascii=False, indent=1))
            elif options["format"] == "csv":
                keys = [table.key for table in result.tables]
                key = options["table"] or (keys[0] if len(keys) == 1 else None)
                if key not in keys:
                    raise CommandError(f"choose a table with --table: {', '.join(keys)}")
                data = export.csv_bytes(result.table(key)).decode("utf-8").lstrip("\ufeff")
                self.stdout.write(data, ending="")
            else:
                self.stdout.write(result_text(result, language))

    def _pack(self, registry: dict[str, ReportSpec], options: dict[str, Any]) -> None:
        if not options["month"]:
            raise CommandError("report pack needs --month YYYY-MM")
        language = options["language"] or "zh-hans"
        out = Path(options["out"]) if options["out"] else None
        path, reports, size = write_pack(options["month"].strip(), language, out=out)
        self.stdout.write(f"wrote {path} ({reports} reports, {size} bytes)")
