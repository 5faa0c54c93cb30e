"""A fast, deterministic synthetic portfolio written as a snapshot, for benchmarks and big tests.

Every figure is made with numpy over whole blocks of loans, in exact integer arithmetic:

* principals of 1,000–50,000 CNY in whole yuan; daily rates 0.02 %–0.05 % (30/360), so a
  regular monthly period's interest is ``round-half-up(balance × 30 × rate)`` — the kernel's
  schedule rule — computed with integer numerators (0.0005 → 15/1000 a month);
* schedules equal-principal (``round-half-up(P / n)``, the residual in the last) or
  equal-instalment (the level payment picked in float64, every interest and principal part
  then derived in integers; the last part takes the remaining balance), which is exactly what
  :func:`arrears.kernel.schedule.build_schedule` builds for the same loan;
* start dates spread over the 365 days before ``as_of``, due dates on the same day of each
  later month clamped to month end (:func:`arrears.kernel.calendar.add_months`);
* two products: the kernel's default rules, and 3 retroactive grace days with compound interest;
* payments: most loans pay each instalment due by ``as_of`` on its due date, in full; about
  ``delinquent_share`` of the loans pay half of each of their first k instalments and then
  stop (k random, so their oldest unpaid instalment is past due as of ``as_of``); a few
  prepay their next instalment early, and a few settle the whole loan early.

Loans are made in blocks of :data:`BLOCK_LOANS`, each from its own seeded generator, so a seed
gives the same files whatever the row-group size, and memory stays at one block.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa

from arrears.engine.snapshot import (
    COLUMNS,
    INSTALMENTS,
    LOANS,
    PAYMENTS,
    PRODUCTS,
    SCHEMAS,
    SnapshotWriter,
)
from arrears.kernel.calendar import parse_date
from arrears.kernel.errors import InvalidDate
from arrears.kernel.terms import ProductTerms

#: Loans generated per block (one numpy pass); the files' row groups are sized separately.
BLOCK_LOANS = 200_000
#: Daily rates as numerators over 10,000 (0.0002 … 0.0005).
RATE_NUMERATORS = np.array([2, 3, 4, 5], dtype=np.int64)
RATE_DENOMINATOR = 10_000
#: Share of the on-time payers who pay their next instalment early, and who settle early.
PREPAY_SHARE = 0.02
SETTLE_SHARE = 0.01
#: Share of loans on the grace + compound product.
GRACE_PRODUCT_SHARE = 0.3

EPOCH = date(1970, 1, 1)


def synthetic_products() -> list[tuple[str, ProductTerms]]:
    """The two products: (code, rules); product_id is the position from 1."""
    return [
        ("SYN-STD", ProductTerms()),
        ("SYN-GRACE", ProductTerms(grace_days=3, grace_retroactive=True, compound=True)),
    ]


def _product_rows() -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for product_id, (code, terms) in enumerate(synthetic_products(), start=1):
        buckets = [
            {"name": b.name, "min_dpd": b.min_dpd, "max_dpd": b.max_dpd} for b in terms.buckets
        ]
        rows.append(
            (
                product_id,
                code,
                1,
                terms.penalty_multiplier,
                terms.compound,
                terms.grace_days,
                terms.grace_retroactive,
                terms.cost_cap_annual,
                terms.rounding.value,
                terms.accrual_rounding.value,
                ",".join(c.value for c in terms.allocation_order),
                terms.tolerance,
                json.dumps(buckets),
            )
        )
    return rows


def add_months(start: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Vectorised :func:`arrears.kernel.calendar.add_months` on day numbers (days since
    1970-01-01): the start's day of month, ``months`` later, clamped to that month's end.
    ``start`` and ``months`` broadcast against each other."""
    start, months = np.asarray(start, np.int64), np.asarray(months, np.int64)
    if start.size == 0 or months.size == 0:
        return np.empty(np.broadcast_shapes(start.shape, months.shape), dtype=np.int64)
    month = start.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    low = int(month.min()) + min(0, int(months.min()))
    high = int(month.max()) + max(0, int(months.max())) + 1
    firsts = np.arange(low, high + 1).astype("datetime64[M]").astype("datetime64[D]")
    first = firsts.astype(np.int64)  # day number of the 1st of each month low … high
    length = np.diff(first)
    day = start - first[month - low]  # 0-based day of month
    target = month - low + months
    result: np.ndarray = first[target] + np.minimum(day, length[target] - 1)
    return result


