"""Fixtures shared by the engine's tests."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from arrears.engine.snapshot import Snapshot, empty_frame, read_snapshot
from arrears.engine.synthetic import write_synthetic_snapshot

#: The as-of date of the concession book (:func:`base`).
AS_OF = date(2026, 6, 30)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    """20 synthetic loans with concessions on loans 2, 3, 5 and 9."""
    directory = tmp_path_factory.mktemp("base")
    write_synthetic_snapshot(directory, loans=20, as_of=AS_OF, seed=5, rows_per_group=32)
    plain = read_snapshot(directory)
    first_due = plain.instalments.group_by("loan_id").agg(pl.col("due_date").min())
    due = dict(first_due.iter_rows())
    waivers = pl.DataFrame(
        [
            (2, "W-2a", due[2] + timedelta(days=20), "penalty", 500, None),
            (2, "W-2b", due[2] + timedelta(days=20), "interest", 700, None),
            (3, "W-3", due[3] + timedelta(days=40), "principal", 20_000, due[3] + timedelta(60)),
            (9, "W-9", due[9] + timedelta(days=3), "compound", 10, None),
        ],
        schema=empty_frame("waivers").schema,
        orient="row",
    )
    plans = pl.DataFrame(
        [
            (3, 11, "PL-3", due[3] + timedelta(days=10), 3, 0, False),
            (5, 12, "PL-5", due[5] + timedelta(days=15), 0, 100, True),
        ],
        schema=empty_frame("plans").schema,
        orient="row",
    )
    plan_instalments = pl.DataFrame(
        [
            (3, 11, 1, due[3] + timedelta(days=20), 30_000),
            (3, 11, 2, due[3] + timedelta(days=50), 30_000),
            (5, 12, 1, due[5] + timedelta(days=25), 90_000),
        ],
        schema=empty_frame("plan_instalments").schema,
        orient="row",
    )
    return Snapshot(*plain.frames, waivers, plans, plan_instalments)
