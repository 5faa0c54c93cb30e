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
``$ARREARS_CPU_DIR/cpu-<pid>.json`` (default ``/tmp/arrears-cpu``). So does the CPU no test
process waits for, read from ``/proc`` (Linux) at each test's start and end, since it takes a
core from the other jobs all the same: the live descendants' (Spark's JVM, which PySpark never
reaps, and its Python workers; Chromium under Playwright's driver, reaped only when the
process ends) and the PostgreSQL backend's serving the test's connection (about a fifth of a
PostgreSQL job's CPU, measured in session 16). Where ``/proc`` is missing these count nothing.
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


TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _proc_cpu(pid: int, reaped: bool) -> float | None:
    """A process's CPU seconds from ``/proc/<pid>/stat`` (with its reaped children's when
    ``reaped``), or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (the 14th and 15th fields)
    if reaped:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / TICK


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found.extend(int(child) for child in children.read_text().split())
        except OSError:
            continue
    return found + [grandchild for child in found for grandchild in _descendants(child)]


def _unwaited() -> dict[int, float]:
    """CPU of what this process does not wait for: its live descendants' (each with what it
    reaped of its own) and its PostgreSQL backend's (negative keys, apart from process ids)."""
    seen: dict[int, float] = {}
    for pid in _descendants(os.getpid()):
        cpu = _proc_cpu(pid, reaped=True)
        if cpu is not None:
            seen[pid] = cpu
    backend = _backend_pid()
    if backend is not None:
        cpu = _proc_cpu(backend, reaped=False)
        if cpu is not None:
            seen[-backend] = cpu
    return seen


def _backend_pid() -> int | None:
    django_db = sys.modules.get("django.db")
    if django_db is None:
        return None
    connection = django_db.connection
    if connection.vendor != "postgresql" or connection.connection is None:
        return None
    return int(connection.connection.info.backend_pid)


def _unwaited_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """What the unwaited processes spent between two readings. A descendant alive at the first
    and gone at the second has been reaped — by this process (its whole CPU is then in
    ``RUSAGE_CHILDREN``) or by another descendant (then in that one's reaped figure) — so its
    first reading is taken off, and what it spent is counted once. A backend gone by the second
    reading (its connection closed) counts nothing more."""
    spent = sum(after.values()) - sum(cpu for key, cpu in before.items() if key > 0 or key in after)
    return max(0.0, spent)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    own, children = _cpu()
    unwaited = _unwaited()
    began = time.perf_counter()
    yield
    own_after, children_after = _cpu()
    wall = time.perf_counter() - began
    others = children_after - children + _unwaited_delta(unwaited, _unwaited())
    _rows.append((item.nodeid, own_after - own, others, wall, _kind(item)))


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
