"""CI runs each test where it matters and no test nowhere.

``tests/conftest.py`` marks every collected test ``db`` (it touches the Django database) or
``pure``; ``.ci/run`` selects with ``-m`` expressions it declares as ``SELECT_*`` variables.
These tests hold the selections to the rule in ``.ci/run``: every test runs on SQLite, every
database test again on PostgreSQL (but a browser test), so every pure test runs exactly once. They
check the whole collection of the run they are in (the markers are kept before ``-m`` deselects
anything), so in CI, which collects the whole suite, no test can fall between the selections.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import cast

import pytest
from _pytest.mark.expression import Expression  # pytest's own ``-m`` grammar and evaluation

from tests.conftest import COLLECTED, drives_a_browser, needs_database
from tests.shards import file_weights, load_heads, load_weights, shard_files, split

CI_RUN = Path(__file__).resolve().parents[1] / ".ci" / "run"


def selections() -> dict[str, str]:
    """``.ci/run``'s ``SELECT_NAME="expression"`` lines, by name."""
    found = re.findall(r'^SELECT_(\w+)="([^"]+)"', CI_RUN.read_text(), flags=re.MULTILINE)
    return dict(found)


def selected(expression: str, marks: frozenset[str]) -> bool:
    return Expression.compile(expression).evaluate(lambda name, **_: name in marks)


@pytest.fixture
def collected(request: pytest.FixtureRequest) -> dict[str, frozenset[str]]:
    return request.config.stash[COLLECTED]


def test_every_collected_test_is_either_db_or_pure(collected: dict[str, frozenset[str]]) -> None:
    both = [node for node, marks in collected.items() if {"db", "pure"} <= marks]
    neither = [node for node, marks in collected.items() if not {"db", "pure"} & marks]
    assert (both, neither) == ([], [])


def test_ci_declares_the_two_passes() -> None:
    assert set(selections()) == {"SQLITE", "DB_PG"}


def test_every_test_runs_on_sqlite_and_every_database_test_on_postgresql_too(
    collected: dict[str, frozenset[str]],
) -> None:
    names = selections()
    wrong: list[str] = []
    for node, marks in collected.items():
        if not selected(names["SQLITE"], marks):
            wrong.append(f"{node}: a test the SQLite pass does not select")
        on_postgres = selected(names["DB_PG"], marks)
        if "db" in marks and on_postgres == ("browser" in marks):
            wrong.append(f"{node}: on PostgreSQL unless it drives a browser, got {on_postgres}")
        if "pure" in marks and on_postgres:
            wrong.append(f"{node}: a pure test selected by the PostgreSQL pass (it runs twice)")
    assert wrong == []


class FakeItem:
    """What :func:`needs_database` reads of a test item: its marks and its fixture closure."""

    def __init__(self, fixturenames: list[str], marks: tuple[str, ...] = ()) -> None:
        self.fixturenames = fixturenames
        self.marks = marks

    def get_closest_marker(self, name: str) -> object:
        return name if name in self.marks else None


AUTOUSE = ["request", "_frozen_clock", "django_db_blocker", "_django_db_marker", "monkeypatch"]


@pytest.mark.parametrize(
    ("fixturenames", "marks", "expected"),
    [
        (AUTOUSE, (), False),
        (AUTOUSE, ("django_db",), True),
        ([*AUTOUSE, "db", "_django_db_helper", "django_db_setup"], (), True),
        ([*AUTOUSE, "book", "db", "_django_db_helper"], (), True),
        ([*AUTOUSE, "transactional_db"], (), True),
        ([*AUTOUSE, "live_server", "transactional_db"], (), True),
        ([*AUTOUSE, "settings", "client", "tmp_path"], (), False),
    ],
)
def test_needs_database_reads_the_django_db_mark_and_the_fixture_closure(
    fixturenames: list[str], marks: tuple[str, ...], expected: bool
) -> None:
    item = cast(pytest.Item, FakeItem(fixturenames, marks))
    assert needs_database(item) is expected


@pytest.mark.parametrize(
    ("fixturenames", "expected"),
    [
        ([*AUTOUSE, "live_server", "transactional_db"], True),
        ([*AUTOUSE, "transactional_db", "client"], False),
        (AUTOUSE, False),
    ],
)
def test_a_browser_test_is_one_with_a_live_server(fixturenames: list[str], expected: bool) -> None:
    assert drives_a_browser(cast(pytest.Item, FakeItem(fixturenames))) is expected


def shard_counts() -> dict[str, int]:
    """``.ci/run``'s ``SHARDS_NAME=n`` lines: how many jobs run each pass."""
    found = re.findall(r"^SHARDS_(\w+)=(\d+)$", CI_RUN.read_text(), flags=re.MULTILINE)
    return {name: int(count) for name, count in found}


