"""Reading: a CSV or Parquet file → a :class:`Table` of text rows with their row numbers.

Nothing is interpreted here beyond the file's structure (format, column names, floats in
Parquet): every value stays text so that validation sees exactly what the lender wrote, leading
zeros and ``1e3`` included, and can name the row and field of each problem.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from arrears.ledger.importers.errors import ImportRejected, RowError, file_error, first_line

FIRST_DATA_ROW = 2  # row 1 is the header


#: Bytes of a CSV parsed at a time (each block ends at a row's end): with the chunk of rows
#: being validated, what bounds an import's memory, whatever the file's size.
BLOCK_BYTES = 4 << 20

#: A file's frames, in order: a new iterator each call (each pass re-reads the file).
Blocks = Callable[[], Iterator[pl.DataFrame]]


@dataclass(frozen=True, slots=True)
class Table:
    """A file read as text: every value a stripped ``str`` (empty when missing).

    A file read by :func:`read_table` is not held: ``blocks`` reads it again at each pass,
    a block of text columns at a time, so the memory of an import grows with its chunk
    (:meth:`frames`, :meth:`chunks`), not with the file (a file of one block is kept from
    its first pass: it is no more than a pass holds). A table built from ``rows`` (tests,
    a subset of a file) has them as given, one built from a ``frame`` has that frame;
    ``first_row`` is the spreadsheet number of its first row."""

    file_name: str
    sha256: str
    rows: tuple[dict[str, str], ...] = ()
    #: The values as one frame of text columns (named as in the file's header, stripped,
    #: nulls as ``""``): a chunk of a file.
    frame: pl.DataFrame | None = None
    first_row: int = FIRST_DATA_ROW
    #: A file's frames (:data:`Blocks`), its number of rows and its columns.
    blocks: Blocks | None = None
    height: int = 0
    columns: tuple[str, ...] = ()

    @property
    def row_count(self) -> int:
        if self.blocks is not None:
            return self.height
        return len(self.rows) if self.rows or self.frame is None else self.frame.height

    @property
    def column_names(self) -> tuple[str, ...]:
        if self.blocks is not None:
            return self.columns
        if self.frame is not None and not self.rows:
            return tuple(self.frame.columns)
        return tuple(self.rows[0]) if self.rows else ()

    def numbered(self) -> Iterator[tuple[int, dict[str, str]]]:
        """Each row with the number a spreadsheet shows for it (the header is row 1)."""
        if self.rows or (self.frame is None and self.blocks is None):
            return enumerate(self.rows, start=self.first_row)
        return enumerate(
            (row for frame in self.frames(LARGEST_FRAME) for row in frame.iter_rows(named=True)),
            start=self.first_row,
        )

    def frames(self, size: int) -> Iterator[pl.DataFrame]:
        """The table's values ``size`` rows at a time (the last frame may be shorter), for a
        table read from a file or built from a frame. A file's blocks are cut or joined to
        ``size`` rows, so no frame holds more than ``size`` rows."""
        if self.blocks is None:
            frame = self.frame if self.frame is not None else pl.DataFrame()
            for start in range(0, frame.height, size):
                yield frame.slice(start, size)
            return
        waiting: list[pl.DataFrame] = []
        held = seen = 0
        for block in self.blocks():
            seen += block.height
            waiting.append(block)
            held += block.height
            while held >= size:
                joined = pl.concat(waiting) if len(waiting) > 1 else waiting[0]
                yield joined.slice(0, size)
                rest = joined.slice(size)
                waiting, held = ([rest] if rest.height else []), rest.height
        if held:
            yield pl.concat(waiting) if len(waiting) > 1 else waiting[0]
        if seen != self.height:  # the count and the blocks read the file apart: never yet seen
            raise file_error(
                f"{self.file_name} changed while it was read ({self.height} rows, then {seen})"
            )

    def chunks(self, size: int) -> Iterator[Table]:
        """The table ``size`` rows at a time, each a table numbered as in the file (a frame, for
        a table read from a file: no row objects are made here)."""
        if self.rows or (self.frame is None and self.blocks is None):
            for start in range(0, len(self.rows), size):
                yield Table(
                    self.file_name, self.sha256, self.rows[start : start + size],
                    first_row=self.first_row + start,
                )  # fmt: skip
            return
        start = 0
        for frame in self.frames(size):
            yield Table(self.file_name, self.sha256, (), frame, first_row=self.first_row + start)
            start += frame.height

    def column(self, name: str) -> pl.Series:
        """One column of the whole table (a file's read a block at a time: only this column
        is kept, a few bytes a row); an empty series if the table has no such column."""
        if self.rows or (self.frame is None and self.blocks is None):
            return pl.Series(name, [values.get(name, "") for values in self.rows], pl.String)
        if name not in self.column_names:
            return pl.Series(name, [], pl.String)
        parts = [frame.get_column(name) for frame in self.frames(LARGEST_FRAME)]
        return pl.concat(parts) if parts else pl.Series(name, [], pl.String)

    def subset(self, numbers: list[int]) -> Table:
        """The rows numbered ``numbers`` (spreadsheet numbers, ascending), as a table whose
        rows are numbered from ``first_row`` onwards (callers map the numbers back)."""
        offsets = [n - self.first_row for n in numbers]
        if self.rows or (self.frame is None and self.blocks is None):
            rows = tuple(self.rows[i] for i in offsets)
        else:
            picked: list[dict[str, str]] = []
            start, at = 0, 0
            for frame in self.frames(LARGEST_FRAME):
                end = start + frame.height
                mine = []
                while at < len(offsets) and offsets[at] < end:
                    mine.append(offsets[at] - start)
                    at += 1
                if mine:
                    picked.extend(frame[mine].iter_rows(named=True))
                start = end
            rows = tuple(picked)
        return Table(self.file_name, self.sha256, rows, first_row=self.first_row)


#: The most rows a pass over a whole file holds at once (the bounds pass, a column, a subset):
#: the same as a chunk of validation.
LARGEST_FRAME = 50_000


def _digest(path: Path) -> tuple[str, bool]:
    """The file's SHA-256 and whether it is UTF-8, read a megabyte at a time: the file's bytes
    are never held whole (a million-row file is 150 MB), and a UTF-8 file is then parsed from
    its path."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
            if utf8:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    utf8 = False
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    return digest.hexdigest(), utf8


