"""Writing a snapshot: the data files in batches, then the manifest, last and atomically."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from arrears.engine.snapshot.format import (
    COLUMNS,
    DICTIONARY_COLUMNS,
    FORMAT,
    MANIFEST,
    SCHEMAS,
    TABLES,
    VERSION,
    file_name,
    sha256_of,
)


class SnapshotWriter:
    """Writes the data files of a snapshot (format version 2) in batches, then the manifest
    (last, atomically).

    ``row_group_rows`` set: rows are buffered into row groups of exactly that many rows (the
    last one of a file may be shorter); unset: each written batch is one row group. A writer
    that is closed after an exception leaves no manifest, so the directory reads as unfinished.
    """

    def __init__(
        self, directory: Path, *, row_group_rows: int | None = None, compression: str = "zstd"
    ) -> None:
        if row_group_rows is not None and row_group_rows < 1:
            raise ValueError("row_group_rows must be positive")
        self.directory = Path(directory)
        self.row_group_rows = row_group_rows
        self.compression = compression
        self.counts = dict.fromkeys(TABLES, 0)
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._pending: dict[str, list[pa.Table]] = {name: [] for name in TABLES}

    def __enter__(self) -> SnapshotWriter:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / MANIFEST).unlink(missing_ok=True)  # unfinished until rewritten
        for name in TABLES:
            self._writers[name] = pq.ParquetWriter(
                self.directory / file_name(name),
                SCHEMAS[name],
                compression=self.compression,
                use_dictionary=DICTIONARY_COLUMNS[name],
            )
        return self

    def write(self, name: str, table: pa.Table) -> None:
        """Append ``table`` (the file's columns, in its schema) to file ``name``."""
        if table.schema != SCHEMAS[name]:
            table = table.select([c.name for c in COLUMNS[name]]).cast(SCHEMAS[name])
        self.counts[name] += table.num_rows
        if self.row_group_rows is None:
            if table.num_rows:
                self._writers[name].write_table(table, row_group_size=table.num_rows)
            return
        pending = self._pending[name]
        pending.append(table)
        buffered = sum(t.num_rows for t in pending)
        if buffered < self.row_group_rows:
            return
        whole = pa.concat_tables(pending)
        start = 0
        while whole.num_rows - start >= self.row_group_rows:
            group = whole.slice(start, self.row_group_rows)
            self._writers[name].write_table(group, row_group_size=self.row_group_rows)
            start += self.row_group_rows
        self._pending[name] = [whole.slice(start)] if start < whole.num_rows else []

    def write_rows(self, name: str, rows: Sequence[Sequence[Any]]) -> None:
        """Append Python rows (tuples in the file's column order)."""
        columns: list[Sequence[Any]] = (
            list(zip(*rows, strict=True)) if rows else [() for _ in COLUMNS[name]]
        )
        arrays = [
            pa.array(values, type=column.type)
            for values, column in zip(columns, COLUMNS[name], strict=True)
        ]
        self.write(name, pa.Table.from_arrays(arrays, schema=SCHEMAS[name]))

    def _flush(self) -> None:
        for name, pending in self._pending.items():
            if pending:
                whole = pa.concat_tables(pending)
                if whole.num_rows:
                    self._writers[name].write_table(whole, row_group_size=whole.num_rows)
            self._pending[name] = []

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if kind is None:
                self._flush()
        finally:
            for writer in self._writers.values():
                writer.close()
        if kind is None:
            self._write_manifest()

    def _write_manifest(self) -> None:
        with ThreadPoolExecutor(max_workers=len(TABLES)) as pool:  # hashlib releases the GIL
            digests = list(pool.map(sha256_of, (self.directory / file_name(n) for n in TABLES)))
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "counts": dict(self.counts),
            "files": dict(zip((file_name(n) for n in TABLES), digests, strict=True)),
        }
        temporary = self.directory / f".{MANIFEST}.tmp"
        temporary.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, self.directory / MANIFEST)