@pytest.mark.parametrize(("selection", "kind"), [("SQLITE", "sqlite"), ("DB_PG", "postgresql")])
def test_each_pass_splits_by_file_into_shards_that_cover_it_once(
    collected: dict[str, frozenset[str]], selection: str, kind: str
) -> None:
    """``.ci/run`` runs each pass as ``ARREARS_TEST_SHARD=k/n`` jobs: every test file of the
    pass lands in exactly one shard (its module-scoped books are built once), and no shard is
    empty. The recorded weights make the shards about equal."""
    counts = shard_counts()
    assert set(counts) == {"SQLITE", "POSTGRESQL"}, counts
    expression = selections()[selection]
    tests = [
        (node, "pure" if "pure" in marks else kind)
        for node, marks in collected.items()
        if selected(expression, marks)
    ]
    if len(tests) < 100:
        pytest.skip("a partial collection: the split is checked when the whole suite is collected")
    shards = counts[kind.upper()]
    chosen = shard_files(tests, shards, load_weights(), load_heads())
    assert {node.split("::", 1)[0] for node, _ in tests} == set(chosen)
    assert set(chosen.values()) == set(range(shards))


def test_the_split_deals_heaviest_first_to_the_lightest_shard() -> None:
    weights = {"a.py": 5.0, "b.py": 4.0, "c.py": 3.0, "d.py": 3.0, "e.py": 1.0}
    chosen = split(weights, 2)
    loads = [sum(w for name, w in weights.items() if chosen[name] == k) for k in range(2)]
    assert chosen == {"a.py": 0, "b.py": 1, "c.py": 1, "d.py": 0, "e.py": 1}
    assert loads == [8.0, 8.0]
    # the same weights in another order give the same split; one shard takes everything
    assert split(dict(reversed(list(weights.items()))), 2) == chosen
    assert set(split(weights, 1).values()) == {0}
    # a head start of 8 for shard 0 (lint and types before its tests) leaves it 8 less
    ahead = split(weights, 2, head=8.0)
    assert ahead == {"a.py": 1, "b.py": 1, "c.py": 0, "d.py": 1, "e.py": 0}
    with pytest.raises(ValueError, match="at least 1"):
        split(weights, 0)


def test_files_kept_together_land_in_one_shard_and_weigh_as_one_unit() -> None:
    """The tests on the process's Spark session (one JVM a process) are dealt together."""
    recorded = {"sqlite": {"a.py": 6.0, "b.py": 5.0, "c.py": 4.0}, "pure": {"s.py": 3.0}}
    tests = [
        ("a.py::t", "sqlite"),
        ("b.py::t", "sqlite"),
        ("c.py::t", "sqlite"),
        ("s.py::t", "pure"),
    ]
    apart = shard_files(tests, 2, recorded)
    assert apart["c.py"] != apart["s.py"]  # dealt alone, the two light files part
    together = shard_files(tests, 2, recorded, together=[{"c.py", "s.py", "gone.py"}])
    assert together["c.py"] == together["s.py"]
    assert set(together) == {"a.py", "b.py", "c.py", "s.py"}  # a file not collected is not dealt
    # the unit weighs 7: heaviest first it goes to shard 0, then a (6) and b (5) to shard 1
    assert together == {"c.py": 0, "s.py": 0, "a.py": 1, "b.py": 1}
    # a head start counts for each kind present that has one
    ahead = shard_files(tests, 2, recorded, heads={"sqlite": 7.0}, together=[{"c.py", "s.py"}])
    assert ahead["c.py"] == ahead["s.py"] == 1 and ahead["a.py"] == 0


def test_no_shard_is_heavier_than_the_ideal_by_more_than_one_file() -> None:
    weights = {f"t{i}.py": float((i * 37) % 23 + 1) for i in range(60)}
    for shards in (2, 3, 5):
        chosen = split(weights, shards)
        loads = [sum(w for name, w in weights.items() if chosen[name] == k) for k in range(shards)]
        assert max(loads) <= sum(weights.values()) / shards + max(weights.values())


def test_a_file_weighs_its_kinds_and_an_unrecorded_one_the_median() -> None:
    recorded = {"sqlite": {"a.py": 10.0, "b.py": 2.0, "c.py": 4.0}, "pure": {"a.py": 1.0}}
    kinds = {"a.py": {"sqlite", "pure"}, "new.py": {"sqlite"}, "odd.py": {"postgresql"}}
    assert file_weights(kinds, recorded) == {"a.py": 11.0, "new.py": 4.0, "odd.py": 1.0}


def test_the_recorded_weights_name_files_that_exist() -> None:
    """Stale names are harmless (a file no longer collected is not dealt), but a record that
    names none of today's files has not been refreshed: ``bench/pytest_cpu.py --weights``."""
    root = CI_RUN.parents[1]
    weights = load_weights()
    assert set(weights) == {"sqlite", "postgresql", "pure"}
    for table in weights.values():
        present = [name for name in table if (root / name).exists()]
        assert len(present) >= 0.8 * len(table), sorted(set(table) - set(present))[:5]
