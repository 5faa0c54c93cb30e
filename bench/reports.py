"""Benchmark: the roll-rate matrix (``reports.rolls``) over N loans × M month ends of stored
states — the computation ``arrears report roll_rates`` runs, on a synthetic book.

Run: ``.venv/bin/python bench/reports.py --loans 1000000 --months 12`` (in memory), and with
``--database postgresql://…/NAME`` also loaded into PostgreSQL by ``COPY`` into a table shaped
like ``daily_loanstate`` (the bench owns table ``bench_report_states`` in ``NAME``) and read
back a month end at a time by ``COPY (SELECT …) TO STDOUT`` as the report's reader does.

The states are a Markov chain per loan (seeded): each month a loan in M0 stays current or
rolls into M1, a delinquent loan cures, stays, rolls a bucket on, pays off or is written off
from the last bucket; a loan closed or written off stays so. Printed: the rows, the seconds
of each step (the roll states, the transitions, the matrix) and their total, the matrix, and
for PostgreSQL the load and read seconds.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from arrears.reports.rolls import matrix, roll_state, transitions
from arrears.reports.snapshots import month_end_states

BUCKETS = ["M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7+"]
CLOSED, WRITTEN_OFF = len(BUCKETS), len(BUCKETS) + 1


def month_ends(months: int, last: date = date(2026, 11, 30)) -> list[date]:
    out = [last]
    while len(out) < months:
        out.append(out[-1].replace(day=1) - timedelta(days=1))
    return sorted(out)


def synthetic_states(loans: int, months: int, seed: int = 1) -> pl.DataFrame:
    """``as_of``, ``loan_id``, ``bucket``, ``payoff`` and ``dpd`` for every loan at each of
    ``months`` month ends (closed loans: payoff 0; written-off loans as their last bucket),
    and the written-off (``as_of``, ``loan_id``) as a second frame."""
    rng = np.random.default_rng(seed)
    state = np.where(rng.random(loans) < 0.9, 0, rng.integers(1, len(BUCKETS), loans))
    frames = []
    written = []
    ids = np.arange(1, loans + 1, dtype=np.int64)
    payoff = rng.integers(100_000, 5_000_000, loans, dtype=np.int64)
    for day in month_ends(months):
        draw = rng.random(loans)
        current = state == 0
        late = (state >= 1) & (state < CLOSED)
        nxt = state.copy()
        nxt[current & (draw < 0.05)] = 1
        nxt[current & (draw > 0.995)] = CLOSED
        nxt[late & (draw < 0.25)] = 0
        rolls = late & (draw >= 0.25) & (draw < 0.75)
        nxt[rolls] = np.minimum(state[rolls] + 1, len(BUCKETS) - 1)
        nxt[late & (draw >= 0.95)] = CLOSED
        nxt[(state == len(BUCKETS) - 1) & (draw >= 0.9) & (draw < 0.95)] = WRITTEN_OFF
        state = nxt
        bucket_index = np.where(state >= CLOSED, 0, state)
        frames.append(
            pl.DataFrame(
                {
                    "as_of": pl.Series([day] * loans, dtype=pl.Date),
                    "loan_id": ids,
                    "bucket": pl.Series(np.array(BUCKETS)[bucket_index], dtype=pl.String),
                    "payoff": np.where(state == CLOSED, 0, payoff),
                    "dpd": np.where(state >= CLOSED, 0, bucket_index * 30),
                }
            )
        )
        written.append(
            pl.DataFrame(
                {
                    "as_of": pl.Series([day] * int((state == WRITTEN_OFF).sum()), dtype=pl.Date),
                    "loan_id": ids[state == WRITTEN_OFF],
                }
            )
        )
    return pl.concat(frames), pl.concat(written)


def roll_matrix(
    states: pl.DataFrame, written: pl.DataFrame
) -> tuple[pl.DataFrame, dict[str, float]]:
    """The report's computation, timed step by step."""
    seconds = {}
    started = time.perf_counter()
    rolled = roll_state(states, written)
    seconds["roll states"] = time.perf_counter() - started
    started = time.perf_counter()
    moves = transitions(rolled)
    seconds["transitions"] = time.perf_counter() - started
    started = time.perf_counter()
    wide = matrix(moves)
    seconds["matrix"] = time.perf_counter() - started
    seconds["total"] = sum(seconds.values())
    return wide, seconds


