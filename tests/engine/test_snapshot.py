"""Snapshots: a snapshot reads back as the kernel's values, and a reader refuses every broken
snapshot with a message naming the file, column and row. (The ledger's export and its equality
with the selectors: ``tests/ledger/test_snapshot_export.py``.)"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from arrears.engine import snapshot as snap
from arrears.engine.snapshot import (
    Snapshot,
    SnapshotError,
    iter_chunks,
    loan_terms_from_snapshot,
    read_snapshot,
)
from arrears.engine.synthetic import write_synthetic_snapshot
from arrears.kernel.errors import ArrearsError, InvalidTerms
from arrears.kernel.terms import product_terms_from

AS_OF = date(2026, 6, 30)
Reader = Callable[[Path], object]
#: Both readers must refuse the same snapshots with the same message.
READERS: dict[str, Reader] = {
    "read_snapshot": read_snapshot,
    "iter_chunks": lambda directory: list(iter_chunks(directory, 7)),
}


def test_the_engine_modules_import_without_django() -> None:
    """A lender's machine reads snapshots with no Django project configured."""
    code = (
        "import sys, arrears.engine.snapshot, arrears.engine.synthetic; "
        "sys.exit(any(m.split('.')[0] == 'django' for m in sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    assert subprocess.run([sys.executable, "-c", code], env=env, check=False).returncode == 0


# --- product rows -------------------------------------------------------------------------


def test_bucket_text_that_is_not_json_is_a_product_error() -> None:
    row = product_row(buckets="[{")
    with pytest.raises(InvalidTerms, match=r"product PL v1: buckets: not valid JSON"):
        product_terms_from(row)


# --- snapshots written by hand ------------------------------------------------------------


def product_row(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "product_id": 1,
        "code": "PL",
        "version": 1,
        "penalty_multiplier": Decimal("1.5"),
        "compound": False,
        "grace_days": 0,
        "grace_retroactive": False,
        "cost_cap_annual": None,
        "rounding": "half-up",
        "accrual_rounding": "daily",
        "allocation_order": "penalty,compound,interest,principal",
        "tolerance_minor": 0,
        "buckets": json.dumps([{"name": "M0", "min_dpd": 0, "max_dpd": None}]),
    }
    row.update(changes)
    return row


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    """A small valid snapshot (20 loans in several row groups), as frames."""
    directory = tmp_path_factory.mktemp("base")
    write_synthetic_snapshot(directory, loans=20, as_of=AS_OF, seed=5, rows_per_group=32)
    return read_snapshot(directory)


def write_raw(directory: Path, frames: dict[str, pl.DataFrame]) -> None:
    """Write frames as they are (any types) with a manifest that matches them: version 2 when
    the concession files are among them, else version 1."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.write_parquet(directory / f"{name}.parquet", row_group_size=16)
    manifest = {
        "format": "arrears-snapshot",
        "version": 2 if "waivers" in frames else 1,
        "exported_at": "2026-06-30T00:00:00+00:00",
        "counts": {name: frame.height for name, frame in frames.items()},
        "files": {f"{n}.parquet": snap.sha256_of(directory / f"{n}.parquet") for n in frames},
    }
    (directory / "manifest.json").write_text(json.dumps(manifest))


def frames_of(snapshot: Snapshot, **changes: pl.DataFrame) -> dict[str, pl.DataFrame]:
    frames = dict(snapshot.tables)
    frames.update(changes)
    return frames


def with_value(frame: pl.DataFrame, row: int, column: str, value: object) -> pl.DataFrame:
    values = frame[column].to_list()
    values[row] = value
    return frame.with_columns(pl.Series(column, values, dtype=frame.schema[column]))


def test_a_snapshot_written_by_another_tool_with_wider_types_reads_back(
    base: Snapshot, tmp_path: Path
) -> None:
    loans = base.loans.with_columns(
        pl.col("loan_id").cast(pl.Int32),
        pl.col("rate_value").cast(pl.Decimal(8, 4)),
        pl.col("currency").cast(pl.Categorical),
    )
    write_raw(tmp_path, frames_of(base, loans=loans))  # polars writes large_string
    read = read_snapshot(tmp_path)
    assert_frame_equal(read.loans, base.loans)
    assert read.loans.schema["rate_value"] == pl.Decimal(20, 12)


def test_chunks_cover_the_snapshot_in_loan_id_order(base: Snapshot, tmp_path: Path) -> None:
    directory = tmp_path / "snap"
    write_synthetic_snapshot(directory, loans=20, as_of=AS_OF, seed=5, rows_per_group=32)
    chunks = list(iter_chunks(directory, 7))
    assert [c.loans.height for c in chunks] == [7, 7, 6]
    for chunk in chunks:
        assert_frame_equal(chunk.products, base.products)
        ids = set(chunk.loans["loan_id"].to_list())
        assert set(chunk.instalments["loan_id"].to_list()) == ids
        assert set(chunk.payments["loan_id"].to_list()) <= ids
    for name in ("loans", "instalments", "payments"):
        whole = pl.concat([getattr(c, name) for c in chunks])
        assert_frame_equal(whole, getattr(base, name))
    assert [c.loans.height for c in iter_chunks(directory, 100)] == [20]


def test_loans_whose_rows_the_kernel_refuses_come_with_their_error(
    base: Snapshot, tmp_path: Path
) -> None:
    bad_product = pl.DataFrame(
        [product_row(product_id=3, allocation_order="interest")], schema=base.products.schema
    )
    products = pl.concat([base.products, bad_product])
    loans = with_value(base.loans, 1, "product_id", 3)
    loans = with_value(loans, 2, "rate_basis", "weekly")
    loans = with_value(loans, 3, "currency", "XXX")
    loans = with_value(loans, 4, "principal_minor", base.loans["principal_minor"][4] + 1)
    write_raw(tmp_path, frames_of(base, products=products, loans=loans))
    results = list(loan_terms_from_snapshot(read_snapshot(tmp_path)))
    errors = {index: terms for index, (_, terms, _) in enumerate(results)}
    assert str(errors[1]).startswith("allocation_order: must name each of")
    assert str(errors[2]) == "loan SYN0000000003: 'weekly' is not a valid RateBasis"
    assert isinstance(errors[3], ArrearsError) and errors[3].code == "money-unknown-currency"
    assert "schedule principal does not sum" in str(errors[4])
    good = [terms for index, terms in errors.items() if index not in {1, 2, 3, 4}]
    assert len(good) == 16 and not any(isinstance(t, ArrearsError) for t in good)
    assert [loan_id for loan_id, _, _ in results] == base.loans["loan_id"].to_list()


# --- every broken snapshot is refused, by both readers, with the same message -------------

Breaker = Callable[[Snapshot, Path], None]


def _rewrite(**changes: Callable[[Snapshot], pl.DataFrame]) -> Breaker:
    def breaker(base: Snapshot, directory: Path) -> None:
        write_raw(directory, frames_of(base, **{k: f(base) for k, f in changes.items()}))

    return breaker


def _no_manifest(base: Snapshot, directory: Path) -> None:
    write_raw(directory, frames_of(base))
    (directory / "manifest.json").unlink()


def _no_file(base: Snapshot, directory: Path) -> None:
    write_raw(directory, frames_of(base))
    (directory / "payments.parquet").unlink()


def _tampered(base: Snapshot, directory: Path) -> None:
    write_raw(directory, frames_of(base))
    manifest = json.loads((directory / "manifest.json").read_text())
    base.instalments.with_columns(pl.col("interest_minor") + 1).write_parquet(
        directory / "instalments.parquet", row_group_size=16
    )
    (directory / "manifest.json").write_text(json.dumps(manifest))


def _miscounted(base: Snapshot, directory: Path) -> None:
    write_raw(directory, frames_of(base))
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["counts"]["loans"] = 21
    (directory / "manifest.json").write_text(json.dumps(manifest))


def _other_format(base: Snapshot, directory: Path) -> None:
    write_raw(directory, frames_of(base))
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["version"] = 3
    (directory / "manifest.json").write_text(json.dumps(manifest))


BROKEN: dict[str, tuple[Breaker, str]] = {
    "no manifest": (_no_manifest, r"manifest\.json is missing: the export did not finish"),
    "other version": (
        _other_format,
        r'manifest\.json: "version" 3 is not supported \(expected 1 or 2\)',
    ),
    "missing file": (_no_file, r"payments\.parquet is missing$"),
    "checksum": (_tampered, r"instalments\.parquet: checksum mismatch \(sha256 [0-9a-f]{64}"),
    "count": (_miscounted, r"loans\.parquet has 20 rows but manifest\.json counts 21"),
    "missing column": (
        _rewrite(loans=lambda b: b.loans.drop("rate_basis")),
        r"loans\.parquet: column rate_basis is missing \(expected string\)",
    ),
    "float amount": (
        _rewrite(payments=lambda b: b.payments.with_columns(pl.col("amount_minor") / 100)),
        r"payments\.parquet: column amount_minor has type double; "
        r"expected int64 \(minor units, never a float\)",
    ),
    "float rate": (
        _rewrite(loans=lambda b: b.loans.with_columns(pl.col("rate_value").cast(pl.Float64))),
        r"loans\.parquet: column rate_value has type double; expected decimal128\(20, 12\)",
    ),
    "too many decimals": (
        _rewrite(
            products=lambda b: b.products.with_columns(
                pl.col("penalty_multiplier").cast(pl.Decimal(12, 8))
            )
        ),
        r"products\.parquet: column penalty_multiplier has type decimal128\(12, 8\)",
    ),
    "duplicate loan": (
        _rewrite(loans=lambda b: with_value(b.loans, 9, "loan_id", b.loans["loan_id"][8])),
        r"loans\.parquet: column loan_id: row 9 \(loan_id 9\) is a duplicate loan_id$",
    ),
    "unsorted loans": (
        _rewrite(loans=lambda b: with_value(b.loans, 9, "loan_id", 0)),
        r"loans\.parquet: column loan_id: row 9 \(loan_id 0\) is out of order; "
        r"the file must be sorted by \(loan_id\)",
    ),
    "null in a required column": (
        _rewrite(loans=lambda b: with_value(b.loans, 4, "start_date", None)),
        r"loans\.parquet: column start_date: row 4 \(loan_id 5\) is null",
    ),
    "unknown product": (
        _rewrite(loans=lambda b: with_value(b.loans, 3, "product_id", 77)),
        r"loans\.parquet: column product_id: row 3 \(loan_id 4\) refers to unknown "
        r"product_id 77 \(not in products\.parquet\)",
    ),
    "duplicate product": (
        _rewrite(products=lambda b: with_value(b.products, 1, "product_id", 1)),
        r"products\.parquet: column product_id: row 1 is a duplicate product_id \(1\)",
    ),
    "zero principal": (
        _rewrite(loans=lambda b: with_value(b.loans, 2, "principal_minor", 0)),
        r"loans\.parquet: column principal_minor: row 2 \(loan_id 3\) is 0; "
        r"expected a positive int of minor units",
    ),
    "negative instalment": (
        _rewrite(instalments=lambda b: with_value(b.instalments, 30, "interest_minor", -1)),
        r"instalments\.parquet: column interest_minor: row 30 \(loan_id 3\) is -1; "
        r"expected a non-negative int of minor units",
    ),
    "negative payment": (
        _rewrite(payments=lambda b: with_value(b.payments, 2, "amount_minor", -500)),
        r"payments\.parquet: column amount_minor: row 2 \(loan_id \d+\) is -500; "
        r"expected a positive int",
    ),
    "negative tolerance": (
        _rewrite(products=lambda b: with_value(b.products, 0, "tolerance_minor", -1)),
        r"products\.parquet: column tolerance_minor: row 0 is -1",
    ),
    "instalment of an unknown loan": (
        _rewrite(
            instalments=lambda b: pl.concat(
                [
                    b.instalments,
                    b.instalments.tail(1).with_columns(pl.lit(999, pl.Int64).alias("loan_id")),
                ]
            )
        ),
        r"instalments\.parquet: column loan_id: row 240 \(loan_id 999\) refers to unknown "
        r"loan_id 999 \(not in loans\.parquet\)",
    ),
    "instalment before the first loan": (
        _rewrite(
            instalments=lambda b: pl.concat(
                [
                    b.instalments.head(1).with_columns(pl.lit(0, pl.Int64).alias("loan_id")),
                    b.instalments,
                ]
            )
        ),
        r"instalments\.parquet: column loan_id: row 0 \(loan_id 0\) refers to unknown loan_id 0",
    ),
    "payment of an unknown loan": (
        _rewrite(payments=lambda b: b.payments.with_columns(pl.col("loan_id") + 1000)),
        r"payments\.parquet: column loan_id: row 0 \(loan_id 100\d\) refers to unknown",
    ),
    "duplicate instalment": (
        _rewrite(instalments=lambda b: with_value(b.instalments, 13, "seq", 1)),
        r"instalments\.parquet: column seq: row 13 \(loan_id 2\) is a duplicate instalment "
        r"\(loan_id 2, seq 1\)",
    ),
    "an instalment of a later chunk among an earlier one's": (
        # Loan 8's first instalment (row 84) moved between loans 2 and 3: each chunk's own
        # rows are still in order, but the file is not.
        _rewrite(
            instalments=lambda b: pl.concat(
                [b.instalments[:24], b.instalments[84:85], b.instalments[24:84], b.instalments[85:]]
            )
        ),
        r"instalments\.parquet: column loan_id: row 25 \(loan_id 3\) is out of order; "
        r"the file must be sorted by \(loan_id, seq\)",
    ),
    "unsorted payments": (
        _rewrite(
            payments=lambda b: with_value(
                b.payments, 1, "value_date", b.payments["value_date"][0] - timedelta(days=1)
            )
        ),
        r"payments\.parquet: column value_date: row 1 \(loan_id \d+\) is out of order; "
        r"the file must be sorted by \(loan_id, value_date, ref\)",
    ),
    "reversed before paid": (
        _rewrite(
            payments=lambda b: with_value(
                b.payments, 0, "reversed_on", b.payments["value_date"][0] - timedelta(days=1)
            )
        ),
        r"payments\.parquet: column reversed_on: row 0 \(loan_id \d+\) is \S+, before the "
        r"value date",
    ),
}


@pytest.mark.parametrize("reader", list(READERS))
@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_snapshot_is_refused_naming_file_column_and_row(
    base: Snapshot, tmp_path: Path, case: str, reader: str
) -> None:
    breaker, message = BROKEN[case]
    breaker(base, tmp_path)
    with pytest.raises(SnapshotError) as caught:
        READERS[reader](tmp_path)
    assert caught.value.code == "snapshot-invalid"
    assert str(caught.value).startswith(f"snapshot {tmp_path}: ")
    assert re.search(message, str(caught.value)), str(caught.value)


def test_the_base_snapshot_is_valid_for_both_readers(base: Snapshot, tmp_path: Path) -> None:
    """The broken cases above differ from this valid one only in what they break."""
    write_raw(tmp_path, frames_of(base))
    for reader in READERS.values():
        reader(tmp_path)
    assert base.loans.height == 20 and base.instalments.height == 240
    assert (
        base.payments.height > 2
        and base.payments["reversed_on"].null_count() == base.payments.height
    )
