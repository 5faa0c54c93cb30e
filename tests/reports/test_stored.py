"""The stored-state reader of the ledger reports (``reports.stored``, and ``reports.states``'
read of stored days): the binary COPY parser reads what was encoded, refuses a NULL; the read
equals the rows as the ORM reads them on both databases; several stored days read together,
with loans changed since their run replayed, equal the replay. (On PostgreSQL the read shared
out to two connections on one snapshot: ``test_stored_snapshot.py``, a test that commits.)

The book (twelve loans of ``concession_book`` and :data:`MONTH_ENDS` each run on the night after
it) is built once for the module (tests/sharing.py); each test runs in its own savepoint on it."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import polars as pl
import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from arrears.daily.models import LoanState
from arrears.daily.services import day_run
from arrears.ledger import models, services
from arrears.ledger.frames import consistent_read
from arrears.reports import states, stored
from arrears.reports.states import FIGURES, replay, states_at
from tests import sharing
from tests.reports.conftest import load_loans, loan_keys
from tests.reports.test_ledger_states import SHANGHAI, recorded_book

INT8, INT4 = 20, 23
MONTH_ENDS = (date(2026, 4, 30), date(2026, 5, 31), date(2026, 6, 30))


def _field(data: bytes | None) -> bytes:
    return struct.pack(">i", -1) if data is None else struct.pack(">i", len(data)) + data


def _array(values: list[int | None], oid: int = INT8) -> bytes:
    """``array_send`` of a one-dimensional integer array."""
    if not values:
        return struct.pack(">iii", 0, 0, oid)
    width = 8 if oid == INT8 else 4
    head = struct.pack(">iiiii", 1, int(None in values), oid, len(values), 1)
    return head + b"".join(
        _field(None if v is None else v.to_bytes(width, "big", signed=True)) for v in values
    )


def _copy(rows: list[list[bytes | None]]) -> bytes:
    """A binary COPY of ``rows`` (each a list of encoded fields, None for NULL)."""
    body = b"".join(struct.pack(">h", len(r)) + b"".join(_field(f) for f in r) for r in rows)
    return stored.SIGNATURE + struct.pack(">ii", 0, 0) + body + struct.pack(">h", -1)


def _day(day: date) -> bytes:
    return struct.pack(">i", (day - date(2000, 1, 1)).days)


INT64 = st.integers(-(2**63), 2**63 - 1)
GROUP = st.integers(0, 30).flatmap(
    lambda n: st.tuples(
        st.dates(date(1970, 1, 1), date(2199, 12, 31)),
        st.text(
            st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
            min_size=1,
            max_size=16,
        ),
        st.lists(INT64, min_size=n, max_size=n),
        st.lists(INT64, min_size=n, max_size=n),
        st.lists(st.integers(-(2**31), 2**31 - 1), min_size=n, max_size=n),
    )
)


@given(st.lists(GROUP, max_size=6))
def test_the_parser_reads_back_what_was_encoded(groups: list) -> None:
    figures = ("bucket", "payoff", "dpd")
    buffer = _copy(
        [
            [_day(day), bucket.encode(), _array(ids), _array(payoffs), _array(dpds, INT4)]
            for day, bucket, ids, payoffs, dpds in groups
        ]
    )
    want = pl.DataFrame(
        [
            (day, loan_id, bucket, payoff, dpd)
            for day, bucket, ids, payoffs, dpds in groups
            for loan_id, payoff, dpd in zip(ids, payoffs, dpds, strict=True)
        ],
        schema={
            "as_of": pl.Date(),
            "loan_id": pl.Int64(),
            "bucket": pl.String(),
            "payoff": pl.Int64(),
            "dpd": pl.Int64(),
        },
        orient="row",
    )
    assert stored.parse_grouped(buffer, figures).equals(want)


def test_the_parser_refuses_a_null_rather_than_read_it_as_a_number() -> None:
    day = _day(date(2026, 6, 30))
    null_element = _copy([[day, b"M1", _array([1, 2]), _array([5, None])]])
    with pytest.raises(stored.BinaryCopyError, match="NULL"):
        stored.parse_grouped(null_element, ("bucket", "payoff"))
    null_array = _copy([[day, b"M1", _array([1]), None]])
    with pytest.raises(stored.BinaryCopyError, match="NULL"):
        stored.parse_grouped(null_array, ("bucket", "payoff"))
    cut = _copy([[day, b"M1", _array([1]), _array([5])]])[:-2]
    with pytest.raises(stored.BinaryCopyError, match="trailer"):
        stored.parse_grouped(cut, ("bucket", "payoff"))
    text = _copy([[day, b"M1", _array([1]), struct.pack(">iii", 1, 0, 25)]])
    with pytest.raises(stored.BinaryCopyError, match="integer"):
        stored.parse_grouped(text, ("bucket", "payoff"))


def _run_month_ends() -> None:
    """Each of :data:`MONTH_ENDS` run on the night after it."""
    for day in MONTH_ENDS:
        night = datetime(day.year, day.month, day.day, 23, 30, tzinfo=SHANGHAI)
        with time_machine.travel(night, tick=False):
            day_run(as_of=day)


def _build() -> list[models.Loan]:
    book = recorded_book(12)
    _run_month_ends()
    return book


@pytest.fixture(scope="module")
def _shared_book(django_db_setup: None, django_db_blocker: Any) -> Iterator[list[int]]:
    yield from sharing.module_book(django_db_blocker, _build, loan_keys)


@pytest.fixture
def book(_shared_book: list[int], db: None) -> list[models.Loan]:
    """The module's twelve loans, their month ends run, loaded afresh in the order made."""
    return load_loans(_shared_book)


