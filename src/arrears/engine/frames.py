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
from arrears.kernel.contract import LOAN_STATE, Unit
from arrears.kernel.terms import (
    DayCount,
    InterestRate,
    ProductTerms,
    RateBasis,
    product_terms_from,
)

#: What makes a loan's rate fractions and product codes: the distinct keys are few.
_RATE_KEY = ["rate_value", "rate_basis", "day_count", "product_id"]
#: The result's date figures: the replay gives day numbers, ``NO_DATE`` for an empty one.
DATES = tuple(f.name for f in LOAN_STATE if f.unit is Unit.DATE)
#: The per-loan codes (and their array types) taken from a loan's key.
_CODE_TYPES: dict[str, type] = {
    "dnum": np.int64,
    "dden": np.int64,
    "pnum": np.int64,
    "pden": np.int64,
    "compound": np.bool_,
    "grace": np.int32,
    "retro": np.bool_,
    "cap_num": np.int64,
    "cap_den": np.int64,
    "rounding": np.int8,
    "accrual": np.int8,
    "tolerance": np.int64,
}


def _product_terms(products: pl.DataFrame) -> dict[int, ProductTerms]:
    return {row["product_id"]: product_terms_from(row) for row in products.iter_rows(named=True)}


def _loan_codes(loans: pl.DataFrame, terms: dict[int, ProductTerms]) -> dict[str, np.ndarray]:
    """Each loan's product codes and exact rate fractions, as arrays in ``loans`` order.

    Only the distinct (rate, basis, day count, product) keys — a few dozen for a whole
    portfolio — go through Python (:class:`InterestRate`, :func:`fraction`); every loan then
    takes its key's values by one NumPy gather, so the per-loan work is one hash of the key.
    A product_id with no product row raises ``KeyError``, as a lookup in ``terms`` would."""
    keys = loans.select(_RATE_KEY).unique(maintain_order=True)
    index = (
        loans.select(_RATE_KEY)
        .join(keys.with_row_index("key"), on=_RATE_KEY, how="left", maintain_order="left")["key"]
        .to_numpy()
    )
    columns: dict[str, list[int]] = {name: [] for name in _CODE_TYPES}
    order: list[tuple[int, int, int, int]] = []
    codes_of: dict[int, ProductCodes] = {}
    for row in keys.with_columns(pl.col("rate_value").cast(pl.String)).iter_rows(named=True):
        product = terms[row["product_id"]]
        codes = codes_of.get(row["product_id"])
        if codes is None:
            codes = codes_of[row["product_id"]] = ProductCodes.of(product)
        rate = InterestRate(Decimal(row["rate_value"]), RateBasis(row["rate_basis"]))
        daily = rate.daily(DayCount(row["day_count"]))
        penalty = daily * product.penalty_multiplier
        (dnum, dden), (pnum, pden) = fraction(daily), fraction(penalty)
        for name, value in (
            ("compound", codes.compound),
            ("grace", codes.grace),
            ("retro", codes.retro),
            ("cap_num", codes.cap[0]),
            ("cap_den", codes.cap[1]),
            ("rounding", codes.rounding),
            ("accrual", codes.accrual),
            ("tolerance", codes.tolerance),
            ("dnum", dnum),
            ("dden", dden),
            ("pnum", pnum),
            ("pden", pden),
        ):
            columns[name].append(int(value))
        order.append(codes.order)
    arrays = {
        name: np.asarray(values, dtype=_CODE_TYPES[name])[index] for name, values in columns.items()
    }
    arrays["order"] = np.asarray(order, dtype=np.int8).reshape(len(keys), 4)[index]
    return arrays


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


