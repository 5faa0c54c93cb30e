"""The shape every report returns, and the registry the pages, downloads and commands read.

A report computes plain tables (rows of ints, strings, dates and exact ``Decimal`` rates;
amounts in integer minor units next to their currency code, never added across currencies) and
names the charts drawn from them. Rendering — HTML with Chart.js, CSV, XLSX, the terminal, the
PDF pack — lives elsewhere and reads only this shape, so a report is written once.

Why tables, not free-form dicts: a CSV, an XLSX sheet and a chart's data table are all the same
thing (columns with a kind, rows), and the kind says how a cell is formatted (a ``money`` cell
needs its row's currency; a ``rate`` is a ``Decimal`` fraction 0–1 shown as a percentage).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

#: How a column's cells are typed and shown.
#: ``text`` str · ``count`` int · ``money`` int minor units (the row's ``currency`` column says
#: which) · ``rate`` Decimal fraction 0–1 or None (no denominator) · ``date`` a date ·
#: ``number`` Decimal (e.g. contacts per case).
ColumnKind = Literal["text", "count", "money", "rate", "date", "number"]

Cell = str | int | Decimal | date | None


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    #: Shown to a person; a lazy translation (``gettext_lazy``) so one result renders in both
    #: languages.
    label: object
    kind: ColumnKind = "text"


@dataclass(frozen=True, slots=True)
class Table:
    key: str
    title: object
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]

    def column(self, key: str) -> list[Cell]:
        """One column's cells, in row order."""
        index = [c.key for c in self.columns].index(key)
        return [row[index] for row in self.rows]


#: ``bar`` grouped bars · ``stacked`` stacked bars · ``line`` lines (curves) ·
#: ``matrix`` a from × to grid drawn as a heat table (roll rates).
ChartKind = Literal["bar", "stacked", "line", "matrix"]


@dataclass(frozen=True, slots=True)
class Chart:
    key: str
    title: object
    kind: ChartKind
    #: The table the chart draws, its category (x) column and its series (y) columns.
    table: str
    x: str
    series: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReportParams:
    """What a report is asked for: the date its figures are as of, and for reports over a
    period, the first and last day (inclusive). A report reads nothing after ``as_of``."""

    as_of: date
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True, slots=True)
class ReportResult:
    name: str
    title: object
    params: ReportParams
    tables: tuple[Table, ...]
    charts: tuple[Chart, ...] = ()
    #: Lines shown under the title: what the figures mean, what they leave out.
    notes: tuple[object, ...] = ()

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)


#: Who sees a report unless its spec narrows it: the people who run collections on numbers.
DEFAULT_AUDIENCE = frozenset({"manager", "team_lead", "compliance_officer", "admin"})


@dataclass(frozen=True, slots=True)
class ReportSpec:
    name: str
    title: object
    compute: Callable[[ReportParams], ReportResult]
    #: Whether the report reads a period (``--from``/``--to``) besides ``as_of``.
    period: bool = False
    description: object = ""
    order: int = 100
    tags: Sequence[str] = field(default_factory=tuple)
    #: The roles (``accounts.roles.Role`` codes) who may see the report: its page, downloads
    #: and place in the index. Superusers always may. Agencies, collectors, field agents and
    #: borrowers never do, whatever a spec says (``reports.access``).
    audience: frozenset[str] = DEFAULT_AUDIENCE


REGISTRY: dict[str, ReportSpec] = {}


def register(spec: ReportSpec) -> ReportSpec:
    """Add a report; a second report under one name is a programming error."""
    if spec.name in REGISTRY:
        raise ValueError(f"report {spec.name!r} is registered twice")
    REGISTRY[spec.name] = spec
    return spec


def in_order(specs: Iterable[ReportSpec]) -> list[ReportSpec]:
    """Reports in the order the index, the command and the pack show them: by ``order``, then
    name."""
    return sorted(specs, key=lambda spec: (spec.order, spec.name))


def load_all() -> dict[str, ReportSpec]:
    """Import every module of :mod:`arrears.reports.library` (each registers its reports) and
    return the registry. Idempotent: a module is imported once."""
    import importlib
    import pkgutil

    from arrears.reports import library

    for module in pkgutil.iter_modules(library.__path__):
        importlib.import_module(f"{library.__name__}.{module.name}")
    return REGISTRY
