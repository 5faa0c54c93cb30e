"""Polars frames in, Polars frames out: the snapshot-to-results path of the daily run.

``batch_from_frames`` turns one chunk of snapshot frames (products, loans, instalments,
payments; see :mod:`arrears.engine.snapshot` for the format) into a :class:`Batch` with
vectorised column work — the only per-row Python is over the handful of distinct products and
rates. ``results_frame`` turns the compiled replay's output back into a frame with buckets.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import polars as pl

from arrears.engine import replay
from arrears.engine.batch import RESULT_COLUMNS, Batch, ProductCodes, fraction
from arrears.kernel.terms import (
    DayCount,
    InterestRate,
    ProductTerms,
    RateBasis,
    product_terms_from,
)


def _product_table(products: pl.DataFrame) -> tuple[pl.DataFrame, dict[int, ProductTerms]]:
    rows, terms = [], {}
    for row in products.iter_rows(named=True):
        product = terms[row["product_id"]] = product_terms_from(row)
        codes = ProductCodes.of(product)
        rows.append(
            {
                "product_id": row["product_id"],
                "compound": codes.compound,
                "grace": codes.grace,
                "retro": codes.retro,
                "cap_num": codes.cap[0],
                "cap_den": codes.cap[1],
                "rounding": codes.rounding,
                "accrual": codes.accrual,
                "o0": codes.order[0],
                "o1": codes.order[1],
                "o2": codes.order[2],
                "o3": codes.order[3],
                "tolerance": codes.tolerance,
            }
        )
    schema = {
        "product_id": pl.Int64,
        "compound": pl.Boolean,
        "grace": pl.Int32,
        "retro": pl.Boolean,
        "cap_num": pl.Int64,
        "cap_den": pl.Int64,
        "rounding": pl.Int8,
        "accrual": pl.Int8,
        "o0": pl.Int8,
        "o1": pl.Int8,
        "o2": pl.Int8,
        "o3": pl.Int8,
        "tolerance": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema), terms


def _rate_table(loans: pl.DataFrame, terms: dict[int, ProductTerms]) -> pl.DataFrame:
    """Exact daily and penalty rate fractions for each distinct (rate, basis, day count,
    product) — a few dozen rows for a whole portfolio."""
    keys = loans.select(
        pl.col("rate_value").cast(pl.String).alias("rate_text"),
        "rate_value",
        "rate_basis",
        "day_count",
        "product_id",
    ).unique(subset=["rate_text", "rate_basis", "day_count", "product_id"])
    rows = []
    for row in keys.iter_rows(named=True):
        rate = InterestRate(Decimal(row["rate_text"]), RateBasis(row["rate_basis"]))
        daily = rate.daily(DayCount(row["day_count"]))
        penalty = daily * terms[row["product_id"]].penalty_multiplier
        (dnum, dden), (pnum, pden) = fraction(daily), fraction(penalty)
        rows.append(
            (
                row["rate_text"],
                row["rate_basis"],
                row["day_count"],
                row["product_id"],
                dnum,
                dden,
                pnum,
                pden,
            )
        )
    return pl.DataFrame(
        rows,
        schema={
            "rate_text": pl.String,
            "rate_basis": pl.String,
            "day_count": pl.String,
            "product_id": pl.Int64,
            "dnum": pl.Int64,
            "dden": pl.Int64,
            "pnum": pl.Int64,
            "pden": pl.Int64,
        },
        orient="row",
    )


def _sorted_by(frame: pl.DataFrame, keys: list[str]) -> bool:
    """Whether ``frame`` is already in ``keys`` order (snapshots are written that way, so the
    expensive sort is usually skipped). Numeric keys are compared with NumPy; string keys
    (payment refs) only where every earlier key ties, which is rare."""
    if len(frame) < 2:
        return True
    undecided = np.ones(len(frame) - 1, dtype=np.bool_)
    for key in keys:
        column = frame[key]
        if column.dtype == pl.String:
            rows = np.flatnonzero(undecided)
            if len(rows) == 0:
                return True
            texts = column.gather(np.concatenate([rows, rows + 1])).to_list()
            half = len(rows)
            return all(a <= b for a, b in zip(texts[:half], texts[half:], strict=True))
        values = column.to_physical().to_numpy()
        step = np.diff(values)
        if np.any(undecided & (step < 0)):
            return False
        undecided &= step == 0
        if not undecided.any():
            return True
    return True


def _owned(frame: pl.DataFrame, loan_ids: np.ndarray, keys: list[str]) -> pl.DataFrame:
    """Rows of ``frame`` belonging to ``loan_ids`` (sorted), in ``keys`` order."""
    owner = frame["loan_id"].to_numpy()
    if len(owner) and len(loan_ids):
        if len(owner) > 1 and np.all(owner[1:] >= owner[:-1]):
            owner = owner[np.concatenate(([0], np.flatnonzero(np.diff(owner)) + 1))]
        at = np.searchsorted(loan_ids, owner).clip(max=len(loan_ids) - 1)
        if not np.array_equal(loan_ids[at], owner):
            frame = frame.filter(pl.col("loan_id").is_in(pl.Series(loan_ids).implode()))
    elif len(owner):
        frame = frame.clear()
    return frame if _sorted_by(frame, keys) else frame.sort(keys)


def _offsets(owner: np.ndarray, loan_ids: np.ndarray) -> np.ndarray:
    """CSR offsets of rows grouped by ``owner`` (sorted) for the sorted ``loan_ids``."""
    offsets = np.empty(len(loan_ids) + 1, dtype=np.int64)
    offsets[:-1] = np.searchsorted(owner, loan_ids, side="left")
    offsets[-1] = len(owner)
    return offsets


def batch_from_frames(
    products: pl.DataFrame,
    loans: pl.DataFrame,
    instalments: pl.DataFrame,
    payments: pl.DataFrame,
    as_of: date,
    *,
    validated: bool = False,
) -> tuple[Batch, pl.DataFrame, dict[int, ProductTerms]]:
    """The batch for one chunk, the loans frame in batch order, and the product terms.

    ``validated``: the frames come from the snapshot reader, which has already proved them
    sorted and every row owned by a loan of the chunk, so those checks are skipped."""
    table, terms = _product_table(products)
    loans = (
        loans.sort("loan_id")
        .with_columns(pl.col("rate_value").cast(pl.String).alias("rate_text"))
        .join(table, on="product_id", how="left")
        .join(
            _rate_table(loans, terms),
            on=["rate_text", "rate_basis", "day_count", "product_id"],
            how="left",
        )
    )
    loan_ids = loans["loan_id"].to_numpy()
    effective = payments.filter(
        (pl.col("value_date") <= as_of)
        & (pl.col("reversed_on").is_null() | (pl.col("reversed_on") > as_of))
    )
    if validated:  # sorted by (loan_id, seq); due dates only need checking, not refs
        inst = instalments
        if not _sorted_by(inst, ["loan_id", "due_date", "seq"]):
            inst = inst.sort(["loan_id", "due_date", "seq"])
        pays = effective
    else:
        inst = _owned(instalments, loan_ids, ["loan_id", "due_date", "seq"])
        pays = _owned(effective, loan_ids, ["loan_id", "value_date", "ref"])
    inst_off = _offsets(inst["loan_id"].to_numpy(), loan_ids)
    iprincipal = inst["principal_minor"].to_numpy()
    counts = np.diff(inst_off)
    scheduled = np.zeros(len(loan_ids), dtype=np.int64)
    nonempty = counts > 0
    if len(iprincipal):
        scheduled[nonempty] = np.add.reduceat(iprincipal, inst_off[:-1][nonempty])
    suspect = ~nonempty | (scheduled != loans["principal_minor"].to_numpy())

    def days(frame: pl.DataFrame, column: str) -> np.ndarray:
        return frame[column].cast(pl.Int32).to_numpy().astype(np.int32, copy=False)

    def ints(frame: pl.DataFrame, column: str, dtype: type = np.int64) -> np.ndarray:
        return frame[column].to_numpy().astype(dtype, copy=False)

    batch = Batch(
        refs=loans["ref"].to_list(),
        loan_start=days(loans, "start_date"),
        loan_principal=ints(loans, "principal_minor"),
        dnum=ints(loans, "dnum"),
        dden=ints(loans, "dden"),
        pnum=ints(loans, "pnum"),
        pden=ints(loans, "pden"),
        compound=ints(loans, "compound", np.bool_),
        grace=ints(loans, "grace", np.int32),
        retro=ints(loans, "retro", np.bool_),
        cap_num=ints(loans, "cap_num"),
        cap_den=ints(loans, "cap_den"),
        rounding=ints(loans, "rounding", np.int8),
        accrual=ints(loans, "accrual", np.int8),
        order=loans.select("o0", "o1", "o2", "o3").to_numpy().astype(np.int8),
        tolerance=ints(loans, "tolerance"),
        inst_off=inst_off,
        due=days(inst, "due_date"),
        pstart=days(inst, "period_start"),
        iprincipal=ints(inst, "principal_minor"),
        iinterest=ints(inst, "interest_minor"),
        pay_off=_offsets(pays["loan_id"].to_numpy(), loan_ids),
        pvalue=days(pays, "value_date"),
        pamount=ints(pays, "amount_minor"),
        suspect=suspect,
    )
    return batch, loans.select("loan_id", "ref", "product_id"), terms


def results_frame(
    loans: pl.DataFrame,
    results: np.ndarray,
    as_of: date,
    terms: dict[int, ProductTerms],
    suspect: np.ndarray | None = None,
) -> pl.DataFrame:
    """One row per loan: the state columns, its bucket and whether the kernel must redo it."""
    frame = loans.with_columns(
        pl.lit(as_of).alias("as_of"),
        *(
            pl.Series(name, results[:, i])
            for i, name in enumerate(RESULT_COLUMNS)
            if name not in {"settled_on", "status"}
        ),
        pl.Series("settled_on", results[:, replay.O_SETTLED_ON].astype(np.int32))
        .cast(pl.Date)
        .alias("settled_on"),
        pl.Series(
            "fallback",
            (results[:, replay.O_STATUS] == replay.FALLBACK)
            | (False if suspect is None else suspect),
        ),
        pl.Series("started", results[:, replay.O_STATUS] != replay.NOT_STARTED),
    ).with_columns(
        pl.when(pl.col("settled_on") == pl.lit(int(replay.NO_DATE)).cast(pl.Int32).cast(pl.Date))
        .then(None)
        .otherwise(pl.col("settled_on"))
        .alias("settled_on")
    )
    bucket = np.empty(len(frame), dtype=object)
    dpd = results[:, replay.O_DPD]
    product_ids = frame["product_id"].to_numpy()
    for product_id, product in terms.items():
        mask = product_ids == product_id
        if not mask.any():
            continue
        mins = np.array([b.min_dpd for b in product.buckets])
        names = np.array([b.name for b in product.buckets], dtype=object)
        bucket[mask] = names[np.searchsorted(mins, dpd[mask], side="right") - 1]
    return frame.with_columns(pl.Series("bucket", bucket, dtype=pl.String))
