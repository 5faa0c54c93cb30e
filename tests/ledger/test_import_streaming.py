"""A file is read a block at a time at every pass, never held whole: the frames an import
handles are no larger than a chunk, and a file read in blocks gives the same rows, values,
errors and row numbers as one read whole."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from arrears.ledger import models
from arrears.ledger.importers import ImportRejected, bounds, import_file, pipeline, reading
from arrears.ledger.importers.reading import Table, read_table
from tests.ledger.test_import import loan_row, product, write_csv  # noqa: F401

pytestmark = pytest.mark.django_db

ROWS = 40
CHUNK = 7


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", CHUNK)
    monkeypatch.setattr(bounds, "BOUNDS_ROWS", CHUNK)
    monkeypatch.setattr(reading, "LARGEST_FRAME", CHUNK)
    monkeypatch.setattr(reading, "BLOCK_BYTES", 256)  # a row is ~150 bytes


def test_no_pass_over_a_file_holds_more_rows_than_a_chunk(
    tmp_path: Path, small_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every frame a pass handles (bounds, repeated references, validation) has at most a
    chunk of rows, and every block Polars parses a few rows: the file is never parsed whole."""
    handled: list[int] = []
    parsed: list[int] = []
    frames, read_csv = Table.frames, reading.pl.read_csv

    def counted_frames(self: Table, size: int) -> Iterator[pl.DataFrame]:
        for frame in frames(self, size):
            handled.append(frame.height)
            yield frame

    def counted_read_csv(*args: object, **kwargs: object) -> pl.DataFrame:
        frame = read_csv(*args, **kwargs)  # type: ignore[arg-type]
        parsed.append(frame.height)
        return frame

    monkeypatch.setattr(Table, "frames", counted_frames)
    monkeypatch.setattr(reading.pl, "read_csv", counted_read_csv)
    result = import_file("loans", write_csv(tmp_path / "l.csv", [loan_row(n) for n in range(ROWS)]))
    assert result.applied == ROWS
    assert models.Loan.objects.count() == ROWS
    assert max(handled) == CHUNK
    assert sum(handled) >= 3 * ROWS  # the bounds, the repeated references, the chunks
    assert max(parsed) <= 3
    assert sum(parsed) >= 3 * ROWS


def test_a_file_read_in_blocks_is_refused_with_the_same_rows_and_fields(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [loan_row(n) for n in range(ROWS)]
    rows[3]["principal"] = "12x"
    rows[17]["national_id"] = "1"
    rows[17]["loan_ref"] = rows[2]["loan_ref"]
    rows[39]["start_date"] = "2026-02-30"
    path = write_csv(tmp_path / "l.csv", rows)
    with pytest.raises(ImportRejected) as whole:
        import_file("loans", path)
    for name, value in (
        ("CHUNK_ROWS", CHUNK), ("BOUNDS_ROWS", CHUNK), ("LARGEST_FRAME", CHUNK),
        ("BLOCK_BYTES", 100),
    ):  # fmt: skip
        module = reading if name in {"LARGEST_FRAME", "BLOCK_BYTES"} else pipeline
        module = bounds if name == "BOUNDS_ROWS" else module
        monkeypatch.setattr(module, name, value)
    with pytest.raises(ImportRejected) as blocks:
        import_file("loans", path)
    lines = [str(e) for e in blocks.value.errors]
    assert lines == [str(e) for e in whole.value.errors]
    assert [line.split(",")[0] for line in lines] == ["row 5", "row 19", "row 19", "row 41"]
    assert models.Loan.objects.count() == 0


def test_a_block_ends_only_at_a_row_end_outside_quotes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quoted value holding line breaks and quotes is one value, however small the blocks."""
    path = tmp_path / "f.csv"
    path.write_text(
        'loan_ref,postal_address\r\nA1,"1 Road\nFlat ""2""\r\nTown"\nA2,  plain  \n"A3",\n',
        encoding="utf-8",
    )
    whole = pl.read_csv(path, infer_schema=False).fill_null("")
    for size in (1, 2, 5, 11, 1 << 20):
        monkeypatch.setattr(reading, "BLOCK_BYTES", size)
        table = read_table(path, required=["loan_ref"], optional=["postal_address"])
        assert table.row_count == 3
        values = [row for _, row in table.numbered()]
        assert values == [
            {"loan_ref": "A1", "postal_address": whole[0, "postal_address"].strip()},
            {"loan_ref": "A2", "postal_address": "plain"},
            {"loan_ref": "A3", "postal_address": ""},
        ]
        assert 'Flat "2"' in values[0]["postal_address"]
