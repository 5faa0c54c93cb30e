"""Benchmark: the daily run end to end, Parquet snapshot → loan_state.parquet.

Run: ``.venv/bin/python bench/daily_run.py --loans 1000000`` (add ``--engine reference`` for
the kernel loop). It generates a realistic synthetic book once per size (12 monthly
instalments a loan, ~10 % delinquent with partial payments; cached under ``bench/out/``), then
runs the engine from snapshot to results and prints one line: loans, seconds per stage (read,
compute, write), loans per second and peak RSS of the process.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import time
from datetime import date
from pathlib import Path

from arrears.engine.runner import run_snapshot
from arrears.engine.synthetic import write_synthetic_snapshot

AS_OF = date(2026, 11, 29)
OUT = Path(__file__).resolve().parent / "out"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=["compiled", "reference"], default="compiled")
    parser.add_argument("--chunk-loans", type=int, default=1_000_000)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()

    snapshot = OUT / f"snapshot-{args.loans}"
    if args.regenerate or not (snapshot / "manifest.json").exists():
        shutil.rmtree(snapshot, ignore_errors=True)
        started = time.perf_counter()
        write_synthetic_snapshot(snapshot, loans=args.loans, as_of=AS_OF, seed=1)
        print(f"generated {args.loans} loans in {time.perf_counter() - started:.1f}s")
    results = OUT / f"results-{args.loans}-{args.engine}"
    shutil.rmtree(results, ignore_errors=True)

    started = time.perf_counter()
    stats = run_snapshot(snapshot, results, AS_OF, chunk_loans=args.chunk_loans, engine=args.engine)
    wall = time.perf_counter() - started
    rss_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    stages = " ".join(f"{name}_s={seconds:.2f}" for name, seconds in stats.seconds.items())
    print(
        f"engine={args.engine} loans={stats.loans} delinquent={stats.delinquent} "
        f"errors={stats.errors} wall_s={wall:.2f} {stages} "
        f"loans_per_s={stats.loans / wall:,.0f} peak_rss_gib={rss_gib:.2f}"
    )


if __name__ == "__main__":
    main()
