"""A chunk's results: the engine where it can, the kernel where it must, errors by loan."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import polars as pl

from arrears.engine.chunk import compute_chunk
from arrears.kernel.state import state
from tests.engine.test_frames import frames
from tests.kernel.factories import make_loan

AS_OF = date(2026, 3, 1)


def test_fallback_loans_are_replayed_by_the_kernel_and_corrupt_ones_reported():
    normal = make_loan(ref="NORMAL")
    huge = make_loan(ref="HUGE", principal=4 * 10**18 // 1000 * 1000, interest_each=0)
    corrupt = make_loan(ref="CORRUPT")
    book = [(normal, []), (huge, []), (corrupt, [])]
    products, loans, instalments, payments = frames(book)
    # break CORRUPT's schedule so that it no longer sums to the principal
    instalments = instalments.with_columns(
        pl.when((pl.col("loan_id") == 3) & (pl.col("seq") == 1))
        .then(1)
        .otherwise(pl.col("principal_minor"))
        .alias("principal_minor")
    )
    results, errors = compute_chunk(products, loans, instalments, payments, AS_OF)
    assert results["ref"].to_list() == ["NORMAL", "HUGE"]
    for row, loan in zip(results.iter_rows(named=True), (normal, huge), strict=True):
        s = state(loan, [], AS_OF)
        assert (row["dpd"], row["penalty_outstanding"], row["payoff"]) == (
            s.dpd,
            s.penalty_outstanding,
            s.payoff,
        )
    assert errors["ref"].to_list() == ["CORRUPT"]
    assert "does not sum" in errors["message"][0]


def test_loans_not_started_by_the_date_are_left_out():
    early = make_loan(ref="EARLY")
    late = replace(make_loan(ref="LATE", start=date(2026, 6, 1)))
    results, errors = compute_chunk(*frames([(early, []), (late, [])]), AS_OF)
    assert results["ref"].to_list() == ["EARLY"] and len(errors) == 0


def test_a_row_the_compiled_path_refuses_is_one_loans_error_not_the_chunks():
    book = [(make_loan(ref="GOOD"), []), (make_loan(ref="NEGATIVE"), [])]
    products, loans, instalments, payments = frames(book)
    loans = loans.with_columns(
        pl.when(pl.col("ref") == "NEGATIVE")
        .then(-pl.col("rate_value"))
        .otherwise(pl.col("rate_value"))
        .alias("rate_value")
    )
    results, errors = compute_chunk(products, loans, instalments, payments, AS_OF)
    assert results["ref"].to_list() == ["GOOD"]
    assert errors["ref"].to_list() == ["NEGATIVE"] and "negative" in errors["message"][0]


def test_a_product_the_kernel_refuses_is_an_error_on_its_loans_only():
    book = [(make_loan(ref="A"), []), (make_loan(ref="B"), [])]
    products, loans, instalments, payments = frames(book)
    products = products.with_columns(
        pl.when(pl.col("product_id") == 2)
        .then(pl.lit("interest"))
        .otherwise(pl.col("allocation_order"))
        .alias("allocation_order")
    )
    results, errors = compute_chunk(products, loans, instalments, payments, AS_OF)
    assert results["ref"].to_list() == ["A"]
    assert errors["ref"].to_list() == ["B"] and "allocation_order" in errors["message"][0]
