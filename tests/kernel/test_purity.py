"""The kernel imports the standard library and itself only (DESIGN.md: functional core)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import arrears.kernel

KERNEL = Path(arrears.kernel.__file__).parent


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module)
    return roots


def test_every_kernel_module_imports_only_the_standard_library_and_the_kernel():
    offenders = {}
    for path in sorted(KERNEL.glob("*.py")):
        bad = {
            name
            for name in imported_roots(path)
            if not name.startswith("arrears.kernel")
            and name.split(".")[0] not in sys.stdlib_module_names
            and name != "__future__"
        }
        if bad:
            offenders[path.name] = sorted(bad)
    assert offenders == {}


def test_the_purity_check_would_catch_a_django_import(tmp_path):
    sample = tmp_path / "bad.py"
    sample.write_text("from django.db import models\nimport polars as pl\n", encoding="utf-8")
    assert imported_roots(sample) == {"django.db", "polars"}
