"""Every test runs on a frozen clock, never the wall clock.

The instant is ``ARREARS_TEST_NOW`` (an ISO date-time with an offset) or, by default, a
weekday afternoon in Shanghai. CI runs the suite again at 03:00 Shanghai time, so a test that
only passes in office hours fails there and not at random. The clock ticks from the instant
(``tick=True``): leases, timeouts and Hypothesis deadlines still see time pass, but every run
starts from the same instant. Child processes (``tests.processes``) are not frozen; tests that
start one pass ``--as-of`` / ``--now`` explicitly.
"""

from __future__ import annotations

import gc
import os
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import time_machine
from hypothesis import settings

if TYPE_CHECKING:
    from tests.processes import Book, Build

#: Hypothesis's default deadline (200 ms an example) measures the machine, not the code: CI runs
#: three jobs on two cores, where a 50 ms example can take 300 ms. Five seconds still catches
#: an example that hangs; a test may set its own.
settings.register_profile("arrears", deadline=timedelta(seconds=5))
settings.load_profile("arrears")

#: The default instant: Wednesday 2 December 2026, 15:00 in Shanghai (a working day).
DAYTIME = "2026-12-02T15:00:00+08:00"
#: The instant of CI's night pass: the same day at 03:00 in Shanghai (Chinese quiet hours).
NIGHT = "2026-12-02T03:00:00+08:00"


def frozen_instant() -> datetime:
    """The instant this run's clock starts at (``ARREARS_TEST_NOW`` or :data:`DAYTIME`)."""
    text = os.environ.get("ARREARS_TEST_NOW") or DAYTIME
    instant = datetime.fromisoformat(text)
    if instant.tzinfo is None:
        raise pytest.UsageError(f"ARREARS_TEST_NOW={text!r}: give an offset, e.g. {DAYTIME}")
    return instant


@pytest.fixture(autouse=True)
def _frozen_clock() -> Iterator[time_machine.Traveller]:
    """Start every test at :func:`frozen_instant`, ticking from there."""
    with time_machine.travel(frozen_instant(), tick=True) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _no_commit_inside_a_shared_book(request: pytest.FixtureRequest) -> None:
    """A test that commits cannot run inside a module's shared book (tests/sharing.py)."""
    from tests import sharing

    sharing.check_not_inside(request)


#: A database ``arrears migrate`` already set up, for the suite's test database to start from
#: instead of migrating anew (seconds of CPU for every run and every CI job): CI migrates once
#: and names the results here. ``…_PG`` is a PostgreSQL database name, made the test
#: database's ``TEMPLATE``; ``…_SQLITE`` a SQLite file, copied for the session. Either way
#: pytest-django still runs ``migrate`` on the copy, which applies whatever the template
#: lacks, so a stale template costs time, never correctness.
TEMPLATE_PG = "ARREARS_TEST_TEMPLATE_PG"
TEMPLATE_SQLITE = "ARREARS_TEST_TEMPLATE_SQLITE"


def _sqlite_template() -> Path | None:
    """The migrated SQLite file to copy, when one is named and the tests run on SQLite."""
    from django.conf import settings

    text = os.environ.get(TEMPLATE_SQLITE, "").strip()
    if not text or settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        return None
    path = Path(text)
    if not path.is_file():
        raise pytest.UsageError(f"{TEMPLATE_SQLITE}={text!r}: no such file")
    return path


