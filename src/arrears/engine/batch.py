"""Flat arrays for the compiled replay, built from kernel values or from snapshot frames.

A :class:`Batch` holds one chunk of loans in CSR layout (instalments and effective payments
grouped by loan, in the kernel's processing order) with every rate as an exact integer fraction.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from math import gcd

import numpy as np

from arrears.engine import replay
from arrears.kernel.contract import LOAN_STATE
from arrears.kernel.money import Rounding
from arrears.kernel.terms import AccrualRounding, Component, LoanTerms, Payment, ProductTerms

EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

ROUNDING_CODES = {
    Rounding.HALF_UP: replay.HALF_UP,
    Rounding.HALF_EVEN: replay.HALF_EVEN,
    Rounding.DOWN: replay.DOWN,
    Rounding.UP: replay.UP,
    Rounding.FLOOR: replay.FLOOR,
    Rounding.CEILING: replay.CEILING,
}
ACCRUAL_CODES = {AccrualRounding.DAILY: replay.DAILY, AccrualRounding.PERIOD: replay.PERIOD}
COMPONENT_CODES = {
    Component.PENALTY: replay.PENALTY,
    Component.COMPOUND: replay.COMPOUND,
    Component.INTEREST: replay.INTEREST,
    Component.PRINCIPAL: replay.PRINCIPAL,
}

#: Names of the result columns, in ``replay.O_*`` order: the contract's figures
#: (:data:`arrears.kernel.contract.LOAN_STATE`) except the bucket, which is looked up from the dpd
#: after the replay, then the replay's status. ``tests/kernel/test_contract.py`` ties the order to
#: ``replay.O_*``.
RESULT_COLUMNS = (*(f.name for f in LOAN_STATE if f.name != "bucket"), "status")


def day_number(day: date) -> int:
    return day.toordinal() - EPOCH_ORDINAL


def from_day_number(number: int) -> date:
    return date.fromordinal(number + EPOCH_ORDINAL)


def fraction(rate: Decimal) -> tuple[int, int]:
    """An exact decimal as a reduced ``(numerator, denominator)``: 0.00075 → (3, 4000)."""
    sign, digits, exponent = rate.normalize().as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"rate {rate} is not finite")
    numerator = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
    if exponent >= 0:
        return numerator * 10**exponent, 1
    denominator = 10**-exponent
    common = gcd(numerator, denominator) or 1
    return numerator // common, denominator // common


@dataclass(frozen=True)
class ProductCodes:
    """A product's rules as the integer codes the compiled replay takes."""

    penalty_multiplier: Decimal
    compound: bool
    grace: int
    retro: bool
    cap: tuple[int, int]
    rounding: int
    accrual: int
    order: tuple[int, int, int, int]
    tolerance: int

    @classmethod
    def of(cls, product: ProductTerms) -> ProductCodes:
        cap = (0, 0) if product.cost_cap_annual is None else fraction(product.cost_cap_annual)
        order = tuple(COMPONENT_CODES[c] for c in product.allocation_order)
        assert len(order) == 4
        return cls(
            penalty_multiplier=product.penalty_multiplier,
            compound=product.compound,
            grace=product.grace_days,
            retro=product.grace_retroactive,
            cap=cap,
            rounding=ROUNDING_CODES[product.rounding],
            accrual=ACCRUAL_CODES[product.accrual_rounding],
            order=(order[0], order[1], order[2], order[3]),
            tolerance=product.tolerance,
        )


@dataclass
class Batch:
    """One chunk of loans in the compiled replay's layout."""

    #: The loans' references (a list, or a frame's column: no Python string per loan).
    refs: Collection[str]
    loan_start: np.ndarray
    loan_principal: np.ndarray
    dnum: np.ndarray
    dden: np.ndarray
    pnum: np.ndarray
    pden: np.ndarray
    compound: np.ndarray
    grace: np.ndarray
    retro: np.ndarray
    cap_num: np.ndarray
    cap_den: np.ndarray
    rounding: np.ndarray
    accrual: np.ndarray
    order: np.ndarray
    tolerance: np.ndarray
    inst_off: np.ndarray
    due: np.ndarray
    pstart: np.ndarray
    iprincipal: np.ndarray
    iinterest: np.ndarray
    pay_off: np.ndarray
    pvalue: np.ndarray
    pamount: np.ndarray
    #: Loans whose rows the kernel would refuse (e.g. a schedule that does not sum to the
    #: principal): the engine's numbers for them are discarded and the kernel reports them.
    suspect: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.loan_start)


