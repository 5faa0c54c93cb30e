"""The stored schedule's text (``ledger.schedules``): the per-loan pair and the bulk pair agree
with each other and with the kernel's schedules, and anything else is refused or isolated,
never half read."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.kernel.errors import ScheduleUnreadable
from arrears.kernel.schedule import build_schedule
from arrears.kernel.terms import (
    DayCount,
    Instalment,
    InterestRate,
    RateBasis,
    ScheduleMethod,
    ScheduleTerms,
)
from arrears.ledger import schedules

DAY = st.dates(min_value=date(1970, 1, 1), max_value=date(2199, 12, 31))
AMOUNT = st.integers(min_value=0, max_value=2**63 - 1)


@st.composite
def instalment_lists(draw: st.DrawFn) -> tuple[Instalment, ...]:
    """Any instalments the text must carry: dates across the ledger's range, amounts up to a
    bigint (stored values past the import's limits are the daily run's to isolate)."""
    n = draw(st.integers(min_value=1, max_value=8))
    return tuple(
        Instalment(seq, draw(DAY), draw(AMOUNT), draw(AMOUNT), draw(DAY), draw(DAY))
        for seq in range(1, n + 1)
    )


@given(instalment_lists())
def test_decode_gives_back_what_encode_wrote(rows: tuple[Instalment, ...]) -> None:
    assert schedules.decode(schedules.encode(rows)) == rows


@given(st.lists(instalment_lists(), min_size=1, max_size=5))
def test_the_bulk_pair_agrees_with_the_per_loan_pair(loans: list[tuple[Instalment, ...]]) -> None:
    frame = pl.DataFrame(
        [
            (key, i.seq, i.due_date, i.principal, i.interest, i.period_start, i.period_end)
            for key, rows in enumerate(loans)
            for i in rows
        ],
        schema={"loan": pl.Int64, "seq": pl.Int32, "due_date": pl.Date, "principal": pl.Int64,
                "interest": pl.Int64, "period_start": pl.Date, "period_end": pl.Date},
        orient="row",
    )  # fmt: skip
    encoded = schedules.encode_frame(frame, "loan")
    assert encoded["schedule"].to_list() == [schedules.encode(rows) for rows in loans]
    exploded = schedules.explode(encoded.rename({"loan": "loan_id"}))
    assert exploded.rows() == [
        (key, *(getattr(i, name) for name in ("seq", "due_date", "principal", "interest",
                                              "period_start", "period_end")))
        for key, rows in enumerate(loans)
        for i in rows
    ]  # fmt: skip


def test_a_kernel_schedule_is_stored_as_plain_text() -> None:
    terms = ScheduleTerms(
        principal=1_200_000,
        currency="CNY",
        rate=InterestRate(Decimal("0.0005"), RateBasis.DAILY),
        term=3,
        method=ScheduleMethod.EQUAL_PRINCIPAL,
        start=date(2026, 1, 1),
        day_count=DayCount.ACTUAL_365,
    )
    rows = build_schedule(terms)
    text = schedules.encode(rows)
    first = rows[0]
    assert text.split(";")[0] == (
        f"{first.due_date} {first.principal} {first.interest} {first.period_start} "
        f"{first.period_end}"
    )
    assert len(text.split(";")) == 3
    assert schedules.decode(text) == rows


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2026-02-01 100 0 2026-01-01",  # a field missing
        "2026-02-01 100 0 2026-01-01 2026-02-01;",  # an empty instalment
        "2026-02-30 100 0 2026-01-01 2026-02-01",  # no such date
        "2026-02-01 -1 0 2026-01-01 2026-02-01",  # a negative amount
        "2026-02-01 1e3 0 2026-01-01 2026-02-01",
        "2026-02-01 99999999999999999999 0 2026-01-01 2026-02-01",  # past a bigint
        "2026-02-01 0 9999999999999999999 2026-01-01 2026-02-01",  # 19 digits, past a bigint
        "2026-02-01  100 0 2026-01-01 2026-02-01",  # two spaces
        "x" * (schedules.MAX_TEXT + 1),
    ],
)
def test_text_the_ledger_does_not_write_is_refused_by_name_and_isolated_in_bulk(
    text: str,
) -> None:
    with pytest.raises(ScheduleUnreadable) as refused:
        schedules.decode(text)
    assert refused.value.code == "loan-schedule-unreadable"
    good = "2026-02-01 100 0 2026-01-01 2026-02-01"
    exploded = schedules.explode(pl.DataFrame({"loan_id": [1, 2], "schedule": [good, text]}))
    assert exploded.filter(pl.col("loan_id") == 1).rows() == [
        (1, 1, date(2026, 2, 1), 100, 0, date(2026, 1, 1), date(2026, 2, 1))
    ]
    mine = exploded.filter(pl.col("loan_id") == 2)
    # a part that is not an instalment is a row of nulls: the loan cannot be computed on
    # what is left of its schedule (a long garbled text is one such part)
    assert mine.height >= 1
    assert mine.null_count().sum_horizontal().item() > 0


def test_the_longest_term_fits_the_bound() -> None:
    day = date(2199, 12, 31) - timedelta(days=1)
    big = 10**13 - 1
    rows = tuple(
        Instalment(seq, day, big, big, day, day) for seq in range(1, schedules.MAX_INSTALMENTS + 1)
    )
    assert schedules.decode(schedules.encode(rows)) == rows