def _utf8(data: bytes) -> bytes:
    """A file that is not UTF-8 decoded as GB18030 — the superset of the GBK that Excel writes
    on a Chinese Windows ("CSV" without "UTF-8") — when that decodes it strictly. Anything
    else is left for the CSV reader to refuse as not UTF-8."""
    try:
        return data.decode("gb18030").encode("utf-8")
    except UnicodeDecodeError:
        return data


@contextmanager
def _readable(path: Path) -> Iterator[None]:
    """Polars' errors while reading ``path`` → one clear file error."""
    suffix = path.suffix.lower()
    try:
        yield
    except pl.exceptions.NoDataError:
        raise file_error(f"{path.name} is empty") from None
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException) as error:
        raise file_error(
            f"{path.name} is not a readable {suffix.lstrip('.')} file: {first_line(error)}"
        ) from None


def _row_ends(data: bytes, quoted: bool = False) -> np.ndarray:
    """The offsets just past each row end in ``data`` (which starts at a row's start, or
    inside a quoted value when ``quoted``): each ``\\n`` outside quotes, i.e. after an even
    number of ``"`` — how Polars splits a CSV into lines, so a block cut there parses as the
    same rows as the whole file."""
    if b"\n" not in data:  # a block inside a long row (or a file read a few bytes at a time)
        return np.empty(0, dtype=np.int64)
    buffer = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buffer == ord("\n"))
    quotes = np.flatnonzero(buffer == ord('"'))
    outside = (np.searchsorted(quotes, newlines) + quoted) % 2 == 0
    return newlines[outside] + 1


def _open_source(path: Path, utf8: bool) -> IO[bytes]:
    """The file's bytes as UTF-8: read from disk, or a GBK file decoded (held whole: Excel's
    files are small)."""
    return path.open("rb") if utf8 else io.BytesIO(_utf8(path.read_bytes()))


def _csv_blocks(path: Path, utf8: bool, columns: list[str], names: list[str]) -> Blocks:
    """The CSV's data rows, :data:`BLOCK_BYTES` at a time, each block cut at a row's end and
    parsed by Polars behind the file's own header row (so exactly as the whole file would
    be) as text columns named ``names`` (stripped, nulls as ``""``)."""

    def parse(header: bytes, data: bytes) -> pl.DataFrame:
        with _readable(path):
            frame = pl.read_csv(io.BytesIO(header + data), infer_schema=False, encoding="utf8")
        if frame.columns != columns:  # never yet: the header is the one read up front
            raise file_error(f"{path.name} changed while it was read")
        return frame.rename(dict(zip(columns, names, strict=True))).select(
            pl.all().fill_null("").str.strip_chars()
        )

    def blocks() -> Iterator[pl.DataFrame]:
        with _open_source(path, utf8) as handle:
            # the bytes read since the last row end (none of them a row end), and whether
            # they leave a quoted value open: a block without a row end is only added to
            # them, so a row longer than a block (a file with no ``\n`` at all: saved with
            # ``\r`` line ends, or no CSV) costs its length once, not once a block
            carry: list[bytes] = []
            quoted = False
            header = b""
            while block := handle.read(BLOCK_BYTES):
                ends = _row_ends(block, quoted)
                if not ends.size:
                    carry.append(block)
                    quoted ^= block.count(b'"') % 2 == 1
                    continue
                held = sum(map(len, carry))
                data, ends = b"".join([*carry, block]), ends + held
                if not header:  # the header row is the file's first row
                    header, data = data[: ends[0]], data[ends[0] :]
                    ends = ends[1:] - ends[0]
                cut = int(ends[-1]) if ends.size else 0
                rest = data[cut:]
                carry, quoted = [rest], rest.count(b'"') % 2 == 1
                if cut:
                    yield parse(header, data[:cut])
            if header and (rest := b"".join(carry)):
                yield parse(header, rest)

    return blocks