def _half_up(numerator: np.ndarray, denominator: int) -> np.ndarray:
    """round-half-up(numerator / denominator) for non-negative int64 numerators."""
    return (2 * numerator + denominator) // (2 * denominator)


def schedules(
    principal: np.ndarray, rate_numerator: np.ndarray, equal_instalment: np.ndarray, term: int
) -> tuple[np.ndarray, np.ndarray]:
    """(principal parts, interest parts), each ``(loans, term)`` int64, for daily rates
    ``rate_numerator / 10,000`` under 30/360 and half-up rounding.

    Monthly interest is ``round-half-up(balance × 30 × r / 10,000)``. Equal-principal parts are
    ``round-half-up(P / term)`` with the residual in the last; equal-instalment parts are the
    level payment minus the interest, the last taking the balance left. Rows sum exactly to
    ``principal`` and no part is negative.
    """
    loans = len(principal)
    monthly = 30 * rate_numerator  # over RATE_DENOMINATOR
    rate = monthly / RATE_DENOMINATOR
    growth = (1.0 + rate) ** term
    # float64 only to pick the integer level payment; every part below is exact.
    level = np.floor(principal * rate * growth / (growth - 1.0) + 0.5).astype(np.int64)
    level_part = _half_up(principal, term)
    principal_parts = np.empty((loans, term), dtype=np.int64)
    interest_parts = np.empty((loans, term), dtype=np.int64)
    balance = principal.copy()
    for k in range(term):
        interest = _half_up(balance * monthly, RATE_DENOMINATOR)
        if k == term - 1:
            part = balance
        else:
            part = np.where(equal_instalment, level - interest, level_part)
            part = np.clip(part, 0, balance)
        principal_parts[:, k] = part
        interest_parts[:, k] = interest
        balance = balance - part
    return principal_parts, interest_parts


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """``values`` (non-negative ints below 10**width) as zero-padded ASCII, one row each."""
    out = np.empty((len(values), width), dtype=np.uint8)
    rest = values.astype(np.int64, copy=True)
    for column in range(width - 1, -1, -1):
        rest, digit = np.divmod(rest, 10)
        out[:, column] = digit + 48
    return out


def _string_array(rows: np.ndarray) -> pa.Array:
    """A uint8 matrix of ASCII rows as an Arrow string array, without a Python object."""
    count, width = rows.shape
    offsets = np.arange(0, (count + 1) * width, width, dtype=np.int64)
    data = np.ascontiguousarray(rows).ravel()
    return pa.Array.from_buffers(
        pa.large_string(), count, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    ).cast(pa.string())


def _dates(days: np.ndarray) -> pa.Array:
    return pa.array(np.ascontiguousarray(days, dtype=np.int32).ravel()).view(pa.date32())


