"""Benchmark: the daily run end to end, Parquet snapshot → loan_state.parquet.

Run: ``.venv/bin/python bench/daily_run.py --loans 1000000`` (add ``--engine reference`` for
the kernel loop). It generates a realistic synthetic book once per size (12 monthly
instalments a loan, ~10 % delinquent with partial payments; cached under ``bench/out/``, made
in a separate process so it does not count in this one's memory), then runs the engine from
snapshot to results and prints one line: loans, seconds per stage (read, compute, write, and
the time the computing thread waited for the others; the stages overlap, so they add up to
more than the wall time), loans per second overall and per stage, the process's CPU seconds
(user + system, all threads) and its peak RSS.

``--threads`` sets the compiled replay's thread count (default: one per core).

Polars' allocator (jemalloc) is told to keep the memory it frees (``_RJEM_MALLOC_CONF``, set
here before Polars loads unless the environment sets it): each chunk's frames are the same
sizes as the last one's, and memory handed back to the kernel between chunks comes back as
fresh pages that the kernel must zero and fault in again — some 15 % of the run's CPU. One
arena (rather than one per thread) lets the reader's, the computing and the writing threads
reuse each other's pages, so peak memory stays near what the chunks in flight need.
Deployments of ``run-day --snapshot`` can set the same variable.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

AS_OF = date(2026, 11, 29)
#: jemalloc's options for Polars (see the module docstring): keep freed pages, one arena.
MALLOC_CONF = "background_thread:false,dirty_decay_ms:-1,muzzy_decay_ms:-1,narenas:1"
OUT = Path(__file__).resolve().parent / "out"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=["compiled", "reference"], default="compiled")
    parser.add_argument("--chunk-loans", type=int, default=None, help="default: the runner's")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    if args.threads:
        os.environ["NUMBA_NUM_THREADS"] = str(args.threads)
    os.environ.setdefault("_RJEM_MALLOC_CONF", MALLOC_CONF)  # before Polars loads

    from arrears.engine.runner import run_snapshot  # after NUMBA_NUM_THREADS is set

    snapshot = OUT / f"snapshot-{args.loans}"
    if args.regenerate or not (snapshot / "manifest.json").exists():
        shutil.rmtree(snapshot, ignore_errors=True)
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "arrears.engine.synthetic",
                str(snapshot),
                f"--loans={args.loans}",
                f"--as-of={AS_OF.isoformat()}",
                "--seed=1",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(f"generated {args.loans} loans in {time.perf_counter() - started:.1f}s")
    results = OUT / f"results-{args.loans}-{args.engine}"
    shutil.rmtree(results, ignore_errors=True)

    options = {} if args.chunk_loans is None else {"chunk_loans": args.chunk_loans}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    stats = run_snapshot(snapshot, results, AS_OF, engine=args.engine, **options)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime - usage.ru_utime + after.ru_stime - usage.ru_stime
    rss_gib = after.ru_maxrss / 1024**2
    stages = " ".join(f"{name}_s={seconds:.2f}" for name, seconds in stats.seconds.items())
    rates = " ".join(
        f"{name}_loans_per_s={stats.loans / seconds:,.0f}"
        for name, seconds in stats.seconds.items()
        if name != "wait" and seconds > 0
    )
    print(
        f"engine={args.engine} loans={stats.loans} delinquent={stats.delinquent} "
        f"errors={stats.errors} wall_s={wall:.2f} {stages} "
        f"loans_per_s={stats.loans / wall:,.0f} {rates} cpu_s={cpu:.2f} "
        f"peak_rss_gib={rss_gib:.2f}"
    )


if __name__ == "__main__":
    main()