def _due_order_holds(instalments: pl.DataFrame) -> bool:
    """Whether instalments already sorted by (loan_id, seq) are also in (loan_id, due_date,
    seq) order: due dates never fall within a loan (a snapshot's usually do not)."""
    if len(instalments) < 2:
        return True
    owner = instalments["loan_id"].to_numpy()
    due = instalments["due_date"].to_physical().to_numpy()
    return not np.any((owner[1:] == owner[:-1]) & (due[1:] < due[:-1]))


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

    ``validated``: the frames come from the snapshot reader, which has already proved loans
    sorted by loan_id, instalments by (loan_id, seq), payments by (loan_id, value_date, ref)
    and every row owned by a loan of the chunk, so those checks and sorts are skipped (only
    the due-date order within a loan is left to check). The arrays are the frames' own
    buffers wherever the type already fits (no copy; :func:`arrears.engine.batch.run` takes
    them read-only)."""
    terms = _product_terms(products)
    if not validated:
        loans = loans.sort("loan_id")
    codes = _loan_codes(loans, terms)
    loan_ids = loans["loan_id"].to_numpy()
    in_force = payments.select(
        (pl.col("value_date") <= as_of)
        & (pl.col("reversed_on").is_null() | (pl.col("reversed_on") > as_of))
    ).to_series()
    # (Usually every payment counts, and the frame is used as it is, without a copy.)
    effective = payments if in_force.all() else payments.filter(in_force)
    if validated:
        inst = instalments
        if not _due_order_holds(inst):
            inst = inst.sort(["loan_id", "due_date", "seq"])
        pays = effective
    else:
        inst = _owned(instalments, loan_ids, ["loan_id", "due_date", "seq"])
        pays = _owned(effective, loan_ids, ["loan_id", "value_date", "ref"])
    unreadable = None
    if inst.null_count().sum_horizontal().item():
        # an instalment with a missing value (a stored schedule the ledger could not read):
        # its loan goes to the kernel, which names the instalment (engine.snapshot.terms)
        broken = inst.select(pl.any_horizontal(pl.all().is_null())).to_series()
        unreadable = np.isin(loan_ids, inst.filter(broken)["loan_id"].to_numpy())
        inst = inst.filter(~broken)
    inst_off = _offsets(inst["loan_id"].to_numpy(), loan_ids)
    iprincipal = inst["principal_minor"].to_numpy()
    counts = np.diff(inst_off)
    scheduled = np.zeros(len(loan_ids), dtype=np.int64)
    nonempty = counts > 0
    if len(iprincipal):
        scheduled[nonempty] = np.add.reduceat(iprincipal, inst_off[:-1][nonempty])
    suspect = ~nonempty | (scheduled != loans["principal_minor"].to_numpy())
    if unreadable is not None:
        suspect |= unreadable

    def days(frame: pl.DataFrame, column: str) -> np.ndarray:
        return frame[column].cast(pl.Int32).to_numpy()

    def ints(frame: pl.DataFrame, column: str) -> np.ndarray:
        return frame[column].to_numpy()

    batch = Batch(
        refs=loans["ref"],
        loan_start=days(loans, "start_date"),
        loan_principal=ints(loans, "principal_minor"),
        inst_off=inst_off,
        due=days(inst, "due_date"),
        pstart=days(inst, "period_start"),
        iprincipal=iprincipal,
        iinterest=ints(inst, "interest_minor"),
        pay_off=_offsets(pays["loan_id"].to_numpy(), loan_ids),
        pvalue=days(pays, "value_date"),
        pamount=ints(pays, "amount_minor"),
        suspect=suspect,
        dnum=codes["dnum"],
        dden=codes["dden"],
        pnum=codes["pnum"],
        pden=codes["pden"],
        compound=codes["compound"],
        grace=codes["grace"],
        retro=codes["retro"],
        cap_num=codes["cap_num"],
        cap_den=codes["cap_den"],
        rounding=codes["rounding"],
        accrual=codes["accrual"],
        order=codes["order"],
        tolerance=codes["tolerance"],
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
    no_date = pl.lit(int(replay.NO_DATE)).cast(pl.Int32).cast(pl.Date)
    frame = loans.with_columns(
        pl.lit(as_of).alias("as_of"),
        *(
            pl.Series(name, results[:, i])
            for i, name in enumerate(RESULT_COLUMNS)
            if name not in DATES and name != "status"
        ),
        *(
            pl.Series(name, results[:, RESULT_COLUMNS.index(name)].astype(np.int32)).cast(pl.Date)
            for name in DATES
        ),
        pl.Series(
            "fallback",
            (results[:, replay.O_STATUS] == replay.FALLBACK)
            | (False if suspect is None else suspect),
        ),
        pl.Series("started", results[:, replay.O_STATUS] != replay.NOT_STARTED),
    ).with_columns(  # the replay's "no date" is an empty one
        pl.when(pl.col(name) == no_date).then(None).otherwise(pl.col(name)).alias(name)
        for name in DATES
    )
    # Each loan's bucket as an index into every product's bucket names, then one gather of
    # the names (no Python string per loan); a loan of no known product has none.
    names: list[str] = []
    codes = np.full(len(frame), -1, dtype=np.int64)
    dpd = results[:, replay.O_DPD]
    product_ids = frame["product_id"].to_numpy()
    for product_id, product in terms.items():
        mask = product_ids == product_id
        if not mask.any():
            continue
        mins = np.array([b.min_dpd for b in product.buckets])
        local = np.searchsorted(mins, dpd[mask], side="right") - 1
        codes[mask] = len(names) + local % len(mins)  # (below the first bucket: the last)
        names.extend(b.name for b in product.buckets)
    if not names:
        return frame.with_columns(pl.lit(None, dtype=pl.String).alias("bucket"))
    bucket = pl.Series("bucket", names, dtype=pl.String).gather(np.maximum(codes, 0))
    if len(codes) and codes.min() < 0:
        bucket = pl.select(
            pl.when(pl.Series(codes >= 0)).then(bucket).otherwise(None).alias("bucket")
        ).to_series()
    return frame.with_columns(bucket)