def _block(
    rng: np.random.Generator,
    first_id: int,
    count: int,
    as_of: date,
    term: int,
    delinquent_share: float,
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Loans ``first_id …`` ``first_id + count - 1`` as (loans, instalments, payments) tables."""
    ids = np.arange(first_id, first_id + count, dtype=np.int64)
    rows = np.arange(count)
    today = (as_of - EPOCH).days
    principal = rng.integers(1_000, 50_001, count, dtype=np.int64) * 100
    rate_index = rng.integers(0, len(RATE_NUMERATORS), count)
    rate_numerator = RATE_NUMERATORS[rate_index]
    equal_instalment = rng.random(count) < 0.5
    product_id = np.where(rng.random(count) < GRACE_PRODUCT_SHARE, 2, 1).astype(np.int64)
    start = today - rng.integers(1, 366, count, dtype=np.int64)

    seq = np.arange(1, term + 1, dtype=np.int64)
    ends = add_months(start[:, None], seq[None, :])  # (count, term): period ends = due dates
    begins = np.concatenate([start[:, None], ends[:, :-1]], axis=1)
    principal_parts, interest_parts = schedules(principal, rate_numerator, equal_instalment, term)
    totals = principal_parts + interest_parts

    # --- who pays what ------------------------------------------------------------------
    due_by = (ends <= today).sum(axis=1)  # instalments due on or before as_of
    past_due = (ends < today).sum(axis=1)  # … strictly before: a miss makes dpd > 0
    can_default = past_due > 0
    odds = min(1.0, delinquent_share * count / max(1, int(can_default.sum())))
    delinquent = can_default & (rng.random(count) < odds)
    stopped_after = (rng.random(count) * past_due).astype(np.int64)  # k in [0, past_due)
    draw = rng.random(count)
    settles = ~delinquent & (draw < SETTLE_SHARE) & (due_by < term)
    prepays = ~delinquent & ~settles & (draw < SETTLE_SHARE + PREPAY_SHARE) & (due_by < term)

    # One early payment per prepaying or settling loan, after its last due date and by as_of:
    # the next instalment in full, or every remaining principal plus the next period's
    # interest (which covers the payoff: interest is owed only for the days used).
    last_due = np.where(due_by > 0, ends[rows, np.maximum(due_by - 1, 0)], start)
    room = today - last_due
    early = (prepays | settles) & (room > 0)
    early_date = last_due + 1 + (rng.random(count) * np.maximum(room, 1)).astype(np.int64)
    following = np.minimum(due_by, term - 1)
    index = np.arange(term)[None, :]
    remaining = np.where(index >= due_by[:, None], principal_parts, 0).sum(axis=1)
    early_amount = np.where(
        settles, remaining + interest_parts[rows, following], totals[rows, following]
    )

    paid = np.where(delinquent[:, None], index < stopped_after[:, None], index < due_by[:, None])
    mask = np.concatenate([paid, early[:, None]], axis=1)
    owner, column = np.nonzero(mask)  # row-major: by loan, then by date
    amounts = np.concatenate(
        [np.where(delinquent[:, None], totals // 2, totals), early_amount[:, None]], axis=1
    )[owner, column]
    pay_dates = np.concatenate([ends, early_date[:, None]], axis=1)[owner, column]

    # --- text columns, built as bytes -----------------------------------------------------
    loan_ref = np.empty((count, 13), dtype=np.uint8)
    loan_ref[:, :3] = np.frombuffer(b"SYN", np.uint8)
    loan_ref[:, 3:] = _digits(ids, 10)
    seq_width = len(str(term + 1))
    pay_ref = np.empty((len(owner), 14 + seq_width), dtype=np.uint8)
    pay_ref[:, :13] = loan_ref.view("V13").ravel()[owner].view(np.uint8).reshape(-1, 13)
    pay_ref[:, 13] = ord("-")
    pay_ref[:, 14:] = _digits(column + 1, seq_width)
    rate_values = pa.array(
        [Decimal(int(n)) / RATE_DENOMINATOR for n in RATE_NUMERATORS],
        type=SCHEMAS[LOANS].field("rate_value").type,
    )
    loans = pa.Table.from_arrays(
        [
            pa.array(ids),
            _string_array(loan_ref),
            pa.array(product_id),
            pa.repeat(pa.scalar("CNY"), count),
            pa.array(principal),
            rate_values.take(pa.array(rate_index)),
            pa.repeat(pa.scalar("daily"), count),
            pa.repeat(pa.scalar("30/360"), count),
            _dates(start),
        ],
        schema=SCHEMAS[LOANS],
    )
    instalments = pa.Table.from_arrays(
        [
            pa.array(np.repeat(ids, term)),
            pa.array(np.tile(seq.astype(np.int32), count)),
            _dates(ends),
            pa.array(principal_parts.ravel()),
            pa.array(interest_parts.ravel()),
            _dates(begins),
            _dates(ends),
        ],
        schema=SCHEMAS[INSTALMENTS],
    )
    payments = pa.Table.from_arrays(
        [
            pa.array(ids[owner]),
            _string_array(pay_ref),
            _dates(pay_dates),
            pa.array(amounts),
            pa.nulls(len(owner), type=pa.date32()),
        ],
        schema=SCHEMAS[PAYMENTS],
    )
    return loans, instalments, payments


def write_synthetic_snapshot(
    directory: Path,
    *,
    loans: int,
    as_of: date,
    seed: int = 1,
    term: int = 12,
    delinquent_share: float = 0.10,
    rows_per_group: int = 1_000_000,
) -> dict[str, int]:
    """Write a synthetic snapshot of ``loans`` loans as of ``as_of`` to ``directory``; returns
    the row count of each file. The same arguments always give the same data files."""
    if loans < 0:
        raise ValueError("loans must not be negative")
    if not 1 <= term <= 120:
        raise ValueError("term must be 1–120 months")
    if not 0.0 <= delinquent_share <= 1.0:
        raise ValueError("delinquent_share must be between 0 and 1")
    with (
        SnapshotWriter(directory, row_group_rows=rows_per_group) as writer,
        ThreadPoolExecutor(max_workers=1) as background,
    ):
        writer.write_rows(PRODUCTS, _product_rows())

        def write(tables: tuple[pa.Table, pa.Table, pa.Table]) -> None:
            for name, table in zip((LOANS, INSTALMENTS, PAYMENTS), tables, strict=True):
                writer.write(name, table)

        # Block n+1 is generated while block n is written (Parquet encoding releases the GIL);
        # at most one block waits, so memory stays at about two blocks.
        writing: Future[None] | None = None
        for block, first in enumerate(range(0, loans, BLOCK_LOANS)):
            rng = np.random.default_rng([seed, block])
            count = min(BLOCK_LOANS, loans - first)
            tables = _block(rng, first + 1, count, as_of, term, delinquent_share)
            if writing is not None:
                writing.result()
            writing = background.submit(write, tables)
        if writing is not None:
            writing.result()
    return dict(writer.counts)


def main(argv: list[str] | None = None) -> int:
    """``python -m arrears.engine.synthetic DIR --loans N --as-of YYYY-MM-DD``."""
    parser = argparse.ArgumentParser(
        prog="python -m arrears.engine.synthetic",
        description="Write a synthetic portfolio snapshot (for benchmarks and big tests).",
    )
    parser.add_argument("directory", type=Path)
    parser.add_argument("--loans", type=int, required=True)
    parser.add_argument("--as-of", required=True, help="the business date (YYYY-MM-DD)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--term", type=int, default=12, help="months (default 12)")
    parser.add_argument("--delinquent-share", type=float, default=0.10)
    parser.add_argument("--rows-per-group", type=int, default=1_000_000)
    options = parser.parse_args(argv)
    try:
        as_of = parse_date(options.as_of, field_name="--as-of")
    except InvalidDate as error:
        parser.error(str(error))
    began = time.perf_counter()
    try:
        counts = write_synthetic_snapshot(
            options.directory,
            loans=options.loans,
            as_of=as_of,
            seed=options.seed,
            term=options.term,
            delinquent_share=options.delinquent_share,
            rows_per_group=options.rows_per_group,
        )
    except ValueError as error:
        parser.error(str(error))
    seconds = time.perf_counter() - began
    print(", ".join(f"{counts[name]} {name}" for name in COLUMNS), f"in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
