"""The history readers' frame helpers against a direct computation: who held a case on a day
(the last assignment on or before it) and which agency it was placed with (placed, term not
over, not recalled by then); and the shared figures' rounding."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from arrears.reports import figures
from arrears.reports.history import agency_on, holder_on

DAY0 = date(2026, 11, 1)
days = st.integers(0, 40).map(lambda n: DAY0 + timedelta(days=n))


@given(
    st.lists(st.tuples(st.integers(1, 3), days, st.sampled_from(["ann", "bob", ""])), max_size=12),
    st.lists(st.tuples(st.integers(1, 3), days), min_size=1, max_size=8),
)
def test_holder_on_is_the_last_assignment_by_that_day(
    moves: list[tuple[int, date, str]], asked: list[tuple[int, date]]
) -> None:
    held = pl.DataFrame(
        [(c, d, n, i) for i, (c, d, n) in enumerate(moves)],
        schema={"case_id": pl.Int64, "on": pl.Date, "collector": pl.String, "at": pl.Int64},
        orient="row",
    ).sort("case_id", "on", "at")
    frame = pl.DataFrame(asked, schema={"case_id": pl.Int64, "day": pl.Date}, orient="row")
    found = holder_on(frame, held)["holder"].to_list()
    expected = []
    for case, day in asked:
        mine = [(d, i, n) for i, (c, d, n) in enumerate(moves) if c == case and d <= day]
        expected.append(max(mine)[2] if mine else "")
    assert found == expected


@given(
    st.lists(
        st.tuples(st.integers(1, 3), days, st.integers(0, 20), st.none() | st.integers(0, 20)),
        max_size=6,
    ),
    st.lists(st.tuples(st.integers(1, 3), days), min_size=1, max_size=8),
)
def test_agency_on_is_the_live_placement(
    placed: list[tuple[int, date, int, int | None]], asked: list[tuple[int, date]]
) -> None:
    rows = [
        (c, f"ag{i}", d, d + timedelta(days=t), None if r is None else d + timedelta(days=r))
        for i, (c, d, t, r) in enumerate(placed)
    ]
    frame = pl.DataFrame(asked, schema={"case_id": pl.Int64, "day": pl.Date}, orient="row")
    table = pl.DataFrame(
        rows,
        schema={
            "case_id": pl.Int64,
            "agency": pl.String,
            "placed_on": pl.Date,
            "ends_on": pl.Date,
            "recalled_on": pl.Date,
        },
        orient="row",
    )
    found = agency_on(frame, table)["placed_with"].to_list()
    for (case, day), agency in zip(asked, found, strict=True):
        live = {
            a for c, a, p, e, r in rows if c == case and p <= day <= e and (r is None or day < r)
        }
        assert (agency in live) if live else agency == ""


@given(st.integers(0, 10**9), st.integers(0, 10**6))
def test_figures_are_exact_or_rounded_half_up(part: int, whole: int) -> None:
    if whole == 0:
        assert figures.rate(part, whole) is None and figures.per_thousand(part, whole) is None
        return
    exact = Decimal(part) / Decimal(whole)
    assert figures.rate(part, whole) == exact
    ratio = figures.ratio(part, whole)
    assert ratio is not None and abs(ratio - exact) <= Decimal("0.00005")
    per = figures.per_thousand(part, whole)
    assert per is not None and abs(per - exact * 1000) <= Decimal("0.005")
    assert figures.per_thousand(1, 8) == Decimal("125.00")
    assert figures.ratio(1, 8) == Decimal("0.1250") and figures.ratio(1, 3) == Decimal("0.3333")
