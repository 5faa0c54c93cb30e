"""On PostgreSQL the stored-state read (``reports.states``) is shared out to two connections on
one snapshot: it equals the read on one connection (inside a caller's transaction, where the
snapshot holds the caller's writes), and the read on one when the server refuses a second.

A test that commits (the second connection sees only committed rows), so it is a module of its
own: ``test_stored.py`` shares one book inside a transaction (tests/sharing.py). One test for
the three reads: a committed book costs its build and, after the test, emptying every table."""

from __future__ import annotations

import polars as pl
import pytest
from django.db import connection, transaction

from arrears.reports import states
from arrears.reports.states import states_at
from tests.reports.test_ledger_states import recorded_book
from tests.reports.test_stored import MONTH_ENDS, _run_month_ends


@pytest.mark.django_db(transaction=True)
def test_the_read_shared_by_two_connections_equals_the_read_on_one_and_without_a_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("two connections on one snapshot: PostgreSQL")
    recorded_book(12)
    _run_month_ends()
    shared = []
    read_shared = states._read_shared

    def spy(*args: object) -> pl.DataFrame:
        shared.append(args)
        return read_shared(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(states, "_read_shared", spy)
    on_two = states_at(MONTH_ENDS, known_by=MONTH_ENDS[-1])
    assert len(shared) == 1
    with transaction.atomic():  # inside a caller's transaction: one connection
        on_one = states_at(MONTH_ENDS, known_by=MONTH_ENDS[-1])
    assert len(shared) == 1
    assert on_two.stored == on_one.stored == 36
    assert on_two.frame.equals(on_one.frame)
    # without a second connection (the server refuses one), one reads every day
    monkeypatch.setattr(states, "_second_connection", lambda: None)
    alone = states_at(MONTH_ENDS, known_by=MONTH_ENDS[-1])
    assert alone.stored == on_two.stored == 36
    assert alone.frame.equals(on_two.frame)
