"""Benchmark: the roll-rate matrix (``reports.rolls``) over N loans × M month ends of stored
states — the computation ``arrears report roll_rates`` runs, on a synthetic book.

Run: ``.venv/bin/python bench/reports.py --loans 1000000 --months 12`` (in memory), and with
``--database postgresql://…/NAME`` also loaded into PostgreSQL by ``COPY`` into a table shaped
like ``daily_loanstate`` — its columns and its ``(as_of, bucket)`` index; the bench owns table
``bench_report_states`` in ``NAME`` and keeps it for the next run of the same size — and read
back by the report's own reader (``reports.stored.read_days``: a statement per month end,
grouped by the server into arrays, binary ``COPY``; ``--connections N`` on one shared
snapshot, default 2). ``--text`` also times the reader it replaced (a text ``COPY`` of a
month end's rows at a time).

The states are a Markov chain per loan (seeded): each month a loan in M0 stays current or
rolls into M1, a delinquent loan cures, stays, rolls a bucket on, pays off or is written off
from the last bucket; a loan closed or written off stays so. Printed: the rows, the seconds
of each step (the roll states, the transitions, the matrix) and their total, the matrix, and
for PostgreSQL the load and read seconds, the read's CPU seconds in this process and (when
the server runs on this machine) in the server's processes, and the load average.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from arrears.kernel.contract import STORED
from arrears.reports.rolls import matrix, roll_state, transitions
from arrears.reports.snapshots import month_end_states
from arrears.reports.stored import read_days

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


#: The stored figures of ``daily_loanstate`` (the bench's table has all of them, so its rows
#: are as wide as the report's); the ones the synthetic states do not have are zero.
FIGURES = STORED


def _load(conn: Any, states: pl.DataFrame, mark: str) -> None:
    """Create ``bench_report_states`` shaped like ``daily_loanstate`` (its columns and its
    ``(as_of, bucket)`` index) and load ``states`` by COPY."""
    conn.execute("DROP TABLE IF EXISTS bench_report_states")
    numbers = [name for name in FIGURES if name not in {"dpd", "bucket"}]
    conn.execute(
        "CREATE UNLOGGED TABLE bench_report_states (id bigserial PRIMARY KEY, "
        "loan_id bigint NOT NULL, as_of date NOT NULL, dpd integer NOT NULL, "
        "bucket varchar(16) NOT NULL, "
        + ", ".join(f"{name} bigint NOT NULL" for name in numbers)
        + ", revision bigint)"
    )
    with (
        conn.cursor() as cursor,
        cursor.copy(
            f"COPY bench_report_states (loan_id, as_of, {', '.join(FIGURES)}) FROM STDIN"
        ) as copy,
    ):
        for day in sorted(set(states["as_of"].to_list())):  # a day at a time, as runs store
            buffer = io.BytesIO()
            states.filter(pl.col("as_of") == day).select(
                "loan_id",
                "as_of",
                *(pl.col(n) if n in states.columns else pl.lit(0).alias(n) for n in FIGURES),
            ).write_csv(buffer, include_header=False, separator="\t")
            copy.write(buffer.getvalue())
    conn.execute("CREATE INDEX bench_report_states_day ON bench_report_states (as_of, bucket)")
    conn.execute("VACUUM ANALYZE bench_report_states")
    conn.execute(f"COMMENT ON TABLE bench_report_states IS '{mark}'")


def _server_seconds(conn: Any) -> float | None:
    """CPU seconds of the connection's server process so far (when the server is on this
    machine and readable), else None."""
    (pid,) = conn.execute("SELECT pg_backend_pid()").fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _text_read(conn: Any, days: list[date]) -> pl.DataFrame:
    """The reader before the grouped one: a text COPY of one month end's rows at a time."""
    parts = []
    with conn.cursor() as cursor:
        for day in days:
            buffer = bytearray()
            with cursor.copy(
                "COPY (SELECT loan_id, bucket, payoff FROM bench_report_states "
                "WHERE as_of = %s) TO STDOUT WITH (FORMAT csv)",
                [day],
            ) as copy:
                for block in copy:
                    buffer += block
            parts.append(
                pl.read_csv(
                    io.BytesIO(bytes(buffer)),
                    has_header=False,
                    new_columns=["loan_id", "bucket", "payoff"],
                    schema={"loan_id": pl.Int64(), "bucket": pl.String(), "payoff": pl.Int64()},
                ).with_columns(pl.lit(day).alias("as_of"))
            )
    return pl.concat(parts)


def postgres(
    url: str, states: pl.DataFrame, mark: str, connections: int, text: bool
) -> tuple[pl.DataFrame, dict[str, float]]:
    """Load ``states`` into PostgreSQL by COPY (unless the table already holds them: ``mark``
    is the table's comment), then read the month ends back by the report's reader
    (``reports.stored.read_days``) on ``connections`` connections sharing one snapshot."""
    import psycopg

    seconds: dict[str, float] = {}
    days = sorted(set(states["as_of"].to_list()))
    with psycopg.connect(url, autocommit=True) as conn:
        (comment,) = conn.execute(
            "SELECT obj_description(to_regclass('bench_report_states'), 'pg_class')"
        ).fetchone()
        if comment != mark:
            started = time.perf_counter()
            _load(conn, states, mark)
            seconds["load (COPY + index)"] = time.perf_counter() - started
        if text:
            started = time.perf_counter()
            before = _text_read(conn, days)
            seconds["text COPY a day at a time"] = time.perf_counter() - started
            del before
        others = [psycopg.connect(url, autocommit=True) for _ in range(connections - 1)]
        try:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            (snapshot,) = conn.execute("SELECT pg_export_snapshot()").fetchone()
            for other in others:
                other.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                other.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            server = [_server_seconds(c) for c in (conn, *others)]
            known = None not in server
            started, cpu = time.perf_counter(), time.process_time()
            cursors = [c.cursor() for c in (conn, *others)]
            read = read_days(cursors, "bench_report_states", days, ("bucket", "payoff"))
            seconds["read (grouped binary COPY)"] = time.perf_counter() - started
            seconds["  client CPU"] = time.process_time() - cpu
            if known:  # the server processes' CPU, all connections together
                after = [_server_seconds(c) or 0.0 for c in (conn, *others)]
                seconds["  server CPU"] = sum(after) - sum(s or 0.0 for s in server)
            for c in (conn, *others):
                c.execute("COMMIT")
        finally:
            for other in others:
                other.close()
    return read, seconds


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
        "--connections",
        type=int,
        default=2,
        help="connections the PostgreSQL read shares out the month ends to (default 2)",
    )
    parser.add_argument(
        "--text", action="store_true", help="also time the text COPY reader it replaced"
    )
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
        mark = f"bench/reports.py loans={args.loans} months={args.months} seed=1 v2"
        read, timing = postgres(args.database, states, mark, args.connections, args.text)
        again, seconds = roll_matrix(read, written)
        assert again.equals(wide), "the matrix from PostgreSQL differs"
        print(f"PostgreSQL ({args.connections} connection(s)):")
        for step, value in {**timing, **seconds}.items():
            print(f"  {step:<26} {value:6.2f} s")
        total = timing["read (grouped binary COPY)"] + seconds["total"]
        print(f"  read + matrix {total:.2f} s")
        print(f"  load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
