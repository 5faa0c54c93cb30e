"""CI's shards: the test files of one pass split into groups of about equal CPU.

CI runs each pass (the db tests on SQLite, on PostgreSQL, the pure tests) as several jobs side by
side (``ARREARS_TEST_SHARD=k/n``). A split by a hash of the file name left one half of a pass
twice the other (124 against 251 CPU-s on SQLite, measured), and the longest job sets CI's time.
So each file weighs what it cost when CI last recorded it (:data:`WEIGHTS`, written by
``bench/pytest_cpu.py --weights``), and the files are dealt heaviest first, each to the lightest
shard so far (the LPT rule: no shard ends up heavier than the ideal by more than one file's
weight). A file the record does not know weighs the median of its pass, so a new file lands
somewhere sensible and the split degrades gently until the weights are recorded again.

Why files and not tests: a module's tests share module-scoped books (``tests/sharing.py``),
built once per process, so a module stays in one shard. For the same reason files can be kept
*together*: the tests that use the process's Spark session (the session-scoped ``spark``
fixture: a JVM of ~18 CPU-s that no job's figure shows, since PySpark never reaps it) are
dealt to one shard as one unit, so a pass starts one JVM, not one per shard that has some.

The split is a pure function of the selected files and the weights: every shard process of a
pass sees the same collection and the same ``-m`` selection, so they all compute the same split,
and together they run every selected test exactly once.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Mapping
from pathlib import Path

#: The recorded weights: ``{"sqlite" | "postgresql" | "pure": {test file: CPU seconds}}``.
WEIGHTS = Path(__file__).with_name("ci_weights.json")
#: The passes CI runs: the pure tests, and the db tests on each database.
KINDS = ("sqlite", "postgresql", "pure")
#: What a file weighs when no pass has been recorded at all.
DEFAULT_WEIGHT = 1.0


def load_weights(path: Path = WEIGHTS) -> dict[str, dict[str, float]]:
    """The recorded weights, or none (every file then weighs the same) if the file is absent."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {kind: dict(data[kind]) for kind in KINDS if isinstance(data.get(kind), dict)}


def load_heads(path: Path = WEIGHTS) -> dict[str, float]:
    """The CPU each pass's first job spends before its tests (``"head"`` in the record)."""
    if not path.exists():
        return {}
    heads = json.loads(path.read_text(encoding="utf-8")).get("head", {})
    return {kind: float(heads[kind]) for kind in KINDS if kind in heads}


def file_weights(
    kinds: Mapping[str, set[str]], weights: Mapping[str, Mapping[str, float]]
) -> dict[str, float]:
    """Each selected file's weight: the sum, over the kinds of its selected tests (``pure``, or
    the database the db tests run on), of its recorded weight in that kind, or the kind's
    median where it is not recorded."""
    medians = {
        kind: statistics.median(table.values()) if table else DEFAULT_WEIGHT
        for kind, table in weights.items()
    }
    return {
        name: sum(
            weights.get(kind, {}).get(name, medians.get(kind, DEFAULT_WEIGHT))
            for kind in sorted(present)
        )
        for name, present in kinds.items()
    }


def split(weights: Mapping[str, float], shards: int, head: float = 0.0) -> dict[str, int]:
    """Each file's shard (0…shards-1): heaviest first, each to the lightest shard so far; ties
    by name and by the lowest shard number, so the split is the same in every process.
    ``head`` is work shard 0's job does before its tests (CI's first SQLite job lints and
    type-checks first), so that shard gets that much less of the tests."""
    if shards < 1:
        raise ValueError(f"shards must be at least 1, got {shards}")
    load = [head] + [0.0] * (shards - 1)
    chosen: dict[str, int] = {}
    for name in sorted(weights, key=lambda name: (-weights[name], name)):
        shard = min(range(shards), key=lambda k: (load[k], k))
        chosen[name] = shard
        load[shard] += weights[name]
    return chosen


def shard_files(
    tests: Iterable[tuple[str, str]],
    shards: int,
    weights: Mapping[str, Mapping[str, float]],
    heads: Mapping[str, float] | None = None,
    together: Iterable[Iterable[str]] = (),
) -> dict[str, int]:
    """The shard of every file of ``tests`` — (node id, kind) pairs of the selected tests.
    ``heads`` gives shard 0 the head start of each kind present that has one (the SQLite
    pass's first job lints and type-checks first). Each group of files in ``together`` is
    dealt as one unit, its weight the sum of its files', and they all land in its shard."""
    kinds: dict[str, set[str]] = {}
    for nodeid, kind in tests:
        kinds.setdefault(nodeid.split("::", 1)[0], set()).add(kind)
    present = {kind for found in kinds.values() for kind in found}
    head = sum((heads or {}).get(kind, 0.0) for kind in present)
    per_file = file_weights(kinds, weights)
    unit_of = {name: name for name in per_file}
    for group in together:
        members = sorted(set(group) & set(per_file))
        for name in members:
            unit_of[name] = members[0]
    units: dict[str, float] = {}
    for name, weight in per_file.items():
        units[unit_of[name]] = units.get(unit_of[name], 0.0) + weight
    dealt = split(units, shards, head)
    return {name: dealt[unit_of[name]] for name in per_file}
