"""Check that two daily-run outputs are identical: every column of every row of
``loan_state.parquet`` (in file order, with the same types), ``errors.parquet`` and the counts
of ``run.json``.

Run: ``.venv/bin/python bench/compare_results.py BEFORE_DIR AFTER_DIR`` (e.g. a copy of
``bench/out/results-2000000-compiled`` from before a change, and the same directory after it).
Prints one line and exits 0 when they are equal; prints the first difference and exits 1
otherwise. A speed-up of the runner must not change one figure.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import polars as pl


def differences(before: Path, after: Path) -> list[str]:
    """What differs between the two output directories (empty when they are identical)."""
    found: list[str] = []
    for name in ("loan_state.parquet", "errors.parquet"):
        old, new = pl.read_parquet(before / name), pl.read_parquet(after / name)
        if old.schema != new.schema:
            found.append(f"{name}: schema {dict(old.schema)} != {dict(new.schema)}")
            continue
        if old.height != new.height:
            found.append(f"{name}: {old.height} rows != {new.height} rows")
            continue
        for column in old.columns:
            same = old[column].eq_missing(new[column])
            if not same.all():
                row = int((~same).arg_true()[0])
                found.append(
                    f"{name}: column {column}: row {row} is {old[column][row]!r} before, "
                    f"{new[column][row]!r} after ({int((~same).sum())} rows differ)"
                )
    old_run = json.loads((before / "run.json").read_text(encoding="utf-8"))
    new_run = json.loads((after / "run.json").read_text(encoding="utf-8"))
    if old_run != new_run:
        found.append(f"run.json: {old_run} != {new_run}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args()
    found = differences(args.before, args.after)
    if found:
        print("\n".join(found))
        sys.exit(1)
    rows = pl.scan_parquet(args.after / "loan_state.parquet").select(pl.len()).collect().item()
    print(f"identical: {rows} rows, every column, errors and run record")


if __name__ == "__main__":
    main()
