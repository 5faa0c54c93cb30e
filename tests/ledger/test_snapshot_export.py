"""The ledger exported as a snapshot reads back as exactly the selectors' kernel values, and a
snapshot's product row gives what the ledger's product gives."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.engine import snapshot as snap
from arrears.engine.snapshot import (
    SnapshotError,
    loan_terms_from_snapshot,
    read_snapshot,
)
from arrears.kernel.errors import ArrearsError
from arrears.kernel.money import Rounding
from arrears.kernel.terms import (
    AccrualRounding,
    Component,
    DayCount,
    ProductTerms,
    product_terms_from,
)
from arrears.ledger import models, selectors, services
from arrears.ledger.snapshot_export import export_snapshot
from tests import factories
from tests.ledger.books import every_rule_version

# --- a ledger exported and read back ------------------------------------------------------


def ledger_book() -> list[models.Loan]:
    """Two versions of a product, both schedule methods, an annual rate, a USD loan, a
    reversed payment and two same-day payments whose refs sort differently by collation."""
    first = factories.product()
    second = every_rule_version(
        first,
        date(2026, 3, 1),
        [
            {"name": "current", "min_dpd": 0, "max_dpd": 0},
            {"name": "早期", "min_dpd": 1, "max_dpd": 89},
            {"name": "late", "min_dpd": 90, "max_dpd": None},
        ],
    )
    owner = factories.borrower()
    loans = [
        factories.loan("L-EP", owner, first),
        factories.loan("L-EI", owner, first, method="equal-instalment", principal_minor=777_777),
        factories.loan("L-V2", owner, second, start=date(2026, 3, 10), term=6),
        services.create_loan(
            ref="L-ANNUAL",
            borrower=owner,
            product=second,
            currency="USD",
            principal_minor=1_234_567,
            rate_value=Decimal("0.1899"),
            rate_basis="annual",
            term=9,
            method="equal-instalment",
            start_date=date(2026, 2, 28),
            day_count=DayCount.ACTUAL_365,
        ),
        factories.loan("L-NOTHING-PAID", owner, first, start=date(2026, 4, 1)),
    ]
    due = loans[0].instalments[0]
    for ref, day, amount in [
        ("p-1", due.due_date, 40_000),
        ("P-2", due.due_date, 60_000),
        ("P-3", due.due_date + timedelta(days=40), 90_000),
    ]:
        services.record_payment(
            loan=loans[0], ref=ref, value_date=day, amount_minor=amount, currency="CNY"
        )
    bounced = services.record_payment(
        loan=loans[2],
        ref="BOUNCE",
        value_date=date(2026, 4, 10),
        amount_minor=5_000,
        currency="CNY",
    )
    services.reverse_payment(
        payment=bounced, reversed_on=date(2026, 4, 13), reversal_ref="R-1", reason="NSF"
    )
    services.record_payment(
        loan=loans[3],
        ref="USD-1",
        value_date=date(2026, 3, 28),
        amount_minor=150_000,
        currency="USD",
    )
    return loans


@pytest.mark.django_db
def test_an_exported_ledger_reads_back_as_the_selectors_kernel_values(tmp_path: Path) -> None:
    loans = ledger_book()
    counts = export_snapshot(tmp_path, batch_size=2)
    assert counts == {
        "products": 2,
        "loans": len(loans),
        "instalments": sum(len(loan.instalments) for loan in models.Loan.objects.all()),
        "payments": 5,
        "waivers": 0,
        "plans": 0,
        "plan_instalments": 0,
    }
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["format"] == "arrears-snapshot" and manifest["version"] == 2
    assert manifest["counts"] == counts
    assert pq.ParquetFile(tmp_path / "loans.parquet").num_row_groups == 3  # batches of 2

    got = list(loan_terms_from_snapshot(read_snapshot(tmp_path)))
    expected = [
        (loan.id, selectors.loan_terms(loan), selectors.loan_payments(loan))
        for loan in sorted(loans, key=lambda loan: loan.id)
    ]
    assert got == expected
    reversed_payments = [p for _, _, history in got for p in history if p.reversed_on]
    assert [p.ref for p in reversed_payments] == ["BOUNCE"]


@pytest.mark.django_db
def test_exporting_some_loans_writes_only_their_rows_and_products(tmp_path: Path) -> None:
    loans = ledger_book()
    chosen = models.Loan.objects.filter(ref__in=["L-EP", "L-V2"])
    counts = export_snapshot(tmp_path, chosen)
    read = read_snapshot(tmp_path)
    assert sorted(read.loans["ref"].to_list()) == ["L-EP", "L-V2"]
    assert counts["products"] == 2 and counts["payments"] == 4
    assert set(read.instalments["loan_id"].to_list()) == {loans[0].id, loans[2].id}


@pytest.mark.django_db
def test_an_export_that_fails_leaves_no_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger_book()
    export_snapshot(tmp_path)
    original = snap.SnapshotWriter.write

    def failing(self: snap.SnapshotWriter, name: str, table: pa.Table) -> None:
        if name == "payments":
            raise OSError("disk full")
        original(self, name, table)

    monkeypatch.setattr(snap.SnapshotWriter, "write", failing)
    with pytest.raises(OSError, match="disk full"):
        export_snapshot(tmp_path)
    with pytest.raises(SnapshotError, match=r"manifest\.json is missing"):
        read_snapshot(tmp_path)


# --- product rows are read exactly as the ledger reads them -------------------------------

_ORDERS = st.one_of(
    st.permutations(list(Component)).map(lambda order: ",".join(c.value for c in order)),
    st.sampled_from(["penalty,interest", "penalty,penalty,interest,principal", "", "x"]),
)
_BUCKETS = st.one_of(
    st.just(
        [{"name": "M0", "min_dpd": 0, "max_dpd": 0}, {"name": "M1", "min_dpd": 1, "max_dpd": None}]
    ),
    st.just([{"name": "all", "min_dpd": 0, "max_dpd": None}]),
    st.just(
        [{"name": "M0", "min_dpd": 0, "max_dpd": 5}, {"name": "M1", "min_dpd": 7, "max_dpd": None}]
    ),
    st.just([{"name": "", "min_dpd": 0, "max_dpd": None}]),
    st.just([{"name": "M0", "min_dpd": 0}]),
    st.just({"name": "M0"}),
)


@settings(max_examples=60, deadline=None)
@given(
    multiplier=st.decimals(min_value=0, max_value=10, places=4),
    compound=st.booleans(),
    grace=st.integers(0, 10),
    retroactive=st.booleans(),
    cap=st.one_of(st.none(), st.decimals(min_value=0, max_value=1, places=4)),
    rounding=st.sampled_from([*(r.value for r in Rounding), "nearest"]),
    accrual=st.sampled_from([*(a.value for a in AccrualRounding), "weekly"]),
    order=_ORDERS,
    tolerance=st.integers(0, 500),
    buckets=_BUCKETS,
)
def test_a_product_row_gives_what_the_ledger_product_gives(
    multiplier: Decimal,
    compound: bool,
    grace: int,
    retroactive: bool,
    cap: Decimal | None,
    rounding: str,
    accrual: str,
    order: str,
    tolerance: int,
    buckets: object,
) -> None:
    fields = {
        "penalty_multiplier": multiplier,
        "compound": compound,
        "grace_days": grace,
        "grace_retroactive": retroactive,
        "cost_cap_annual": cap,
        "rounding": rounding,
        "accrual_rounding": accrual,
        "allocation_order": order,
        "tolerance_minor": tolerance,
    }
    ledger = models.Product(code="PL", version=2, buckets=buckets, **fields)  # never saved
    row = {"product_id": 1, "code": "PL", "version": 2, "buckets": json.dumps(buckets), **fields}
    try:
        expected: ProductTerms | ArrearsError = ledger.terms()
    except ArrearsError as error:
        expected = error
    try:
        got: ProductTerms | ArrearsError = product_terms_from(row)
    except ArrearsError as error:
        got = error
    if isinstance(expected, ArrearsError):
        assert isinstance(got, type(expected)) and str(got) == str(expected)
    else:
        assert got == expected


def test_the_snapshots_product_columns_are_the_kernels_product_keys():
    """The export writes products as ``id`` then ``kernel.terms.PRODUCT_KEYS``, in that order: the
    snapshot's columns must say the same, or a product's terms land in the wrong column."""
    from arrears.engine.snapshot.format import COLUMNS, PRODUCTS
    from arrears.kernel.terms import PRODUCT_KEYS

    assert tuple(c.name for c in COLUMNS[PRODUCTS]) == ("product_id", *PRODUCT_KEYS)