def _kept_when_small(blocks: Blocks, small: bool) -> Blocks:
    """``blocks``, and when the file is ``small`` (one block at most: no more than a pass
    holds anyway) its frames kept from the first whole pass for the next ones, instead of
    reading and parsing it again at each pass (a small file's parse costs more than its
    checks)."""
    if not small:
        return blocks
    kept: list[pl.DataFrame] | None = None

    def again() -> Iterator[pl.DataFrame]:
        nonlocal kept
        if kept is not None:
            yield from kept
            return
        read: list[pl.DataFrame] = []
        for frame in blocks():
            read.append(frame)
            yield frame
        kept = read

    return again


def _read_csv(path: Path, utf8: bool) -> tuple[list[str], Callable[[list[str]], Blocks], int]:
    """A CSV's header, its blocks (given the names to give its columns) and its number of
    rows (counted by Polars, without parsing the values)."""
    with _readable(path), _open_source(path, utf8) as source:
        # Every column as text: nothing is coerced (leading zeros, "1e3", 0.1) behind our back.
        lazy = pl.scan_csv(source, infer_schema=False, encoding="utf8", glob=False)
        columns = lazy.collect_schema().names()  # the header: an empty or unreadable file fails
        count = lazy.select(pl.len()).collect().item()
    small = path.stat().st_size <= BLOCK_BYTES
    return (
        columns,
        lambda names: _kept_when_small(_csv_blocks(path, utf8, columns, names), small),
        count,
    )


def _read_parquet(path: Path) -> tuple[list[str], Callable[[list[str]], Blocks], int]:
    """A Parquet file's columns, its batches as text columns, and its number of rows (from
    its metadata)."""
    with _readable(path):
        schema = pl.read_parquet_schema(path)
        count = pl.scan_parquet(path, glob=False).select(pl.len()).collect().item()
    floats = [name for name, dtype in schema.items() if dtype.is_float()]
    if floats:
        raise file_error(
            f"column(s) {', '.join(floats)} hold floating-point numbers; write amounts "
            "and rates as text or decimal so no value is rounded"
        )
    columns = list(schema)

    def blocks_of(names: list[str]) -> Blocks:
        def blocks() -> Iterator[pl.DataFrame]:
            with _readable(path):
                source = pq.ParquetFile(path)
                for batch in source.iter_batches(batch_size=LARGEST_FRAME):
                    frame = pl.DataFrame(pl.from_arrow(batch))
                    yield frame.rename(dict(zip(columns, names, strict=True))).select(
                        pl.all().cast(pl.String).fill_null("").str.strip_chars()
                    )

        return _kept_when_small(blocks, count <= LARGEST_FRAME)

    return columns, blocks_of, count


def read_table(path: Path | str, *, required: Sequence[str], optional: Sequence[str]) -> Table:
    """Read ``path`` (CSV or Parquet by extension) as text and check its columns by name.

    The values are not held: the table reads the file again, a block at a time, at each
    pass (:attr:`Table.blocks`); here only the header is read, and the rows counted."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".parquet", ".pq"}:
        raise file_error(f"{path.name}: expected a .csv or .parquet file, got {suffix or 'none'!r}")
    try:
        sha256, utf8 = _digest(path)
        columns, blocks_of, count = (
            _read_csv(path, utf8) if suffix == ".csv" else _read_parquet(path)
        )
    except OSError as error:
        raise file_error(f"cannot read {path.name}: {error.strerror or error}") from None
    names = [name.lstrip("\ufeff").strip() for name in columns]
    errors: list[RowError] = []
    seen: set[str] = set()
    known = (*required, *optional)
    for name in names:
        duplicate = re.fullmatch(r"(.+)_duplicated_\d+", name)
        if name in seen or (duplicate and duplicate.group(1) in names):
            base = duplicate.group(1) if duplicate else name
            errors.append(RowError(1, base, "column appears more than once"))
        elif name not in known:
            shown = name if len(name) <= 64 else name[:64] + "…"  # a header is no place for 100k
            errors.append(RowError(1, shown, f"unknown column (expected {', '.join(known)})"))
        seen.add(name)
    errors.extend(
        RowError(1, name, "required column is missing") for name in required if name not in seen
    )
    if errors:
        for _ in blocks_of(columns)():  # a file that cannot be parsed says so before its columns
            pass
        raise ImportRejected(errors)
    return Table(path.name, sha256, blocks=blocks_of(names), height=count, columns=tuple(names))
