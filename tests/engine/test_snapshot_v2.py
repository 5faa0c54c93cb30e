"""Snapshot format version 2: waivers, plans and plan instalments read back, are replayed by the
kernel in the runner, a version 1 snapshot still reads (with no concessions), and each broken
concession file is refused naming the file, column and row — by both readers."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from arrears.engine.chunk import compute_chunk, kernel_chunk
from arrears.engine.runner import run_snapshot
from arrears.engine.snapshot import (
    SCHEMAS,
    Snapshot,
    SnapshotError,
    SnapshotWriter,
    empty_frame,
    iter_chunks,
    read_snapshot,
)
from tests.engine.conftest import AS_OF
from tests.engine.test_snapshot import READERS, frames_of, with_value, write_raw


def test_a_v2_snapshot_reads_back_and_the_runner_replays_its_concessions(
    base: Snapshot, tmp_path: Path
) -> None:
    directory = tmp_path / "v2"
    with SnapshotWriter(directory, row_group_rows=4) as writer:
        for name, frame in base.tables.items():
            writer.write(name, frame.to_arrow())
    assert json.loads((directory / "manifest.json").read_text())["version"] == 2
    read = read_snapshot(directory)
    for name, frame in base.tables.items():
        assert_frame_equal(read.tables[name], frame)
    chunks = list(iter_chunks(directory, 3))
    assert pl.concat([c.plans for c in chunks])["ref"].to_list() == ["PL-3", "PL-5"]

    out = tmp_path / "out"
    run_snapshot(directory, out, AS_OF, chunk_loans=3)
    results = pl.read_parquet(out / "loan_state.parquet")
    expected, errors = kernel_chunk(*base.frames, AS_OF, **base.concessions)
    assert len(errors) == 0
    assert_frame_equal(results, expected)
    bare, _ = compute_chunk(*base.frames, AS_OF)  # the same loans without their concessions
    differs = {
        row[0] for row, plain in zip(results.rows(), bare.rows(), strict=True) if row != plain
    }
    assert 2 in differs, differs  # its waivers count (the plans' effect: tests/daily)


def test_a_version_1_snapshot_still_reads_with_no_concessions(
    base: Snapshot, tmp_path: Path
) -> None:
    v1 = ("products", "loans", "instalments", "payments")
    write_raw(tmp_path, dict(zip(v1, base.frames, strict=True)))
    assert json.loads((tmp_path / "manifest.json").read_text())["version"] == 1
    for read in (read_snapshot(tmp_path), *iter_chunks(tmp_path, 7)):
        for name, frame in read.concessions.items():
            assert_frame_equal(frame, empty_frame(name))


Breaker = Callable[[Snapshot], dict[str, pl.DataFrame]]

BROKEN: dict[str, tuple[Breaker, str]] = {
    "missing concession file": (
        lambda b: {k: v for k, v in frames_of(b).items() if k != "plans"},
        r"plans\.parquet is missing$",
    ),
    "waiver of an unknown loan": (
        lambda b: frames_of(b, waivers=with_value(b.waivers, 3, "loan_id", 99)),
        r"waivers\.parquet: column loan_id: row 3 \(loan_id 99\) refers to unknown loan_id 99",
    ),
    "unsorted waivers": (
        lambda b: frames_of(
            b,
            waivers=with_value(
                b.waivers, 1, "effective_on", b.waivers["effective_on"][0] - timedelta(1)
            ),
        ),
        r"waivers\.parquet: column effective_on: row 1 \(loan_id 2\) is out of order; the file "
        r"must be sorted by \(loan_id, effective_on, ref\)",
    ),
    "duplicate waiver": (
        lambda b: frames_of(b, waivers=with_value(b.waivers, 1, "ref", "W-2a")),
        r"waivers\.parquet: column ref: row 1 \(loan_id 2\) is a duplicate waiver",
    ),
    "zero waiver": (
        lambda b: frames_of(b, waivers=with_value(b.waivers, 2, "amount_minor", 0)),
        r"waivers\.parquet: column amount_minor: row 2 \(loan_id 3\) is 0; expected a positive "
        r"int of minor units",
    ),
    "unknown component": (
        lambda b: frames_of(b, waivers=with_value(b.waivers, 0, "component", "fees")),
        r"waivers\.parquet: column component: row 0 \(loan_id 2\) is 'fees'; expected one of "
        r"penalty, compound, interest, principal",
    ),
    "null waiver date": (
        lambda b: frames_of(b, waivers=with_value(b.waivers, 3, "effective_on", None)),
        r"waivers\.parquet: column effective_on: row 3 \(loan_id 9\) is null",
    ),
    "plan of an unknown loan": (
        lambda b: frames_of(
            b,
            plans=with_value(b.plans, 1, "loan_id", 77),
            plan_instalments=with_value(b.plan_instalments, 2, "loan_id", 77),
        ),
        r"plans\.parquet: column loan_id: row 1 \(loan_id 77\) refers to unknown loan_id 77",
    ),
    "unsorted plans": (
        lambda b: frames_of(b, plans=with_value(b.plans, 1, "loan_id", 1)),
        r"plans\.parquet: column loan_id: row 1 \(loan_id 1\) is out of order",
    ),
    "negative grace": (
        lambda b: frames_of(b, plans=with_value(b.plans, 0, "grace_days", -1)),
        r"plans\.parquet: column grace_days: row 0 \(loan_id 3\) is -1; expected a "
        r"non-negative int$",
    ),
    "negative plan tolerance": (
        lambda b: frames_of(b, plans=with_value(b.plans, 1, "tolerance_minor", -5)),
        r"plans\.parquet: column tolerance_minor: row 1 \(loan_id 5\) is -5",
    ),
    "instalment of an unknown plan": (
        lambda b: frames_of(b, plan_instalments=with_value(b.plan_instalments, 2, "plan_id", 13)),
        r"plan_instalments\.parquet: column plan_id: row 2 \(loan_id 5\) refers to unknown "
        r"plan_id 13 of loan_id 5 \(not in plans\.parquet\)",
    ),
    "instalment of another loan's plan": (
        lambda b: frames_of(b, plan_instalments=with_value(b.plan_instalments, 2, "plan_id", 11)),
        r"plan_instalments\.parquet: column plan_id: row 2 \(loan_id 5\) refers to unknown "
        r"plan_id 11 of loan_id 5",
    ),
    "duplicate plan instalment": (
        lambda b: frames_of(b, plan_instalments=with_value(b.plan_instalments, 1, "seq", 1)),
        r"plan_instalments\.parquet: column seq: row 1 \(loan_id 3\) is a duplicate plan "
        r"instalment \(loan_id 3, plan_id 11, seq 1\)",
    ),
    "zero plan instalment": (
        lambda b: frames_of(
            b, plan_instalments=with_value(b.plan_instalments, 0, "amount_minor", 0)
        ),
        r"plan_instalments\.parquet: column amount_minor: row 0 \(loan_id 3\) is 0",
    ),
    "float plan amount": (
        lambda b: frames_of(
            b,
            plan_instalments=b.plan_instalments.with_columns(pl.col("amount_minor") / 100),
        ),
        r"plan_instalments\.parquet: column amount_minor has type double; expected int64",
    ),
}


@pytest.mark.parametrize("reader", list(READERS))
@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_concession_file_is_refused_naming_file_column_and_row(
    base: Snapshot, tmp_path: Path, case: str, reader: str
) -> None:
    breaker, message = BROKEN[case]
    write_raw(tmp_path, breaker(base))  # version 2: the waivers file is there
    with pytest.raises(SnapshotError) as caught:
        READERS[reader](tmp_path)
    assert caught.value.code == "snapshot-invalid"
    assert re.search(message, str(caught.value)), str(caught.value)


def test_the_base_is_valid_for_both_readers(base: Snapshot, tmp_path: Path) -> None:
    write_raw(tmp_path, frames_of(base))
    for reader in READERS.values():
        reader(tmp_path)


def test_an_empty_concession_frame_has_its_schema_and_needs_no_pandas() -> None:
    """``empty_frame`` gives each table's declared columns and types, and does not import
    pandas (``Schema.empty_table()`` would: about 0.3 CPU-s in every day run's process)."""
    for name, schema in SCHEMAS.items():
        frame = empty_frame(name)
        assert frame.height == 0 and frame.to_arrow().schema.names == schema.names
        assert frame.schema == pl.from_arrow(schema.empty_table()).schema  # type: ignore[union-attr]
    probe = "import sys; from arrears.engine.snapshot import empty_frame as e; e('plans'); "
    probe += "print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
