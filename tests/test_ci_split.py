"""CI runs each test where it matters and no test nowhere.

``tests/conftest.py`` marks every collected test ``db`` (it touches the Django database) or
``pure``; ``.ci/run`` selects with ``-m`` expressions it declares as ``SELECT_*`` variables.
These tests hold the selections to the rule in ``.ci/run``: every database test runs on SQLite
and on PostgreSQL (a browser test on SQLite only), every pure test runs exactly once. They
check the whole collection of the run they are in (the markers are kept before ``-m`` deselects
anything), so in CI, which collects the whole suite, no test can fall between the selections.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import cast

import pytest
from _pytest.mark.expression import Expression  # pytest's own ``-m`` grammar and evaluation

from tests.conftest import COLLECTED, drives_a_browser, needs_database, shard_of

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


def test_ci_declares_the_database_and_the_pure_selections() -> None:
    names = selections()
    assert {"DB", "DB_PG"} <= set(names)
    assert [name for name in names if name.startswith("PURE")], names


def test_every_database_test_runs_on_both_databases_and_every_pure_test_once(
    collected: dict[str, frozenset[str]],
) -> None:
    names = selections()
    pure_selections = [names[name] for name in names if name.startswith("PURE")]
    wrong: list[str] = []
    for node, marks in collected.items():
        if "db" in marks and not selected(names["DB"], marks):
            wrong.append(f"{node}: a database test the SQLite pass does not select")
        on_postgres = selected(names["DB_PG"], marks)
        if "db" in marks and on_postgres == ("browser" in marks):
            wrong.append(f"{node}: on PostgreSQL unless it drives a browser, got {on_postgres}")
        if "pure" in marks and on_postgres:
            wrong.append(f"{node}: a pure test selected by the PostgreSQL pass")
        runs = sum(selected(expression, marks) for expression in pure_selections)
        if "pure" in marks and (runs != 1 or selected(names["DB"], marks)):
            wrong.append(f"{node}: a pure test selected {runs} times by the pure selections")
        if "db" in marks and runs:
            wrong.append(f"{node}: a database test selected by a pure selection too")
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


def test_the_postgresql_shards_split_by_file_and_cover_the_whole_pass(
    collected: dict[str, frozenset[str]],
) -> None:
    """``.ci/run`` runs the PostgreSQL pass as ``ARREARS_TEST_SHARD=1/2`` and ``2/2``: every
    test file lands in exactly one shard (its module-scoped books are built once), and with
    more than a handful of files neither shard is empty."""
    assert 'ARREARS_TEST_SHARD="$1/2"' in CI_RUN.read_text()
    files: dict[str, set[int]] = {}
    for nodeid in collected:
        files.setdefault(nodeid.split("::", 1)[0], set()).add(shard_of(nodeid, 2))
    assert all(len(shards) == 1 for shards in files.values())
    if len(files) > 20:
        assert {shard for shards in files.values() for shard in shards} == {0, 1}
