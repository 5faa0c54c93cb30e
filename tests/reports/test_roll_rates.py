"""Roll rates: each row of a month's migration matrix sums to the loans in that state at the
previous month end (read independently, one date at a time); write-offs and pay-offs are their
own states; the Polars transitions agree with a plain count over random books."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, datetime

import polars as pl
import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from arrears.collections.models import Case, CaseEvent
from arrears.daily.services import day_run
from arrears.reports.base import ReportParams
from arrears.reports.figures import state_label
from arrears.reports.library import roll_rates
from arrears.reports.rolls import MISSING, WRITTEN_OFF, forward, matrix, transitions
from arrears.reports.states import roll_state, states_as_of, written_off
from tests.reports.test_ledger_states import SHANGHAI, recorded_book

PERIOD = ReportParams(as_of=date(2026, 9, 30), start=date(2026, 4, 1), end=date(2026, 9, 30))
MONTH_ENDS = (
    date(2026, 3, 31),
    date(2026, 4, 30),
    date(2026, 5, 31),
    date(2026, 6, 30),
    date(2026, 7, 31),
    date(2026, 8, 31),
    date(2026, 9, 30),
)


@pytest.mark.django_db
def test_each_row_sums_to_the_previous_month_ends_loans_in_that_state() -> None:
    book = recorded_book(18)
    day_run(as_of=date(2026, 6, 30))  # one month end stored, the rest replayed
    with time_machine.travel(datetime(2026, 1, 3, 9, 0, tzinfo=SHANGHAI), tick=False):
        case = Case.objects.create(
            borrower=book[0].borrower, currency="CNY", opened_on=date(2026, 1, 3)
        )
        CaseEvent.objects.create(
            case=case, on=date(2026, 7, 15), kind="closed", to_value="written_off", cause="x"
        )
    result = roll_rates.compute(PERIOD)
    moves = result.table("transitions")
    assert sorted(set(moves.column("closing"))) == list(MONTH_ENDS[1:])
    for opening in MONTH_ENDS[:-1]:
        states = states_as_of(opening, known_by=PERIOD.as_of).frame
        written = written_off([opening], known_by=PERIOD.as_of)
        expected = Counter(roll_state(states, written)["state"].to_list())
        sums: Counter[str] = Counter()
        for row in moves.rows:
            if row[0] == opening:
                sums[str(row[2])] += int(row[4])  # type: ignore[call-overload]
        assert sums == Counter({state_label(k): v for k, v in expected.items()}), opening
        if opening >= date(2026, 7, 31):  # the borrower's case written off on 15 July
            assert sums == Counter({state_label(WRITTEN_OFF): len(book)})
        else:
            assert state_label(WRITTEN_OFF) not in sums
    counts = result.table("matrix")
    for row in counts.rows:
        assert sum(int(c) for c in row[1:-1]) == row[-1]  # type: ignore[call-overload]
    assert result.table("flow_rates").rows


@given(
    st.lists(
        st.lists(st.sampled_from(["M0", "M1", "M2", "closed", None]), min_size=4, max_size=4),
        min_size=1,
        max_size=30,
    )
)
def test_the_polars_transitions_equal_a_plain_count(paths: list[list[str | None]]) -> None:
    days = [date(2026, m, 28) for m in (1, 2, 3, 4)]
    rows = [
        (day, loan, state)
        for loan, path in enumerate(paths)
        for day, state in zip(days, path, strict=True)
        if state is not None
    ]
    frame = pl.DataFrame(rows, schema=["as_of", "loan_id", "state"], orient="row")
    present = sorted(set(frame["as_of"].to_list()))
    moves = transitions(frame)
    want: Counter[tuple[date, str, str]] = Counter()
    for path in paths:
        states = dict(zip(days, path, strict=True))
        for before, after in itertools.pairwise(present):
            if states[before] is not None:
                want[(before, states[before], states[after] or MISSING)] += 1
    got = Counter(
        {(r["opening"], r["from"], r["to"]): r["loans"] for r in moves.iter_rows(named=True)}
    )
    assert got == want
    if len(moves):
        wide = matrix(moves)
        assert wide.drop("from").sum_horizontal().sum() == moves["loans"].sum()


def test_flow_rates_count_worse_buckets_and_write_offs_not_level_ones() -> None:
    day, later = date(2026, 1, 31), date(2026, 2, 28)
    moves = pl.DataFrame(
        {
            "opening": [day] * 6,
            "closing": [later] * 6,
            "from": ["M1", "M1", "M1", "M3", "M3", "M7+"],
            "to": ["M2", "M0", "closed", "M3+", "M4", "written_off"],
            "loans": [2, 5, 1, 3, 1, 4],
        }
    )
    got = {r["from"]: (r["loans"], r["forward"]) for r in forward(moves).iter_rows(named=True)}
    assert got == {"M1": (8, 2), "M3": (4, 1), "M7+": (4, 4)}
