"""Roll rates over the snapshot runners' output (issue 15, item 2: "over snapshots for books too
large for the database"): ``ARREARS_REPORT_STATES`` naming a ``run-day --snapshot`` output gives
the same matrix as the database path; Spark's Hive-partitioned layout reads the same."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from django.core.management import call_command
from django.utils import translation

from arrears.reports.library import roll_rates
from arrears.reports.snapshots import ROLL_COLUMNS, month_end_states
from tests.reports.test_ledger_states import recorded_book
from tests.reports.test_roll_rates import MONTH_ENDS, PERIOD


def _tables(result: object) -> dict[str, object]:
    return {table.key: table.rows for table in result.tables}  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_the_matrix_from_a_snapshot_output_equals_the_database_path(
    settings, tmp_path: Path
) -> None:
    recorded_book(14)
    with translation.override("en"):
        from_database = roll_rates.compute(PERIOD)
    call_command("snapshot", "export", str(tmp_path / "snap"), stdout=io.StringIO())
    out = tmp_path / "runs"
    for day in MONTH_ENDS[:-1]:  # the last month end is not in the output: read from the db
        call_command(
            "run-day",
            "--as-of",
            day.isoformat(),
            "--snapshot",
            str(tmp_path / "snap"),
            "--out",
            str(out / day.isoformat()),
            stdout=io.StringIO(),
        )
    settings.ARREARS_REPORT_STATES = str(out)
    with translation.override("en"):
        from_snapshots = roll_rates.compute(PERIOD)
    assert _tables(from_snapshots) == _tables(from_database)
    held = month_end_states(out, MONTH_ENDS)
    assert sorted(set(held["as_of"].to_list())) == list(MONTH_ENDS[:-1])
    with translation.override("en"):
        notes = " ".join(str(note) for note in from_snapshots.notes)
    assert f"{len(held)} loan states read as stored" in notes


def test_spark_partitions_and_local_files_read_the_same_and_errors_are_skipped(
    tmp_path: Path,
) -> None:
    days = [date(2026, 4, 30), date(2026, 5, 31)]
    frame = pl.DataFrame(
        {
            "as_of": [days[0], days[0], days[1], days[1]],
            "loan_id": [2, 1, 1, 2],
            "bucket": ["M1", "M0", "M0", "M2"],
            "payoff": [500, 0, 0, 700],
        },
        schema={"as_of": pl.Date, "loan_id": pl.Int64, "bucket": pl.String, "payoff": pl.Int64},
    )
    spark = tmp_path / "spark"
    for (day, bucket), part in frame.group_by(["as_of", "bucket"]):
        folder = spark / "loan_state" / f"as_of={day}" / f"bucket={bucket}"
        folder.mkdir(parents=True)
        part.drop("as_of", "bucket").write_parquet(folder / "part-00000.snappy.parquet")
    (spark / "errors" / "code=x").mkdir(parents=True)
    pl.DataFrame({"loan_id": [9], "ref": ["E"], "message": ["m"]}).write_parquet(
        spark / "errors" / "code=x" / "part-0.parquet"
    )
    local = tmp_path / "local"
    for day in days:
        (local / str(day)).mkdir(parents=True)
        frame.filter(pl.col("as_of") == day).write_parquet(local / str(day) / "loan_state.parquet")
    (local / "errors.parquet").write_bytes(b"not read")
    (local / ".loan_state.parquet.partial").write_bytes(b"not read either")
    expected = frame.sort("as_of", "loan_id").select(ROLL_COLUMNS)

    def read(root: Path, wanted: list[date]) -> pl.DataFrame:
        return month_end_states(root, wanted).sort("as_of", "loan_id")

    assert read(spark, days).equals(expected)
    assert read(local, days).equals(expected)
    assert read(local, days[:1]).equals(expected.filter(pl.col("as_of") == days[0]))
    empty = month_end_states(tmp_path / "nothing", days)
    assert empty.is_empty() and empty.columns == list(ROLL_COLUMNS)
