"""The layers of ``docs/architecture.md`` hold by test: every import of every module under
``src/arrears`` is checked against them, including imports inside functions (lazy ones), under
``if TYPE_CHECKING:`` and through ``importlib.import_module("literal")``.

The layer table (which packages are in a layer and what each may import) is read from the
"Layers" section of ``docs/architecture.md`` itself, so the document and the check cannot drift;
the rules between apps listed under the table are written here as data, next to the few
recorded exceptions, each with its reason.

Type-only imports count like any other: they are a dependency of what the code means, even if
nothing is loaded at run time, and the engine's old ``if TYPE_CHECKING: from django…`` was the
first sign of its leak into the ORM.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src"
PACKAGE = SOURCE / "arrears"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
STANDARD = frozenset(sys.stdlib_module_names) | {"__future__"}


# --- reading the code -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Import:
    module: str  # the importing module
    target: str  # the imported module, resolved (relative imports made absolute)
    line: int

    def __str__(self) -> str:
        path = self.module.replace(".", "/")
        return f"{path} line {self.line}: imports {self.target}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SOURCE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def known_modules() -> frozenset[str]:
    return frozenset(module_name(path) for path in PACKAGE.rglob("*.py"))


def _absolute(module: str, is_package: bool, level: int, name: str | None) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, *([name] if name else [])])


def imports_of(
    source: str, module: str, *, is_package: bool = False, known: frozenset[str] = frozenset()
) -> Iterator[Import]:
    """Every import in ``source`` wherever it stands (``ast.walk`` visits function bodies and
    ``if`` blocks alike). ``from package import name`` is an import of ``package.name`` when
    that is a module, else of ``package``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = (
                _absolute(module, is_package, node.level, node.module)
                if node.level
                else node.module or ""
            )
            for alias in node.names:
                child = f"{base}.{alias.name}"
                yield Import(module, child if child in known else base, node.lineno)
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (
                    isinstance(node.func, ast.Name)
                    and node.func.id in {"import_module", "__import__"}
                )
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
        ):
            yield Import(module, node.args[0].value, node.lineno)


def all_imports() -> list[Import]:
    known = known_modules()
    found: list[Import] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        found.extend(  # one entry per target and line (``from x import a, b`` is one import)
            dict.fromkeys(
                imports_of(
                    path.read_text(encoding="utf-8"),
                    module_name(path),
                    is_package=path.name == "__init__.py",
                    known=known,
                )
            )
        )
    return found


# --- reading the rules --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Layer:
    """One row of the table: its packages, the ``arrears`` packages it may import besides its
    own, and the third-party top-level modules it may import (``None``: any)."""

    name: str
    packages: tuple[str, ...]
    arrears: tuple[str, ...] | None
    third_party: frozenset[str] | None


def _names(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def read_layers(text: str) -> list[Layer]:
    """The table of the "Layers" section: ``| layer | packages | may import from arrears |
    third-party imports | … |``; a cell saying *anything* allows everything, a cell with no
    backticked name allows nothing. ``apps`` in a cell stands for every app's package."""
    section = text.split("\n## Layers\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")][1:]
    cells = [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]
    apps: tuple[str, ...] = ()
    layers = []
    for name, packages, arrears, third, *_ in cells:
        packages_ = tuple(_names(packages))
        if name == "apps":
            apps = packages_
        layers.append(
            Layer(
                name,
                packages_,
                None if "anything" in arrears else tuple(_names(arrears)),
                None if "anything" in third else frozenset(_names(third)),
            )
        )
    return [
        Layer(
            layer.name,
            layer.packages,
            None
            if layer.arrears is None
            else tuple(p for n in layer.arrears for p in (apps if n == "apps" else (n,))),
            layer.third_party,
        )
        for layer in layers
    ]


LAYERS = read_layers(ARCHITECTURE.read_text(encoding="utf-8"))
APPS = next(layer.packages for layer in LAYERS if layer.name == "apps")


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def layer_of(module: str) -> Layer:
    """The layer whose package holds ``module`` (the longest matching package wins)."""
    candidates = [
        (len(package), layer)
        for layer in LAYERS
        for package in layer.packages
        if within(module, package) and (package != "arrears" or module == "arrears")
    ]
    if not candidates:
        raise LookupError(f"{module} is in no layer of docs/architecture.md")
    return max(candidates, key=lambda c: c[0])[1]


def app_of(module: str) -> str | None:
    return next((app for app in APPS if within(module, app)), None)


# --- the rules between apps (the list under the table) ----------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    """Modules in ``modules`` (a package, or exact modules) never import ``forbidden``."""

    text: str
    modules: tuple[str, ...]
    forbidden: tuple[str, ...]
    spared: tuple[str, ...] = ()  # patterns of modules in ``modules`` the rule does not bind

    def applies_to(self, module: str) -> bool:
        return any(within(module, m) for m in self.modules) and not any(
            re.fullmatch(pattern, module) for pattern in self.spared
        )