def postgres(url: str, states: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, float]]:
    """Load ``states`` into PostgreSQL by COPY, then read them back a month end at a time."""
    import psycopg

    seconds = {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_report_states")
        conn.execute(
            "CREATE UNLOGGED TABLE bench_report_states (loan_id bigint NOT NULL, "
            "as_of date NOT NULL, bucket varchar(16) NOT NULL, payoff bigint NOT NULL, "
            "dpd integer NOT NULL)"
        )
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy(
                "COPY bench_report_states (loan_id, as_of, bucket, payoff, dpd) FROM STDIN"
            ) as copy,
        ):
            buffer = io.BytesIO()
            states.select("loan_id", "as_of", "bucket", "payoff", "dpd").write_csv(
                buffer, include_header=False, separator="\t"
            )
            copy.write(buffer.getvalue())
        conn.execute("CREATE INDEX bench_report_states_day ON bench_report_states (as_of, loan_id)")
        conn.execute("ANALYZE bench_report_states")
        seconds["load (COPY + index)"] = time.perf_counter() - started
        started = time.perf_counter()
        parts = []
        days = sorted(set(states["as_of"].to_list()))
        with conn.cursor() as cursor:
            for day in days:
                buffer = bytearray()
                with cursor.copy(
                    "COPY (SELECT loan_id, bucket, payoff, dpd FROM bench_report_states "
                    "WHERE as_of = %s) TO STDOUT WITH (FORMAT csv)",
                    [day],
                ) as copy:
                    for block in copy:
                        buffer += block
                parts.append(
                    pl.read_csv(
                        io.BytesIO(bytes(buffer)),
                        has_header=False,
                        new_columns=["loan_id", "bucket", "payoff", "dpd"],
                        schema={
                            "loan_id": pl.Int64(),
                            "bucket": pl.String(),
                            "payoff": pl.Int64(),
                            "dpd": pl.Int64(),
                        },
                    ).with_columns(pl.lit(day).alias("as_of"))
                )
        seconds["read back (COPY TO STDOUT)"] = time.perf_counter() - started
    return pl.concat(parts), seconds


def parquet(folder: Path, states: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, float]]:
    """Write ``states`` in the Spark runner's layout (``loan_state/as_of=D/bucket=B/``), then
    read the month ends back as ``ARREARS_REPORT_STATES`` does (``reports.snapshots``)."""
    seconds = {}
    started = time.perf_counter()
    for (day, bucket), part in states.group_by(["as_of", "bucket"]):
        target = folder / "loan_state" / f"as_of={day}" / f"bucket={bucket}"
        target.mkdir(parents=True, exist_ok=True)
        part.drop("as_of", "bucket").write_parquet(target / "part-00000.snappy.parquet")
    seconds["write (Spark layout)"] = time.perf_counter() - started
    started = time.perf_counter()
    read = month_end_states(folder, sorted(set(states["as_of"].to_list())))
    seconds["read month ends"] = time.perf_counter() - started
    return read, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--database", help="postgresql://…/NAME: also load and read there")
    parser.add_argument(
        "--parquet",
        type=Path,
        help="a folder: also write the states as a Spark output there and read them back",
    )
    args = parser.parse_args()
    started = time.perf_counter()
    states, written = synthetic_states(args.loans, args.months)
    print(
        f"synthetic states: {args.loans:,} loans × {args.months} month ends = "
        f"{len(states):,} rows, {len(written):,} written-off rows "
        f"({time.perf_counter() - started:.1f} s to generate)"
    )
    wide, seconds = roll_matrix(states, written)
    print("roll-rate matrix in memory (Polars):")
    for step, value in seconds.items():
        print(f"  {step:<14} {value:6.2f} s")
    with pl.Config(tbl_cols=20, tbl_width_chars=200):
        print(wide)
    if args.parquet:
        cpu = time.process_time()
        read, timing = parquet(args.parquet, states)
        again, seconds = roll_matrix(read, written)
        cpu = time.process_time() - cpu
        assert again.equals(wide), "the matrix from Parquet differs"
        print("Parquet (a snapshot runner's output, ARREARS_REPORT_STATES):")
        for step, value in {**timing, **seconds}.items():
            print(f"  {step:<26} {value:6.2f} s")
        print(f"  read + matrix {timing['read month ends'] + seconds['total']:.2f} s")
        print(f"  CPU of this process, write + read + matrix: {cpu:.2f} s (all threads)")
        print(f"  load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.database:
        read, timing = postgres(args.database, states)
        again, seconds = roll_matrix(read, written)
        assert again.equals(wide), "the matrix from PostgreSQL differs"
        print("PostgreSQL:")
        for step, value in {**timing, **seconds}.items():
            print(f"  {step:<26} {value:6.2f} s")
        print(f"  read + matrix {timing['read back (COPY TO STDOUT)'] + seconds['total']:.2f} s")


if __name__ == "__main__":
    main()
