"""The synthetic book is a valid snapshot of realistic loans: the kernel's own schedules, the
requested share delinquent, the same files for the same seed."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from arrears.engine.snapshot import loan_terms_from_snapshot, read_snapshot
from arrears.engine.synthetic import (
    EPOCH,
    RATE_DENOMINATOR,
    RATE_NUMERATORS,
    add_months,
    main,
    schedules,
    synthetic_products,
    write_synthetic_snapshot,
)
from arrears.kernel.calendar import add_months as kernel_add_months
from arrears.kernel.errors import ArrearsError
from arrears.kernel.schedule import build_schedule
from arrears.kernel.state import LoanState, state
from arrears.kernel.terms import (
    InterestRate,
    LoanTerms,
    Payment,
    RateBasis,
    ScheduleMethod,
    ScheduleTerms,
)

AS_OF = date(2026, 6, 30)
LOANS = 1500


def day_number(day: date) -> int:
    return (day - EPOCH).days


Book = list[tuple[LoanTerms, tuple[Payment, ...], LoanState]]


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synthetic")
    write_synthetic_snapshot(path, loans=LOANS, as_of=AS_OF, seed=3, rows_per_group=5000)
    return path


@pytest.fixture(scope="module")
def book(directory: Path) -> Book:
    """Every loan built by the kernel from the snapshot, with its state as of AS_OF."""
    loans: Book = []
    for loan_id, terms, payments in loan_terms_from_snapshot(read_snapshot(directory)):
        assert not isinstance(terms, ArrearsError), f"loan {loan_id}: {terms}"
        loans.append((terms, payments, state(terms, payments, AS_OF)))
    return loans


def test_every_loan_has_a_schedule_that_repays_exactly_its_principal(book: Book) -> None:
    assert len(book) == LOANS
    for terms, _, _ in book:
        assert sum(i.principal for i in terms.schedule) == terms.principal
        assert all(i.principal >= 0 and i.interest >= 0 for i in terms.schedule)
        assert terms.principal % 100 == 0 and 100_000 <= terms.principal <= 5_000_000


def test_every_schedule_is_what_the_kernel_builds_for_the_loan(book: Book) -> None:
    methods = set()
    for terms, _, _ in book:
        built = {
            method: build_schedule(
                ScheduleTerms(
                    principal=terms.principal,
                    currency=terms.currency,
                    rate=terms.rate,
                    term=len(terms.schedule),
                    method=method,
                    start=terms.start,
                    day_count=terms.day_count,
                    rounding=terms.product.rounding,
                )
            )
            for method in (ScheduleMethod.EQUAL_PRINCIPAL, ScheduleMethod.EQUAL_INSTALMENT)
        }
        matches = [method for method, schedule in built.items() if schedule == terms.schedule]
        assert matches, terms.ref
        methods.update(matches)
    assert methods == {ScheduleMethod.EQUAL_PRINCIPAL, ScheduleMethod.EQUAL_INSTALMENT}


def test_loans_start_within_the_year_before_as_of_on_both_products(book: Book) -> None:
    starts = [terms.start for terms, _, _ in book]
    assert min(starts) >= AS_OF - timedelta(days=365) and max(starts) < AS_OF
    products = {terms.product for terms, _, _ in book}
    assert products == {terms for _, terms in synthetic_products()}
    rates = {terms.rate for terms, _, _ in book}
    assert rates == {
        InterestRate(Decimal(int(n)) / RATE_DENOMINATOR, RateBasis.DAILY) for n in RATE_NUMERATORS
    }


def test_about_the_requested_share_is_delinquent_and_the_rest_is_current(book: Book) -> None:
    delinquent = [s for _, _, s in book if s.dpd > 0]
    assert 0.07 <= len(delinquent) / LOANS <= 0.13
    for terms, payments, loan_state in book:
        if loan_state.dpd == 0:  # the payers: every instalment due is paid in full, on time
            due = [i for i in terms.schedule if i.due_date <= AS_OF]
            assert loan_state.penalty_accrued == 0 and loan_state.overdue_principal == 0
            assert sum(p.amount for p in payments) >= sum(i.total for i in due)
    settled = [s for _, _, s in book if s.settled_on is not None]
    prepaid = [s for _, _, s in book if s.credit > 0 and s.settled_on is None]
    assert settled and prepaid  # a few early settlements and prepayments


def test_no_delinquency_is_asked_none_is_made(tmp_path: Path) -> None:
    write_synthetic_snapshot(tmp_path, loans=300, as_of=AS_OF, seed=9, delinquent_share=0.0)
    for _, terms, payments in loan_terms_from_snapshot(read_snapshot(tmp_path)):
        assert not isinstance(terms, ArrearsError)
        assert state(terms, payments, AS_OF).dpd == 0


def test_the_same_seed_writes_the_same_files_whatever_the_row_groups(
    directory: Path, tmp_path: Path
) -> None:
    again, other = tmp_path / "again", tmp_path / "other"
    write_synthetic_snapshot(again, loans=LOANS, as_of=AS_OF, seed=3, rows_per_group=700)
    write_synthetic_snapshot(other, loans=LOANS, as_of=AS_OF, seed=4, rows_per_group=5000)
    first, second = read_snapshot(directory), read_snapshot(again)
    for left, right in zip(first.frames, second.frames, strict=True):
        assert_frame_equal(left, right)
    assert pq.ParquetFile(again / "instalments.parquet").num_row_groups == 26  # 18000 / 700
    assert pq.ParquetFile(directory / "instalments.parquet").num_row_groups == 4
    assert not read_snapshot(other).loans.equals(first.loans)
    manifest = json.loads((directory / "manifest.json").read_text())
    write_synthetic_snapshot(again, loans=LOANS, as_of=AS_OF, seed=3, rows_per_group=5000)
    assert json.loads((again / "manifest.json").read_text())["files"] == manifest["files"]


@settings(max_examples=200, deadline=None)
@given(
    start=st.dates(min_value=date(1971, 1, 1), max_value=date(2199, 12, 31)),
    months=st.lists(st.integers(min_value=-12, max_value=600), min_size=1, max_size=5),
)
def test_vectorised_add_months_is_the_kernels(start: date, months: list[int]) -> None:
    got = add_months(np.array([day_number(start)]), np.array(months))
    assert [EPOCH + timedelta(days=int(d)) for d in got] == [
        kernel_add_months(start, m) for m in months
    ]


@settings(max_examples=150, deadline=None)
@given(
    principal=st.integers(min_value=1_000, max_value=50_000).map(lambda yuan: yuan * 100),
    rate=st.sampled_from([int(n) for n in RATE_NUMERATORS]),
    equal_instalment=st.booleans(),
    term=st.integers(min_value=1, max_value=36),
)
def test_vectorised_schedules_are_the_kernels(
    principal: int, rate: int, equal_instalment: bool, term: int
) -> None:
    parts, interest = schedules(
        np.array([principal]), np.array([rate]), np.array([equal_instalment]), term
    )
    built = build_schedule(
        ScheduleTerms(
            principal=principal,
            currency="CNY",
            rate=InterestRate(Decimal(rate) / RATE_DENOMINATOR, RateBasis.DAILY),
            term=term,
            method=(
                ScheduleMethod.EQUAL_INSTALMENT
                if equal_instalment
                else ScheduleMethod.EQUAL_PRINCIPAL
            ),
            start=date(2026, 1, 31),
        )
    )
    assert parts[0].tolist() == [i.principal for i in built]
    assert interest[0].tolist() == [i.interest for i in built]


def test_the_command_line_prints_counts_and_seconds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(tmp_path), "--loans", "50", "--as-of", "2026-06-30", "--term", "6"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2 products, 50 loans, 300 instalments, ")
    assert out.rstrip().endswith(" s")
    assert read_snapshot(tmp_path).instalments.height == 300


def test_the_command_line_refuses_a_bad_date(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main([str(tmp_path), "--loans", "5", "--as-of", "2026-02-30"])
