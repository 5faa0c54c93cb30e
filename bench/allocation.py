"""Benchmark: allocating (分案) a million cases over 500 collectors in 10 teams.

Run: ``.venv/bin/python bench/allocation.py --cases 1000000 --collectors 500 --teams 10``.
Builds a day's batch (about 60% of cases already with a collector, some of them in their sticky
window, some collectors unavailable, a few cases changing bucket, team capacity a little short of
the cases), scores the queue with the default strategy's priority weights, then times
``allocate`` for each method and prints one line of figures per method.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

import numpy as np
import polars as pl

from arrears.strategy.allocation import allocate
from arrears.strategy.loader import load_default
from arrears.strategy.priority import priority_scores

AS_OF = date(2026, 12, 1)


def collectors(n: int, teams: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "collector_id": np.arange(1, n + 1, dtype=np.int64),
            "team": [f"team_{i % teams}" for i in range(n)],
            "capacity": rng.integers(1_500, 2_500, n),
            "available": rng.random(n) >= 0.05,
            "load": rng.integers(0, 200, n),
        }
    )


def cases(n: int, staff: pl.DataFrame, teams: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    team_index = rng.integers(0, teams, n)
    # a collector of the case's own team for most assigned cases, of another team for a few
    ids = staff["collector_id"].to_numpy()
    own = ids[(rng.integers(0, len(ids) // teams, n) * teams + team_index) % len(ids)]
    stray = rng.choice(ids, n)
    has = rng.random(n) < 0.6
    collector = np.where(rng.random(n) < 0.02, stray, own)
    frame = pl.DataFrame(
        {
            "case_id": rng.permutation(np.arange(1, n + 1, dtype=np.int64)),
            "team": [f"team_{i}" for i in team_index],
            "collector_id": pl.Series(collector).set(pl.Series(~has), None),
            "assigned_on": pl.Series(
                (np.datetime64(AS_OF) - rng.integers(0, 30, n)).astype("datetime64[D]")
            ).set(pl.Series(~has), None),
            "bucket_changed": rng.random(n) < 0.03,
            "dpd": rng.integers(1, 200, n),
            "total_due": rng.integers(0, 6_000_000, n),
            "broken_promises": rng.integers(0, 4, n),
            "days_since_contact": rng.integers(0, 30, n),
        }
    )
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--collectors", type=int, default=500)
    parser.add_argument("--teams", type=int, default=10)
    parser.add_argument("--sticky-days", type=int, default=7)
    args = parser.parse_args()
    staff = collectors(args.collectors, args.teams, seed=1)
    frame = cases(args.cases, staff, args.teams, seed=2)
    started = time.perf_counter()
    frame = frame.with_columns(priority_scores(load_default(), frame))
    scored = time.perf_counter()
    print(f"cases={args.cases} collectors={args.collectors} priority_s={scored - started:.2f}")
    for method in ("round_robin", "capacity", "priority"):
        started = time.perf_counter()
        out = allocate(frame, staff, as_of=AS_OF, method=method, sticky_days=args.sticky_days)
        elapsed = time.perf_counter() - started
        actions = dict(out.group_by("action").len().rows())
        print(
            f"method={method} allocate_s={elapsed:.2f} "
            + " ".join(f"{a}={actions.get(a, 0)}" for a in ("kept", "assigned", "reassigned"))
            + f" unassigned={actions.get('unassigned', 0)}"
        )


if __name__ == "__main__":
    main()
