"""A book built once for a module's tests, and rolled back after the last of them.

Building a book (borrowers, loans, a day run, the workflow) costs far more than most of the
tests that read it, and a module of fifty tests built it fifty times, on each database. This is
Django's ``TestCase.setUpTestData`` for pytest: a module-scoped fixture opens a transaction and
builds the book in it; every test of the module then runs in its own savepoint inside that
transaction (pytest-django's ``db`` nests its atomic block in an open one), so each test starts
from the book exactly as built and sees nothing another test did. After the module the
transaction is rolled back, so the next module starts from an empty database as before.

What a test gets is loaded afresh from the database each time (from the keys
:func:`module_book` yields), never the build's Python objects: a test may change those in
memory.

Two rules keep it sound:

* every test of a module that shares a book must be able to see it — a test that counts rows
  from an empty database does not belong in such a module (a shared book stays in the
  transaction from the first test that asks for it to the module's end);
* not for transactional tests (``live_server``, ``transactional_db``): they commit, and Django
  empties every table after each; they ask for the book built for them alone (the conftest's
  ``fresh_…`` fixture), and :func:`refuse_transactional` says so to one that does not.

The book is built at the frozen instant with the clock stopped, so every row it writes is
stamped no later than the moment each test's clock starts from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
import time_machine

T = TypeVar("T")
K = TypeVar("K")

#: A test that commits: Django empties the tables after it, so it cannot run inside a
#: transaction kept open for the module.
TRANSACTIONAL = frozenset({"transactional_db", "live_server", "django_db_reset_sequences"})


def is_transactional(request: pytest.FixtureRequest) -> bool:
    marker = request.node.get_closest_marker("django_db")
    committed = bool(marker and (marker.kwargs.get("transaction") or marker.args[:1] == (True,)))
    return committed or not TRANSACTIONAL.isdisjoint(request.fixturenames)


#: The modules whose shared transaction is open (at most one at a time: pytest ends a module's
#: fixtures before the next module's tests).
OPEN: set[str] = set()


def check_not_inside(request: pytest.FixtureRequest) -> None:
    """Fail a transactional test that would run inside a module's open shared transaction (it
    commits, and Django empties the tables after it): such a test belongs in a module that
    shares no book. Called for every test by ``tests/conftest.py``."""
    if OPEN and is_transactional(request):
        pytest.fail(
            f"{request.node.nodeid}: a transactional test in a module that shares a book "
            f"({', '.join(sorted(OPEN))}); move it to a module of its own"
        )


def _frozen_instant() -> Any:
    from tests.conftest import frozen_instant

    return frozen_instant()


def module_book(blocker: Any, build: Callable[[], T], keys: Callable[[T], K]) -> Iterator[K]:
    """The body of a module-scoped fixture: open the module's transaction, build the book in
    it on the stopped clock, yield its ``keys`` (ids, dates: what ``load`` needs), and roll it
    all back when the module ends."""
    from django.db import transaction

    module = build.__module__
    with blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            with time_machine.travel(_frozen_instant(), tick=False):
                built = keys(build())
        except BaseException:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            raise
    OPEN.add(module)
    try:
        yield built
    finally:
        OPEN.discard(module)
        with blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def refuse_transactional(request: pytest.FixtureRequest, fresh: str) -> None:
    """Fail a transactional test that asked for the shared book, naming the fixture to ask for
    instead (``fresh``: the book built for one test)."""
    if is_transactional(request):
        pytest.fail(f"a transactional test cannot share the module's book: ask for {fresh!r}")