def from_kernel(loans: Sequence[tuple[LoanTerms, Sequence[Payment]]], as_of: date) -> Batch:
    """A batch from kernel values (tests, and the fallback path for small sets of loans)."""
    count = len(loans)
    i64 = np.int64
    cols: dict[str, list[int]] = {
        name: []
        for name in (
            "loan_start",
            "loan_principal",
            "dnum",
            "dden",
            "pnum",
            "pden",
            "compound",
            "grace",
            "retro",
            "cap_num",
            "cap_den",
            "rounding",
            "accrual",
            "tolerance",
        )
    }
    order: list[tuple[int, int, int, int]] = []
    inst_off, due, pstart, iprincipal, iinterest = [0], [], [], [], []
    pay_off, pvalue, pamount = [0], [], []
    products: dict[int, ProductCodes] = {}
    for loan, payments in loans:
        codes = products.get(id(loan.product))
        if codes is None:
            codes = products[id(loan.product)] = ProductCodes.of(loan.product)
        dnum, dden = fraction(loan.daily_rate)
        pnum, pden = fraction(loan.penalty_rate)
        for name, value in (
            ("loan_start", day_number(loan.start)),
            ("loan_principal", loan.principal),
            ("dnum", dnum),
            ("dden", dden),
            ("pnum", pnum),
            ("pden", pden),
            ("compound", codes.compound),
            ("grace", codes.grace),
            ("retro", codes.retro),
            ("cap_num", codes.cap[0]),
            ("cap_den", codes.cap[1]),
            ("rounding", codes.rounding),
            ("accrual", codes.accrual),
            ("tolerance", codes.tolerance),
        ):
            cols[name].append(int(value))
        order.append(codes.order)
        for inst in sorted(loan.schedule, key=lambda i: i.due_date):
            due.append(day_number(inst.due_date))
            pstart.append(day_number(inst.period_start))
            iprincipal.append(inst.principal)
            iinterest.append(inst.interest)
        inst_off.append(len(due))
        effective = sorted(
            (p for p in payments if p.effective(as_of)), key=lambda p: (p.value_date, p.ref)
        )
        for p in effective:
            pvalue.append(day_number(p.value_date))
            pamount.append(p.amount)
        pay_off.append(len(pvalue))
    arrays = {name: np.asarray(values, dtype=i64) for name, values in cols.items()}
    return Batch(
        refs=[loan.ref for loan, _ in loans],
        loan_start=arrays["loan_start"].astype(np.int32),
        loan_principal=arrays["loan_principal"],
        dnum=arrays["dnum"],
        dden=arrays["dden"],
        pnum=arrays["pnum"],
        pden=arrays["pden"],
        compound=arrays["compound"].astype(np.bool_),
        grace=arrays["grace"].astype(np.int32),
        retro=arrays["retro"].astype(np.bool_),
        cap_num=arrays["cap_num"],
        cap_den=arrays["cap_den"],
        rounding=arrays["rounding"].astype(np.int8),
        accrual=arrays["accrual"].astype(np.int8),
        order=np.asarray(order, dtype=np.int8).reshape(count, 4),
        tolerance=arrays["tolerance"],
        inst_off=np.asarray(inst_off, dtype=i64),
        due=np.asarray(due, dtype=np.int32),
        pstart=np.asarray(pstart, dtype=np.int32),
        iprincipal=np.asarray(iprincipal, dtype=i64),
        iinterest=np.asarray(iinterest, dtype=i64),
        pay_off=np.asarray(pay_off, dtype=i64),
        pvalue=np.asarray(pvalue, dtype=np.int32),
        pamount=np.asarray(pamount, dtype=i64),
    )