PANEL_APPS = (
    "arrears.agencies",
    "arrears.legal",
    "arrears.fieldwork",
    "arrears.complaints",
    "arrears.audit",
    "arrears.portal",
    "arrears.demo",
)
RULES = (
    Rule(
        "the ledger imports no other app (it announces changes by signals)",
        ("arrears.ledger",),
        tuple(app for app in APPS if app != "arrears.ledger"),
    ),
    Rule(
        "daily (the day's ledger state) imports no app but the ledger",
        ("arrears.daily",),
        tuple(app for app in APPS if app not in {"arrears.daily", "arrears.ledger"}),
    ),
    Rule(
        "web imports none of the apps that add their own panels and pages",
        ("arrears.web",),
        PANEL_APPS,
    ),
    Rule(
        "no app imports the demo",
        tuple(app for app in APPS if app != "arrears.demo"),
        ("arrears.demo",),
    ),
    Rule(
        "an app's services, selectors and models never import web; only its views (and "
        "apps.py, to register panels) do",
        tuple(app for app in APPS if app != "arrears.web"),
        ("arrears.web",),
        spared=(r"arrears\.\w+\.(views|\w+_views|apps)",),
    ),
    Rule(
        "the audit chain verifies an exported bundle alone: standard library only",
        ("arrears.audit.chain",),
        ("arrears", "django"),
    ),
    Rule(
        "the lawyer's letter PDF is built without Django",
        ("arrears.legal.pdf",),
        ("django", *APPS),
    ),
)

#: Imports that break a rule today, each with the reason it is not fixed here. Keyed by
#: (importing module, imported module); a key that no longer matches anything fails the test,
#: so an exception disappears with its fix.
EXCEPTIONS: dict[tuple[str, str], str] = {}


# --- the checks ---------------------------------------------------------------------------------


def layer_problems(imports: list[Import]) -> list[str]:
    problems = []
    for found in imports:
        layer = layer_of(found.module)
        top = found.target.split(".")[0]
        if top == "arrears":
            target = layer_of(found.target)
            if target is layer or layer.arrears is None:
                continue
            if not any(within(found.target, p) for p in layer.arrears):
                problems.append(f"{found} ({layer.name} may not import {target.name})")
        elif top not in STANDARD and layer.third_party is not None and top not in layer.third_party:
            problems.append(f"{found} ({layer.name} may not import {top})")
    return problems


def rule_problems(imports: list[Import]) -> tuple[list[str], set[tuple[str, str]]]:
    problems = []
    excused: set[tuple[str, str]] = set()
    for found in imports:
        for rule in RULES:
            if not rule.applies_to(found.module):
                continue
            if any(within(found.target, f) for f in rule.forbidden):
                key = (found.module, found.target)
                if key in EXCEPTIONS:
                    excused.add(key)
                else:
                    problems.append(f"{found}: {rule.text}")
    return problems, excused


def test_the_layer_table_is_read_from_the_architecture_document() -> None:
    names = [layer.name for layer in LAYERS]
    assert names[:6] == ["kernel", "adapters", "policy", "channels", "strategy", "engine"]
    kernel = layer_of("arrears.kernel.state")
    assert kernel.arrears == () and kernel.third_party == frozenset()
    assert layer_of("arrears.engine.snapshot.read").third_party is not None
    assert "arrears.ledger" in APPS and "arrears.web" in APPS


def test_every_module_is_in_a_layer() -> None:
    missing = []
    for module in sorted(known_modules()):
        try:
            layer_of(module)
        except LookupError as error:
            missing.append(str(error))
    assert not missing, "\n".join(missing)


def test_every_import_respects_the_layer_table() -> None:
    problems = layer_problems(all_imports())
    assert not problems, "\n".join(problems)


def test_every_import_respects_the_rules_between_apps() -> None:
    problems, excused = rule_problems(all_imports())
    assert not problems, "\n".join(problems)
    stale = set(EXCEPTIONS) - excused
    assert not stale, f"exceptions that no longer happen (remove them): {sorted(stale)}"


# --- the check sees what it must see ----------------------------------------------------------

LAZY_DJANGO = """
from __future__ import annotations
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from django.db.models import QuerySet
def export(directory):
    from django.db import connection
    from arrears.ledger import models
    return importlib.import_module("arrears.collections.workflow")
"""


def test_an_engine_that_imports_django_or_an_app_anywhere_is_caught() -> None:
    found = list(
        imports_of(LAZY_DJANGO, "arrears.engine.sneaky", known=frozenset({"arrears.ledger.models"}))
    )
    problems = layer_problems(found)
    assert [p.split(": imports ")[1] for p in problems] == [
        "django.db.models (engine may not import django)",
        "django.db (engine may not import django)",
        "arrears.ledger.models (engine may not import apps)",
        "arrears.collections.workflow (engine may not import apps)",
    ]


def test_relative_imports_are_resolved() -> None:
    source = "from . import replay\nfrom ..kernel import state\nfrom .snapshot.read import x\n"
    known = frozenset({"arrears.engine.replay", "arrears.kernel.state"})
    targets = [i.target for i in imports_of(source, "arrears.engine.chunk", known=known)]
    assert targets == [
        "arrears.engine.replay",
        "arrears.kernel.state",
        "arrears.engine.snapshot.read",
    ]
    package = [i.target for i in imports_of("from . import x", "arrears.engine", is_package=True)]
    assert package == ["arrears.engine"]


@pytest.mark.parametrize(
    ("module", "target", "broken"),
    [
        ("arrears.ledger.services", "arrears.collections.workflow", True),
        ("arrears.daily.services", "arrears.collections.dayflow", True),
        ("arrears.daily.services", "arrears.ledger.models", False),
        ("arrears.web.views", "arrears.legal.models", True),
        ("arrears.agencies.placement", "arrears.web.selectors", True),
        ("arrears.agencies.views", "arrears.web.selectors", False),
        ("arrears.legal.apps", "arrears.web.panels", False),
        ("arrears.audit.chain", "arrears.kernel.money", True),
    ],
)
def test_the_rules_between_apps_catch_what_they_say(module: str, target: str, broken: bool) -> None:
    problems, _ = rule_problems([Import(module, target, 1)])
    assert bool(problems) is broken
