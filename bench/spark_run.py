"""Benchmark: the daily run on Spark, Parquet snapshot → partitioned Parquet written by executors.

Run: ``.venv/bin/python bench/spark_run.py --loans 1000000 [--master local[2]]
[--partitions 8] [--driver-memory 2g]``. It reuses (or generates) the synthetic book of
``bench/daily_run.py`` (cached under ``bench/out/``), runs
:func:`arrears.engine.spark.run_snapshot_spark` into ``bench/out/spark-N/`` twice (the second
run overwrites the first and shows the cost without the JVM's and workers' start-up), and
prints one line per run: loans, seconds per stage, loans per second, the files written and the
driver's peak RSS — the Python driver's own memory, which stays flat with the book's size
because no loan row reaches it (the JVM and the Python workers are other processes).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import shutil
import time
from datetime import date
from pathlib import Path

from arrears.engine.spark import run_snapshot_spark, spark_session
from arrears.engine.synthetic import write_synthetic_snapshot

AS_OF = date(2026, 11, 29)
OUT = Path(__file__).resolve().parent / "out"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--partitions", type=int, default=None)
    parser.add_argument("--driver-memory", default="2g")
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()

    snapshot = OUT / f"snapshot-{args.loans}"
    if args.regenerate or not (snapshot / "manifest.json").exists():
        shutil.rmtree(snapshot, ignore_errors=True)
        started = time.perf_counter()
        child = multiprocessing.get_context("spawn").Process(  # keeps the driver's RSS its own
            target=write_synthetic_snapshot,
            args=(snapshot,),
            kwargs={"loans": args.loans, "as_of": AS_OF, "seed": 1},
        )
        child.start()
        child.join()
        print(f"generated {args.loans} loans in {time.perf_counter() - started:.1f}s")
    results = OUT / f"spark-{args.loans}"
    shutil.rmtree(results, ignore_errors=True)
    started = time.perf_counter()
    spark_session(args.master, {"spark.driver.memory": args.driver_memory})
    print(f"session started in {time.perf_counter() - started:.1f}s")
    for attempt in ("first", "rerun"):
        started = time.perf_counter()
        stats = run_snapshot_spark(
            snapshot, results, AS_OF, master=args.master, partitions=args.partitions
        )
        wall = time.perf_counter() - started
        files = sum(1 for _ in results.rglob("*.parquet"))
        rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        stages = " ".join(f"{name}_s={seconds:.2f}" for name, seconds in stats.seconds.items())
        print(
            f"{attempt}: engine=spark master={args.master} loans={stats.loans} "
            f"delinquent={stats.delinquent} errors={stats.errors} wall_s={wall:.2f} {stages} "
            f"loans_per_s={stats.loans / wall:,.0f} parquet_files={files} "
            f"driver_peak_rss_mib={rss_mib:.0f}"
        )


if __name__ == "__main__":
    main()
