"""Benchmark: evaluating the default escalation ladder for a whole portfolio of cases.

Run: ``.venv/bin/python bench/strategy_eval.py --cases 1000000``. Builds random case states
(realistic ranges for every column an entry condition may name), then times stage assignment,
the champion/challenger split, the cadence check and the queue priority, and prints one line.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import polars as pl

from arrears.strategy.evaluate import assign_stages, treatments_due, variant_of
from arrears.strategy.loader import load_default
from arrears.strategy.model import STATE_COLUMNS
from arrears.strategy.priority import priority_scores


def cases(n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    dpd = np.where(rng.random(n) < 0.8, 0, rng.integers(1, 400, n))
    columns: dict[str, object] = {"case_id": np.arange(1, n + 1, dtype=np.int64), "dpd": dpd}
    for name, dtype in STATE_COLUMNS.items():
        if name in columns:
            continue
        if dtype == pl.Boolean:
            columns[name] = rng.random(n) < 0.05
        elif dtype == pl.String:
            columns[name] = np.where(dpd == 0, "M0", "M1")
        else:
            columns[name] = rng.integers(0, 6_000_000 if "due" in name else 5, n)
    columns["stage_day"] = rng.integers(0, 30, n)
    frame = pl.DataFrame(columns)
    # the day on the due-date scale: dpd when overdue, minus the days to the due date before it
    offset = pl.when(pl.col("dpd") > 0).then(pl.col("dpd")).otherwise(-pl.col("days_to_due"))
    return frame.with_columns(offset.alias("offset"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1_000_000)
    args = parser.parse_args()
    strategy = load_default()
    frame = cases(args.cases, seed=1)
    started = time.perf_counter()
    assigned = assign_stages(strategy, frame)
    staged = time.perf_counter()
    variants = variant_of(frame["case_id"], strategy)
    split = time.perf_counter()
    due = treatments_due(strategy, assigned)
    cadenced = time.perf_counter()
    scores = priority_scores(strategy, frame)
    done = time.perf_counter()
    in_stage = assigned["stage"].drop_nulls().len()
    print(
        f"cases={args.cases} in_a_stage={in_stage} assign_s={staged - started:.2f} "
        f"variants_s={split - staged:.2f} cadence_s={cadenced - split:.2f} "
        f"priority_s={done - cadenced:.2f} max_priority={scores.max()} "
        f"treatment_rows={len(due)} variants={variants.n_unique()} "
        f"total_s={done - started:.2f}"
    )


if __name__ == "__main__":
    main()
