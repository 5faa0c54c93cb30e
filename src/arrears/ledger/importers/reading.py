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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from arrears.ledger.importers.errors import ImportRejected, RowError, file_error, first_line

FIRST_DATA_ROW = 2  # row 1 is the header


@dataclass(frozen=True, slots=True)
class Table:
    """A file read as text: every value a stripped ``str`` (empty when missing).

    A file read by :func:`read_table` keeps its values as one frame of text columns and no
    row objects: rows are made a chunk at a time (:meth:`chunks`), so the Python objects of an
    import grow with the chunk, not the file. A table built from ``rows`` (tests, a subset of
    a file) has them as given; ``first_row`` is the spreadsheet number of its first row."""

    file_name: str
    sha256: str
    rows: tuple[dict[str, str], ...] = ()
    #: The same values as one frame of text columns (named as in the file's header, stripped,
    #: nulls as ``""``): what the vectorised bounds pass (:mod:`~.bounds`) reads.
    frame: pl.DataFrame | None = None
    first_row: int = FIRST_DATA_ROW

    @property
    def row_count(self) -> int:
        return len(self.rows) if self.rows or self.frame is None else self.frame.height

    def numbered(self) -> Iterator[tuple[int, dict[str, str]]]:
        """Each row with the number a spreadsheet shows for it (the header is row 1)."""
        if self.rows or self.frame is None:
            return enumerate(self.rows, start=self.first_row)
        return enumerate(self.frame.iter_rows(named=True), start=self.first_row)

    def chunks(self, size: int) -> Iterator[Table]:
        """The table ``size`` rows at a time, each a table numbered as in the file (a slice of
        the frame, for a table read from a file: no row objects are made here)."""
        if self.rows or self.frame is None:
            for start in range(0, len(self.rows), size):
                yield Table(
                    self.file_name, self.sha256, self.rows[start : start + size],
                    first_row=self.first_row + start,
                )  # fmt: skip
            return
        for start in range(0, self.frame.height, size):
            yield Table(
                self.file_name, self.sha256, (), self.frame.slice(start, size),
                first_row=self.first_row + start,
            )  # fmt: skip

    def subset(self, numbers: list[int]) -> Table:
        """The rows numbered ``numbers`` (spreadsheet numbers, ascending), as a table whose
        rows are numbered from ``first_row`` onwards (callers map the numbers back)."""
        offsets = [n - self.first_row for n in numbers]
        if self.rows or self.frame is None:
            rows = tuple(self.rows[i] for i in offsets)
        else:
            rows = tuple(self.frame[offsets].iter_rows(named=True))
        return Table(self.file_name, self.sha256, rows, first_row=self.first_row)


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


def _read_frame(path: Path, utf8: bool) -> pl.LazyFrame:
    """The file as a lazy frame: a CSV is parsed when the frame is collected, together with the
    stripping of its values, which needs less than half the memory of reading it whole and
    stripping a copy (a 1M-row file: 430 MB instead of 770 MB)."""
    suffix = path.suffix.lower()
    with _readable(path):
        if suffix == ".csv":
            # Every column as text: nothing is coerced (leading zeros, "1e3", 0.1) behind our back.
            source: Path | io.BytesIO = path if utf8 else io.BytesIO(_utf8(path.read_bytes()))
            frame = pl.scan_csv(source, infer_schema=False, encoding="utf8", glob=False)
            frame.collect_schema()  # the header: an empty or unreadable file fails here
            return frame
        if suffix in {".parquet", ".pq"}:
            eager = pl.read_parquet(path, glob=False)
            floats = [name for name, dtype in eager.schema.items() if dtype.is_float()]
            if floats:
                raise file_error(
                    f"column(s) {', '.join(floats)} hold floating-point numbers; write amounts "
                    "and rates as text or decimal so no value is rounded"
                )
            return eager.with_columns(pl.all().cast(pl.String)).lazy()
    raise file_error(f"{path.name}: expected a .csv or .parquet file, got {suffix or 'none'!r}")


def read_table(path: Path | str, *, required: Sequence[str], optional: Sequence[str]) -> Table:
    """Read ``path`` (CSV or Parquet by extension) as text and check its columns by name."""
    path = Path(path)
    try:
        sha256, utf8 = _digest(path)
        frame = _read_frame(path, utf8)
    except OSError as error:
        raise file_error(f"cannot read {path.name}: {error.strerror or error}") from None
    with _readable(path):
        columns = frame.collect_schema().names()
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
        with _readable(path):  # a file that cannot be parsed says so before its columns
            frame.collect()
        raise ImportRejected(errors)
    with _readable(path):
        values = (
            frame.rename(dict(zip(columns, names, strict=True)))
            .select(pl.all().cast(pl.String).fill_null("").str.strip_chars())
            .collect()
        )
    return Table(path.name, sha256, (), values)
