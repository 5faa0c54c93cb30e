"""Reading a snapshot: the files, the manifest and the schema, then the rows through
:mod:`.validate` — a whole snapshot (:func:`read_snapshot`) or one range of loans at a time
(:func:`iter_chunks`), with the same checks and the same messages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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
    check_after,
    check_children,
    check_concessions,
    check_loans,
    check_products,
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
        self.digests: dict[str, Future[str]] = {}
        self.types: dict[str, dict[str, pa.DataType]] = {}
        # The files are hashed two at a time in the background (hashlib lets go of the GIL)
        # while the schemas are read; the checks still fail in file order.
        with ThreadPoolExecutor(2 if verify_checksums else 1) as hashing:
            self.digests |= {
                name: hashing.submit(sha256_of, self.path(name))
                for name in self.tables
                if verify_checksums and self.path(name).is_file()
            }
            try:
                for name in self.tables:
                    path = self.path(name)
                    if not path.is_file():
                        self.fail(f"{file_name(name)} is missing")
                    self.types[name] = self._check_schema(name)
                    self._check_count(name)
                    if verify_checksums:
                        self._check_checksum(name)
            finally:
                for digest in self.digests.values():
                    digest.cancel()

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
        actual = self.digests[name].result()
        if expected != actual:
            self.fail(
                f"{file_name(name)}: checksum mismatch (sha256 {actual}, {MANIFEST} says "
                f"{expected}): the file changed or was truncated after export"
            )

    def scan(
        self,
        name: str,
        low: int | None = None,
        high: int | None = None,
        *,
        rows: tuple[int, int] | None = None,
        rechunk: bool = True,
    ) -> pl.DataFrame:
        """The file's columns (widened to the format's types) with a ``__row`` index; only the
        rows with ``low <= loan_id < high`` when bounds are given, and only ``rows`` (offset,
        length) of the file when given."""
        names = [c.name for c in COLUMNS[name]]
        frame = pl.scan_parquet(self.path(name), row_index_name=ROW).select(ROW, *names)
        if rows is not None:
            frame = frame.slice(*rows)
        if low is not None:
            frame = frame.filter(pl.col("loan_id") >= low)
        if high is not None:
            frame = frame.filter(pl.col("loan_id") < high)
        # One contiguous buffer per column (a scan returns hundreds of pieces): every check
        # and the replay then read the columns as NumPy arrays without another copy.
        collected = frame.collect()
        if rechunk:
            collected = collected.rechunk()
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


class _FileInOrder:
    """One child file (instalments or payments) read front to back, chunk after chunk: each
    row group is decoded once, and the rows after a chunk's last loan wait for the next chunk.

    ``take(last)`` reads whole row groups until it holds a row with a loan_id above ``last``
    (or the file ends), and returns the rows before the first such row; the rest are carried.
    In a file sorted by loan_id those are exactly the rows of loans up to ``last``; in one
    that is not, a smaller loan_id after the split is out of order in the next chunk (whose
    first row is greater), and the pair across a split is checked here — so every adjacent
    pair of rows of the file is compared once, as a whole-file read compares them."""

    def __init__(self, reader: _Reader, name: str, keys: list[str], what: str) -> None:
        self.reader, self.name, self.keys, self.what = reader, name, keys, what
        metadata = pq.ParquetFile(reader.path(name)).metadata
        self.bounds = np.cumsum(
            [0] + [metadata.row_group(g).num_rows for g in range(metadata.num_row_groups)]
        )
        self.group = 0
        self.held: list[pl.DataFrame] = []
        self.previous: dict[str, Any] | None = None  # the last row handed out

    def _read_group(self) -> pl.DataFrame:
        start, end = int(self.bounds[self.group]), int(self.bounds[self.group + 1])
        self.group += 1
        return self.reader.scan(self.name, rows=(start, end - start), rechunk=False)

    def take(self, last: int | None) -> pl.DataFrame:
        """The next rows up to loan ``last`` (every remaining row when None), with contiguous
        columns."""
        groups = len(self.bounds) - 1
        while self.group < groups and (last is None or not self._beyond(last)):
            group = self._read_group()
            if group.height:
                self.held.append(group)
        held = pl.concat(self.held) if self.held else self.reader.scan(self.name, rows=(0, 0))
        split = held.height
        if last is not None:
            above = (held["loan_id"] > last).fill_null(False).to_numpy()
            if above.any():
                split = int(np.argmax(above))
        rows, rest = held.slice(0, split), held.slice(split)
        # Contiguous numbers and dates, which the checks and the replay read as NumPy arrays;
        # strings and the row index are only looked at on a tie or a failure.
        rows = rows.with_columns(
            rows[name].rechunk()
            for name, dtype in rows.schema.items()
            if name != ROW and dtype != pl.String
        )
        self.held = [rest] if rest.height else []
        return rows

    def _beyond(self, last: int) -> bool:
        """Whether the rows held end with a loan after ``last`` (a null loan_id does not: it
        is reported by the chunk that gets it)."""
        if not self.held:
            return False
        final = self.held[-1]["loan_id"][-1]
        return final is not None and final > last

    def follows(self, rows: pl.DataFrame) -> None:
        """Check that ``rows`` (taken, then checked within themselves) come after the rows
        handed out before them, and remember their last row for the next chunk."""
        if rows.height:
            check_after(self.reader, self.name, rows, self.previous, self.keys, self.what)
            self.previous = rows.row(rows.height - 1, named=True)


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


def iter_chunks(
    snapshot_dir: Path, chunk_loans: int, *, verify_checksums: bool = True
) -> Iterator[Snapshot]:
    """Sub-snapshots of at most ``chunk_loans`` loans each, in loan_id order, each with its
    loans' instalments and payments and every product.

    A chunk's loans are the next ``chunk_loans`` rows of the loans file (a slice, which reads
    only the row groups that hold it); its instalments and payments are the next rows of their
    files up to the chunk's last loan (:class:`_FileInOrder`: each row group is decoded once,
    the rows of later loans wait for the next chunk). Every file is read once and every row
    validated once, in the read that decodes it; each chunk's first rows are compared with the
    previous chunk's last, so the files' order is proved whole, as :func:`read_snapshot` does.
    A version 2 snapshot's concession files (small) are read per chunk with a loan_id range
    filter covering the chunk's loans (after the previous chunk's last loan, up to this one's
    last), so every row is read and validated once, in order within its chunk.
    """
    if chunk_loans < 1:
        raise ValueError("chunk_loans must be positive")
    reader = _Reader(snapshot_dir, verify_checksums=verify_checksums)
    products = reader.scan(PRODUCTS)
    check_products(reader, products)
    total = reader.manifest["counts"][LOANS]  # the file's row count (checked by _Reader)
    if total == 0:  # no loans: every instalment or payment is an orphan
        check_children(
            reader,
            reader.scan(INSTALMENTS),
            reader.scan(PAYMENTS),
            pl.Series("loan_id", [], dtype=pl.Int64),
        )
        reader.concessions(pl.Series("loan_id", [], dtype=pl.Int64))
        return
    products = products.drop(ROW)
    children = [
        _FileInOrder(reader, INSTALMENTS, ["loan_id", "seq"], "instalment"),
        _FileInOrder(reader, PAYMENTS, ["loan_id", "value_date", "ref"], "payment"),
    ]
    last: int | None = None  # the last loan_id read so far
    for offset in range(0, total, chunk_loans):
        loans = reader.scan(LOANS, rows=(offset, chunk_loans))
        check_loans(reader, loans, products, after=last)
        before = last  # the previous chunk's last loan_id
        last = int(loans["loan_id"][-1])
        final = offset + chunk_loans >= total
        instalments, payments = (file.take(None if final else last) for file in children)
        check_children(reader, instalments, payments, loans["loan_id"])
        for file, rows in zip(children, (instalments, payments), strict=True):
            file.follows(rows)
        low = None if before is None else before + 1
        high = None if final else last + 1
        concessions = reader.concessions(loans["loan_id"], low, high)
        chunk = Snapshot(
            products, loans.drop(ROW), instalments.drop(ROW), payments.drop(ROW), **concessions
        )
        # (held while the generator is suspended, they would outlive the chunk)
        del loans, instalments, payments, concessions
        yield chunk
        del chunk