def test_the_stored_read_equals_the_rows_as_the_orm_reads_them(book: list[models.Loan]) -> None:
    # extremes a figure can hold: a negative credit, a payoff near the column's limit
    LoanState.objects.filter(loan=book[0]).update(credit=-7, payoff=2**62, dpd=0)
    LoanState.objects.filter(loan=book[1], as_of=MONTH_ENDS[1]).update(overdue_interest=-(2**62))
    with consistent_read():
        read = states._stored_frames(list(MONTH_ENDS), FIGURES, shared=False)
    rows = LoanState.objects.values_list("as_of", "loan_id", *FIGURES)
    want = pl.DataFrame(list(rows), schema=read.schema, orient="row")
    assert read.sort("as_of", "loan_id").equals(want.sort("as_of", "loan_id"))
    assert len(read) == 12 * len(MONTH_ENDS)


def test_stored_days_read_together_equal_the_replay_with_late_rows_replayed(
    book: list[models.Loan],
) -> None:
    with time_machine.travel(datetime(2026, 7, 3, 9, 0, tzinfo=SHANGHAI), tick=False):
        # back-dated after the runs: the loan's stored rows of the later days are replayed
        services.record_payment(
            loan=book[2],
            ref="LATE",
            value_date=date(2026, 5, 2),
            amount_minor=300_000,
            currency="CNY",
        )
    known_by = date(2026, 7, 3)
    read = states_at(MONTH_ENDS, known_by=known_by)
    assert (read.stored, read.replayed) == (12 + 11 + 11, 2)
    assert read.frame.equals(replay(MONTH_ENDS, known_by=known_by).frame)
    # the roll's read: the same rows, without the attributes, in no particular order
    roll = states_at(
        MONTH_ENDS, known_by=known_by, figures=("bucket", "payoff"), attributes=False, ordered=False
    )
    want = read.frame.select("as_of", "loan_id", "bucket", "payoff")
    assert roll.frame.sort("as_of", "loan_id").equals(want)
    # as of the last month end the payment is not known yet: its loan is still replayed
    # (recorded since the runs), without it
    before = states_at(MONTH_ENDS, known_by=MONTH_ENDS[-1])
    assert (before.stored, before.replayed) == (34, 2)
    assert before.frame.equals(replay(MONTH_ENDS, known_by=MONTH_ENDS[-1]).frame)
    assert not before.frame.equals(read.frame)