def warm_up() -> None:
    """Load the compiled replay (from Numba's cache, or compile it) and its thread pool now,
    with one loan that has not started: the first real call then computes at once. The
    runner does this while its reader decodes the first chunk, so the load (some 0.4 s of
    CPU) overlaps the read instead of following it. (One loan is replayed on this thread
    alone, :data:`SERIAL_BELOW`; the pool's threads first work on a larger batch.)"""
    loans, none = np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    run(
        Batch(
            refs=["warm-up"],
            loan_start=np.ones(1, dtype=np.int32),  # day 1 > as_of (day 0): not started
            loan_principal=loans,
            dnum=loans,
            dden=np.ones(1, dtype=np.int64),
            pnum=loans,
            pden=np.ones(1, dtype=np.int64),
            compound=np.zeros(1, dtype=np.bool_),
            grace=np.zeros(1, dtype=np.int32),
            retro=np.zeros(1, dtype=np.bool_),
            cap_num=loans,
            cap_den=loans,
            rounding=np.zeros(1, dtype=np.int8),
            accrual=np.zeros(1, dtype=np.int8),
            order=np.zeros((1, 4), dtype=np.int8),
            tolerance=loans,
            inst_off=np.zeros(2, dtype=np.int64),
            due=none.astype(np.int32),
            pstart=none.astype(np.int32),
            iprincipal=none,
            iinterest=none,
            pay_off=np.zeros(2, dtype=np.int64),
            pvalue=none.astype(np.int32),
            pamount=none,
        ),
        from_day_number(0),
    )


#: A batch of fewer loans is replayed on the calling thread alone. Handing a few loans to the
#: replay's threads saves less than it costs: each parallel call wakes them, and OpenMP's idle
#: threads then spin before they sleep — about 2.5 ms of CPU a call on a busy two-core machine,
#: twenty-five times the replay of one loan (a one-loan batch: 2.6 ms of CPU with two threads,
#: 0.1 ms with one). Every loan is replayed alone whatever the thread, so the figures are the
#: same either way.
SERIAL_BELOW = 256


def run(batch: Batch, as_of: date, *, blocks: int | None = None) -> np.ndarray:
    """Replay a batch; returns (loans × len(RESULT_COLUMNS)) int64 results."""
    import numba

    if len(batch) == 0:
        return np.zeros((0, replay.NOUT), dtype=np.int64)
    threads = numba.get_num_threads()
    blocks = blocks or max(1, min(len(batch), threads * 8))
    serial = threads > 1 and len(batch) < SERIAL_BELOW

    def c(values: np.ndarray, dtype: type) -> np.ndarray:
        # One array type for the compiled function whatever produced the column: C-contiguous
        # and read-only. Numba compiles, and caches, a specialisation per combination of
        # array types it meets; read-only everywhere (rather than writable everywhere) lets
        # Arrow's read-only buffers through without a copy (about 400 MB a million loans),
        # and the replay only reads its inputs (a write to one would not compile).
        array = np.require(values, dtype=dtype, requirements=["C", "A"])
        if array.flags.writeable:
            array = array.view()
            array.flags.writeable = False
        return array

    i64, i32, i8, flag = np.int64, np.int32, np.int8, np.bool_
    if serial:
        numba.set_num_threads(1)  # this thread's setting only; put back below
    try:
        result: np.ndarray = replay.replay_all(
            c(batch.loan_start, i32),
            c(batch.loan_principal, i64),
            c(batch.dnum, i64),
            c(batch.dden, i64),
            c(batch.pnum, i64),
            c(batch.pden, i64),
            c(batch.compound, flag),
            c(batch.grace, i32),
            c(batch.retro, flag),
            c(batch.cap_num, i64),
            c(batch.cap_den, i64),
            c(batch.rounding, i8),
            c(batch.accrual, i8),
            c(batch.order, i8),
            c(batch.tolerance, i64),
            c(batch.inst_off, i64),
            c(batch.due, i32),
            c(batch.pstart, i32),
            c(batch.iprincipal, i64),
            c(batch.iinterest, i64),
            c(batch.pay_off, i64),
            c(batch.pvalue, i32),
            c(batch.pamount, i64),
            day_number(as_of),
            blocks,
        )
    finally:
        if serial:
            numba.set_num_threads(threads)
    return result
