"""Where the test suite's CPU goes: a pytest plugin that records each test's CPU.

Usage (any pytest run; CI's jobs too, as ``PYTEST_ADDOPTS`` reaches them)::

    PYTHONPATH=bench PYTEST_ADDOPTS="-p pytest_cpu" .venv/bin/pytest -q tests/web
    .venv/bin/python bench/pytest_cpu.py [N]      # the N costliest files of every run recorded
    .venv/bin/python bench/pytest_cpu.py --weights  # write tests/ci_weights.json from them

CI splits each pass into shards of about equal CPU by those weights (``tests/shards.py``):
record a whole CI run (``PYTEST_ADDOPTS`` reaches its jobs) and write them again when the
shards' end times drift apart (``.ci/run`` prints each job's).

Each test's own CPU and its waited-for children's (``getrusage``), and its wall time, set-up and
tear-down included (a module's shared book counts to its first test), go to
``$ARREARS_CPU_DIR/cpu-<pid>.json`` (default ``/tmp/arrears-cpu``). What no test process waits
for is not in these figures: Spark's JVM and its Python workers, a server a test kills, the
PostgreSQL server (about a tenth of the client's CPU, measured on web and service tests).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

OUT = Path(os.environ.get("ARREARS_CPU_DIR", "/tmp/arrears-cpu"))
_rows: list[tuple[str, float, float, float, str]] = []
WEIGHTS = Path(__file__).resolve().parents[1] / "tests" / "ci_weights.json"


def _cpu() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    own, children = _cpu()
    began = time.perf_counter()
    yield
    own_after, children_after = _cpu()
    wall = time.perf_counter() - began
    _rows.append((item.nodeid, own_after - own, children_after - children, wall, _kind(item)))


def _kind(item: pytest.Item) -> str:
    """The pass a test's CPU counts to: ``pure``, or the database a db test ran on."""
    if item.get_closest_marker("pure") is not None:
        return "pure"
    from django.db import connection

    return connection.vendor


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not _rows:
        return
    OUT.mkdir(parents=True, exist_ok=True)
    keys = ("DATABASE_URL", "ARREARS_TEST_SHARD", "ARREARS_TEST_NOW")
    record = {"env": {key: os.environ.get(key) for key in keys}, "rows": _rows}
    (OUT / f"cpu-{os.getpid()}.json").write_text(json.dumps(record))


def report(top: int) -> None:
    """Per run, then over all runs: the costliest files (CPU own + children, wall, tests)."""
    total: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for path in sorted(OUT.glob("cpu-*.json")):
        run: dict[str, Any] = json.loads(path.read_text())
        cpu = sum(row[1] + row[2] for row in run["rows"])
        print(f"{path.name} {run['env']}: {len(run['rows'])} tests, {cpu:.1f} CPU-s")
        for nodeid, own, children, wall, *_ in run["rows"]:
            figures = total[nodeid.split("::", 1)[0]]
            figures[0] += own + children
            figures[1] += wall
            figures[2] += 1
    for name, (cpu, wall, tests) in sorted(total.items(), key=lambda kv: -kv[1][0])[:top]:
        print(f"{cpu:8.1f} CPU-s {wall:8.1f} s {int(tests):5d} tests  {name}")


def write_weights(path: Path = WEIGHTS) -> None:
    """Each test file's CPU in each pass, summed over every run recorded, as CI's shard weights."""
    tables: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for record in sorted(OUT.glob("cpu-*.json")):
        for nodeid, own, children, _wall, *kind in json.loads(record.read_text())["rows"]:
            if not kind:
                raise SystemExit(f"{record}: recorded before rows named their pass; record again")
            tables[kind[0]][nodeid.split("::", 1)[0]] += own + children
    missing = {"sqlite", "postgresql", "pure"} - set(tables)
    if missing:
        raise SystemExit(f"no run recorded for {sorted(missing)}: record a whole CI run")
    # "head" (what the first SQLite job does before its tests: lint and types) is kept as set
    head = json.loads(path.read_text(encoding="utf-8")).get("head", {}) if path.exists() else {}
    weights: dict[str, Any] = {"head": head} if head else {}
    for kind, files in sorted(tables.items()):
        weights[kind] = {name: round(cpu, 1) for name, cpu in sorted(files.items())}
    path.write_text(json.dumps(weights, indent=1) + "\n", encoding="utf-8")
    sums = ", ".join(f"{kind} {sum(tables[kind].values()):.0f} CPU-s" for kind in sorted(tables))
    print(f"wrote {path}: {sums}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--weights"]:
        write_weights()
    else:
        report(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
