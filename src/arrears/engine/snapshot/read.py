"""Reading a snapshot: the files, the manifest and the schema, then the rows through
:mod:`.validate` — a whole snapshot (:func:`read_snapshot`) or one range of loans at a time
(:func:`iter_chunks`), with the same checks and the same messages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from arrears.engine.snapshot.format import (
    COLUMNS,
    CONCESSION_TABLES,
    FORMAT,
    INSTALMENTS,
    LOANS,
    MANIFEST,
    PAYMENTS,
    PLAN_INSTALMENTS,
    PLANS,
    PRODUCTS,
    TABLES_OF_VERSION,
    WAIVERS,
    Snapshot,
    SnapshotError,
    describe,
    empty_frame,
    file_name,
    sha256_of,
)
from arrears.engine.snapshot.validate import (
    ROW,
    check_children,
    check_concessions,
    check_loans,
    check_products,
    order_problem,
)

POLARS_TYPES: dict[str, pl.DataType] = {
    "int64": pl.Int64(),
    "int32": pl.Int32(),
    "string": pl.String(),
    "bool": pl.Boolean(),
    "date32[day]": pl.Date(),
    "decimal128(12, 6)": pl.Decimal(12, 6),
    "decimal128(20, 12)": pl.Decimal(20, 12),
}


class _Reader:
    """The file-level checks shared by :func:`read_snapshot` and :func:`iter_chunks`."""

    def __init__(self, directory: Path, *, verify_checksums: bool = True) -> None:
        self.directory = Path(directory)
        self.manifest = self._manifest()
        self.tables = TABLES_OF_VERSION[self.manifest["version"]]
        self.types: dict[str, dict[str, pa.DataType]] = {}
        for name in self.tables:
            path = self.path(name)
            if not path.is_file():
                self.fail(f"{file_name(name)} is missing")
            self.types[name] = self._check_schema(name)
            self._check_count(name)
            if verify_checksums:
                self._check_checksum(name)

    def path(self, name: str) -> Path:
        return self.directory / file_name(name)

    def fail(self, message: str) -> NoReturn:
        raise SnapshotError(f"snapshot {self.directory}: {message}")

    def _manifest(self) -> dict[str, Any]:
        if not self.directory.is_dir():
            self.fail("is not a directory")
        path = self.directory / MANIFEST
        if not path.is_file():
            self.fail(f"{MANIFEST} is missing: the export did not finish, or this is no snapshot")
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            self.fail(f"{MANIFEST} is not valid JSON ({error})")
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            self.fail(f'{MANIFEST}: "format" must be "{FORMAT}"')
        version = manifest.get("version")
        if type(version) is not int or version not in TABLES_OF_VERSION:
            supported = " or ".join(str(v) for v in TABLES_OF_VERSION)
            self.fail(f'{MANIFEST}: "version" {version!r} is not supported (expected {supported})')
        for key in ("counts", "files"):
            if not isinstance(manifest.get(key), dict):
                self.fail(f'{MANIFEST}: "{key}" must be an object')
        return dict(manifest)

    def _check_schema(self, name: str) -> dict[str, pa.DataType]:
        try:
            schema = pq.read_schema(self.path(name))
        except (pa.ArrowException, OSError) as error:
            self.fail(f"{file_name(name)} is not a readable Parquet file ({error})")
        found: dict[str, pa.DataType] = {}
        for column in COLUMNS[name]:
            index = schema.get_field_index(column.name)
            if index < 0:
                self.fail(
                    f"{file_name(name)}: column {column.name} is missing "
                    f"(expected {describe(column)})"
                )
            actual = schema.field(index).type
            if not _accepts(column.type, actual):
                self.fail(
                    f"{file_name(name)}: column {column.name} has type {actual}; expected "
                    f"{describe(column)}"
                )
            found[column.name] = actual
        return found

    def _check_count(self, name: str) -> None:
        expected = self.manifest["counts"].get(name)
        actual = pq.ParquetFile(self.path(name)).metadata.num_rows
        if expected != actual:
            self.fail(f"{file_name(name)} has {actual} rows but {MANIFEST} counts {expected!r}")

    def _check_checksum(self, name: str) -> None:
        expected = self.manifest["files"].get(file_name(name))
        actual = sha256_of(self.path(name))
        if expected != actual:
            self.fail(
                f"{file_name(name)}: checksum mismatch (sha256 {actual}, {MANIFEST} says "
                f"{expected}): the file changed or was truncated after export"
            )

    def scan(self, name: str, low: int | None = None, high: int | None = None) -> pl.DataFrame:
        """The file's columns (widened to the format's types) with a ``__row`` index; only the
        rows with ``low <= loan_id < high`` when bounds are given."""
        names = [c.name for c in COLUMNS[name]]
        frame = pl.scan_parquet(self.path(name), row_index_name=ROW).select(ROW, *names)
        if low is not None:
            frame = frame.filter(pl.col("loan_id") >= low)
        if high is not None:
            frame = frame.filter(pl.col("loan_id") < high)
        collected = frame.collect()
        casts = [
            pl.col(c.name).cast(POLARS_TYPES[str(c.type)])
            for c in COLUMNS[name]
            if collected.schema[c.name] != POLARS_TYPES[str(c.type)]
        ]
        return collected.with_columns(casts) if casts else collected

    def concessions(
        self, loan_ids: pl.Series, low: int | None = None, high: int | None = None
    ) -> dict[str, pl.DataFrame]:
        """The concession frames (validated, without ``__row``) of the loans in range; empty
        frames for a version 1 snapshot, which has none."""
        if WAIVERS not in self.tables:
            return {name: empty_frame(name) for name in CONCESSION_TABLES}
        frames = {name: self.scan(name, low, high) for name in CONCESSION_TABLES}
        check_concessions(self, frames[WAIVERS], frames[PLANS], frames[PLAN_INSTALMENTS], loan_ids)
        return {name: frame.drop(ROW) for name, frame in frames.items()}


def _accepts(expected: pa.DataType, actual: pa.DataType) -> bool:
    """Whether ``actual`` widens to ``expected`` without losing or inventing a digit."""
    if actual == expected:
        return True
    if pa.types.is_dictionary(actual):
        return bool(pa.types.is_string(expected) and _accepts(expected, actual.value_type))
    if pa.types.is_integer(expected):
        return bool(pa.types.is_signed_integer(actual) and actual.bit_width <= expected.bit_width)
    if pa.types.is_string(expected):
        return bool(
            pa.types.is_string(actual)
            or pa.types.is_large_string(actual)
            or pa.types.is_string_view(actual)
        )
    if pa.types.is_decimal(expected):
        return bool(
            pa.types.is_decimal(actual)
            and 0 <= actual.scale <= expected.scale
            and actual.precision - actual.scale <= expected.precision - expected.scale
        )
    return False


def read_snapshot(directory: Path, *, verify_checksums: bool = True) -> Snapshot:
    """The whole snapshot in ``directory``, validated (see the module docstring for every
    check); raises :class:`SnapshotError` at the first problem."""
    reader = _Reader(directory, verify_checksums=verify_checksums)
    products = reader.scan(PRODUCTS)
    check_products(reader, products)
    loans = reader.scan(LOANS)
    check_loans(reader, loans, products)
    instalments = reader.scan(INSTALMENTS)
    payments = reader.scan(PAYMENTS)
    check_children(reader, instalments, payments, loans["loan_id"])
    concessions = reader.concessions(loans["loan_id"])
    return Snapshot(
        products.drop(ROW),
        loans.drop(ROW),
        instalments.drop(ROW),
        payments.drop(ROW),
        **concessions,
    )


def _chunk_starts(reader: _Reader, chunk_loans: int) -> list[int]:
    """The first loan_id of every chunk, streaming only the loan_id column (memory: one record
    batch plus one id per chunk); also proves loan_id is unique and ascending file-wide."""
    starts: list[int] = []
    previous: int | None = None
    row = 0
    source = pq.ParquetFile(reader.path(LOANS))
    for batch in source.iter_batches(batch_size=1 << 16, columns=["loan_id"]):
        ids = batch.column(0)
        if ids.null_count:
            at = row + next(i for i, v in enumerate(ids.is_valid().to_pylist()) if not v)
            reader.fail(f"{file_name(LOANS)}: column loan_id: row {at} is null")
        values = ids.to_numpy(zero_copy_only=False).astype("int64", copy=False)
        if len(values) == 0:
            continue
        bad = np.flatnonzero(values[1:] <= values[:-1])
        problem: int | None = None
        if previous is not None and values[0] <= previous:
            problem = 0
        elif len(bad):
            problem = int(bad[0]) + 1
        if problem is not None:
            before = previous if problem == 0 else int(values[problem - 1])
            value = int(values[problem])
            reader.fail(
                order_problem(
                    LOANS,
                    f"row {row + problem} (loan_id {value})",
                    ["loan_id"],
                    {"loan_id": value},
                    {"loan_id": before},
                    "loan_id",
                )
            )
        first_index = (-row) % chunk_loans
        starts.extend(int(v) for v in values[first_index::chunk_loans])
        previous = int(values[-1])
        row += len(values)
    return starts


def iter_chunks(
    snapshot_dir: Path, chunk_loans: int, *, verify_checksums: bool = True
) -> Iterator[Snapshot]:
    """Sub-snapshots of at most ``chunk_loans`` loans each, in loan_id order, each with its
    loans' instalments and payments and every product.

    Each chunk is one lazy Parquet scan per file (the concession files too, for version 2)
    filtered on a loan_id range, which row-group
    statistics turn into reading only the row groups that hold the range; the chunks' ranges
    cover every loan_id, so every instalment and payment row is validated exactly once.
    """
    if chunk_loans < 1:
        raise ValueError("chunk_loans must be positive")
    reader = _Reader(snapshot_dir, verify_checksums=verify_checksums)
    products = reader.scan(PRODUCTS)
    check_products(reader, products)
    starts = _chunk_starts(reader, chunk_loans)
    if not starts:  # no loans: every instalment or payment is an orphan
        check_children(
            reader,
            reader.scan(INSTALMENTS),
            reader.scan(PAYMENTS),
            pl.Series("loan_id", [], dtype=pl.Int64),
        )
        reader.concessions(pl.Series("loan_id", [], dtype=pl.Int64))
        return
    products = products.drop(ROW)
    for index, start in enumerate(starts):
        low = None if index == 0 else start
        high = starts[index + 1] if index + 1 < len(starts) else None
        loans = reader.scan(LOANS, low, high)
        check_loans(reader, loans, products, ordered=False)  # order checked by _chunk_starts
        instalments = reader.scan(INSTALMENTS, low, high)
        payments = reader.scan(PAYMENTS, low, high)
        check_children(reader, instalments, payments, loans["loan_id"])
        concessions = reader.concessions(loans["loan_id"], low, high)
        yield Snapshot(
            products, loans.drop(ROW), instalments.drop(ROW), payments.drop(ROW), **concessions
        )