@pytest.fixture(scope="session")
def django_db_keepdb(request: pytest.FixtureRequest) -> bool:
    """pytest-django's ``--reuse-db``, and always with a SQLite template: Django deletes a
    SQLite test file it is not told to keep before migrating, and the copy is the session's
    own, in its temporary directory."""
    return bool(request.config.getvalue("reuse_db")) or _sqlite_template() is not None


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Start the test database from a migrated template when CI names one."""
    from django.conf import settings

    test = settings.DATABASES["default"].setdefault("TEST", {})
    template = _sqlite_template()
    if template is not None:
        copy = tmp_path_factory.mktemp("testdb") / "test.sqlite3"
        shutil.copyfile(template, copy)
        test["NAME"] = str(copy)
        return
    name = os.environ.get(TEMPLATE_PG, "").strip()
    if name and settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        test["TEMPLATE"] = name


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file `arrears migrate` set up in a child process, once a session: the tests
    that run the real command on their own database copy it (``processes.migrated_copy``)
    instead of each migrating anew — migrating is seconds of fsyncs, and what they test comes
    after it (``tests/test_cli.py`` still migrates from scratch). With a template named
    (:data:`TEMPLATE_SQLITE`), the template is that file."""
    from tests.processes import check

    folder = tmp_path_factory.mktemp("migrated")
    db = folder / "arrears.sqlite3"
    text = os.environ.get(TEMPLATE_SQLITE, "").strip()
    if text:
        shutil.copyfile(text, db)
        return db
    env = {**os.environ, "ARREARS_DATA_DIR": str(folder), "DATABASE_URL": f"sqlite:///{db}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    check(env, "migrate", "--no-input", "-v", "0")
    return db


@pytest.fixture(scope="session")
def sqlite_book(
    migrated_sqlite: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[Build], Book]:
    """``sqlite_book(build)``: the book ``build`` makes with real commands on a migrated
    SQLite file, built once a session for every test that asks for the same ``build``.
    Seeding through child processes is seconds of CPU a command (each starts Django anew);
    tests whose set-up is the same commands share it, each on its own copy of the file."""
    from tests.processes import Book, migrated_copy, sqlite_env

    built: dict[Build, Book] = {}

    def book(build: Build) -> Book:
        if build not in built:
            folder = tmp_path_factory.mktemp("book")
            migrated_copy(migrated_sqlite, folder / "arrears.sqlite3")
            output = build(sqlite_env(folder))
            built[build] = Book(folder / "arrears.sqlite3", output)
        return built[build]

    return book


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """One local Spark session for every Spark test of the process (tests/engine/spark_jvm.py:
    its JVM's flags and class archive); starting one costs more than most runs on it."""
    from tests.engine.spark_jvm import local_session

    with local_session() as session:
        yield session


@pytest.fixture
def browser_page() -> Iterator[object]:
    """A page (Chinese locale) in a new context of the process's Chromium (tests/browser.py:
    one browser per process, screenshots only on request)."""
    from tests.browser import chromium_page

    with chromium_page() as page:
        yield page


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop the process's Chromium if a browser test started one."""
    import sys

    browser = sys.modules.get("tests.browser")
    if browser is not None:
        browser.stop()


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> None:
    """Tests create many users; the production hasher's deliberate slowness (hundreds of
    milliseconds a password) is not what they test, so they hash with MD5. Tests of the
    hashing itself override ``PASSWORD_HASHERS`` with the ``settings`` fixture."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def _no_monthly_pack() -> None:
    """Closing a day writes last month's report pack (``reports.schedule``): a PDF of every
    report, which no test of the ledger or the workflow is about. Off for the suite and its
    child processes; ``tests/reports/test_schedule.py`` turns it on."""
    from django.conf import settings

    settings.ARREARS_MONTHLY_PACK = False
    os.environ["ARREARS_MONTHLY_PACK"] = "0"


#: Fixtures that give a test the Django database. pytest-django's other fixtures that need it
#: (``admin_user``, ``admin_client``…) request one of these, and ``item.fixturenames`` is the
#: closure, so a project fixture that requests ``db`` counts too. Not ``django_db_blocker``: an
#: autouse fixture of pytest-django requests it for every test.
DATABASE_FIXTURES = frozenset(
    {
        "db",
        "transactional_db",
        "django_db_reset_sequences",
        "django_db_serialized_rollback",
        "live_server",
        "django_db_setup",
        "_django_db_helper",
    }
)


def needs_database(item: pytest.Item) -> bool:
    """Whether the test touches the Django database (so CI runs it on SQLite and PostgreSQL).

    pytest-django blocks database access in a test with neither a ``django_db`` mark nor a
    database fixture, so these two signs are complete: a test without them that queried the
    database would fail on every backend. Anything else is *pure* and runs once in CI.
    """
    if item.get_closest_marker("django_db") is not None:
        return True
    return not DATABASE_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))


def drives_a_browser(item: pytest.Item) -> bool:
    """Whether the test drives a real browser against a live server (``live_server`` in its
    fixture closure). CI runs these once, on SQLite: they check what a person sees and does,
    and the queries behind each page run on both databases in the web tests without a
    browser."""
    return "live_server" in getattr(item, "fixturenames", ())


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test ``db`` or ``pure`` (exactly one), and browser tests ``browser`` too, so
    CI can select with ``-m``.

    Runs before ``-m`` deselects, and keeps each test's node id and markers in
    :data:`COLLECTED` so ``tests/test_ci_split.py`` can check CI's selections against the whole
    collection, not only the tests its own run selected.
    """
    for item in items:
        item.add_marker(pytest.mark.db if needs_database(item) else pytest.mark.pure)
        if drives_a_browser(item):
            item.add_marker(pytest.mark.browser)
    config.stash[COLLECTED] = {
        item.nodeid: frozenset(mark.name for mark in item.iter_markers()) for item in items
    }


class _KeepShard:
    """``ARREARS_TEST_SHARD=k/n`` keeps the test files of shard k (1-based) of n: CI runs each
    pass as several jobs side by side. The split (``tests/shards.py``) is of the tests left
    after ``-m`` / ``-k``, weighted by what each file cost when CI last recorded it, so this
    hook runs last. Unset, every test runs."""

    def __init__(self, text: str) -> None:
        try:
            self.k, self.n = (int(part) for part in text.split("/"))
        except ValueError:
            raise pytest.UsageError(f"ARREARS_TEST_SHARD={text!r}: give k/n, e.g. 1/2") from None
        if not 1 <= self.k <= self.n:
            raise pytest.UsageError(f"ARREARS_TEST_SHARD={text!r}: k must be 1…n")

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        from django.db import connection

        from tests.shards import load_heads, load_weights, shard_files

        kinds = [
            (item.nodeid, "pure" if item.get_closest_marker("pure") else connection.vendor)
            for item in items
        ]
        # the files of the tests on the process's Spark session: one shard, one JVM
        spark = {
            item.nodeid.split("::", 1)[0]
            for item in items
            if "spark" in getattr(item, "fixturenames", ())
        }
        chosen = shard_files(kinds, self.n, load_weights(), load_heads(), together=[spark])
        keep = {name for name, shard in chosen.items() if shard == self.k - 1}
        dropped = [item for item in items if item.nodeid.split("::", 1)[0] not in keep]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = [item for item in items if item.nodeid.split("::", 1)[0] in keep]


def pytest_configure(config: pytest.Config) -> None:
    text = os.environ.get("ARREARS_TEST_SHARD", "").strip()
    if text:
        config.pluginmanager.register(_KeepShard(text), "arrears-shard")


#: The cyclic garbage collector's first threshold while tests run (Python's default is 700).
GC_THRESHOLD = 10_000


def pytest_collection_finish(session: pytest.Session) -> None:
    """Once every test module is imported, freeze what exists and collect less often.

    Why: a full collection walks every live object, and after collection that is several
    hundred thousand (Django, Polars, Numba, Hypothesis, ~560 test modules), none of them
    garbage. Measured on the web and engine tests: the collector took ~2.1 of 37 CPU-s, about
    half of it in a dozen full collections; frozen and with a higher first threshold, ~1.0.
    Only the test process is tuned; the product keeps Python's defaults.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])


#: Every collected test's node id and marker names, before ``-m`` / ``-k`` deselected any.
COLLECTED = pytest.StashKey[dict[str, frozenset[str]]]()


def pytest_report_header() -> str:
    return f"clock frozen at {frozen_instant().isoformat()} (ARREARS_TEST_NOW)"
