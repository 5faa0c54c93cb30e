"""Where the test suite's CPU goes: a pytest plugin that records each test's CPU.

Usage (any pytest run; CI's jobs too, as ``PYTEST_ADDOPTS`` reaches them)::

    PYTHONPATH=bench PYTEST_ADDOPTS="-p pytest_cpu" .venv/bin/pytest -q tests/web
    .venv/bin/python bench/pytest_cpu.py [N]      # the N costliest files of every run recorded

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
_rows: list[tuple[str, float, float, float]] = []


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
    _rows.append((item.nodeid, own_after - own, children_after - children, wall))


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
        cpu = sum(own + children for _, own, children, _ in run["rows"])
        print(f"{path.name} {run['env']}: {len(run['rows'])} tests, {cpu:.1f} CPU-s")
        for nodeid, own, children, wall in run["rows"]:
            figures = total[nodeid.split("::", 1)[0]]
            figures[0] += own + children
            figures[1] += wall
            figures[2] += 1
    for name, (cpu, wall, tests) in sorted(total.items(), key=lambda kv: -kv[1][0])[:top]:
        print(f"{cpu:8.1f} CPU-s {wall:8.1f} s {int(tests):5d} tests  {name}")


if __name__ == "__main__":
    report(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
