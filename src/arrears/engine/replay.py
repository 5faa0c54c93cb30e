"""The compiled replay: the kernel's day contract in exact integer arithmetic, for many loans.

This is :func:`arrears.kernel.state.state` rewritten over flat NumPy arrays (loans, their
instalments and payments in CSR layout) and compiled with Numba, so a whole portfolio replays
at native speed on every core. It must agree with the kernel to the fen on every loan; the
differential tests in ``tests/engine`` hold it to that.

Exactness: every rate is an exact decimal ``num / den`` (the kernel names the rounding that
makes an annual rate's daily equivalent a short decimal), every amount an int64 of minor units,
and every rounding is integer division with the product's named rule. Products that could
overflow int64 are flagged per loan (``status == FALLBACK``) and replayed by the kernel instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import numpy.typing as npt
from numba import prange

if TYPE_CHECKING:
    _F = TypeVar("_F", bound=Callable[..., Any])

    def njit(
        *, cache: bool = ..., parallel: bool = ..., error_model: str = ...
    ) -> Callable[[_F], _F]:
        """Numba's ``njit`` as mypy should see it: the compiled function keeps its signature
        (Numba's own is untyped, so every call, here and in ``batch``, would go unchecked)."""
else:
    from numba import njit

# Every function here is compiled with ``error_model="numpy"``: an integer ``//`` or ``%`` then
# compiles to the bare division, where Python's error model puts a zero-divisor test and the
# machinery to raise ``ZeroDivisionError`` around each one — and the replay is made of such
# divisions (every accrual rounds ``base × num / den``). That cost 2.54 µs of CPU a loan
# against 0.72 (a million synthetic loans, one thread; the results identical). No divisor here
# can be zero: every ``den`` is a rate fraction's denominator (at least 1) or ``cap_den × 365``
# under a cap (``cap_den > 0``); ``replay_all`` sends a loan with any other to the kernel
# rather than trust a division by it (``FALLBACK``).

# Array types by dtype, as ``batch.run`` hands them over (``np.require`` fixes each one so Numba
# compiles a single specialisation). Indexing one element gives ``Any`` to mypy, so the few
# functions returning such a value name its type on a local first.
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
I8 = npt.NDArray[np.int8]
Flags = npt.NDArray[np.bool_]

# Rounding rule codes (kernel ``Rounding``), accrual modes and component codes.
HALF_UP, HALF_EVEN, DOWN, UP, FLOOR, CEILING = 0, 1, 2, 3, 4, 5
DAILY, PERIOD = 0, 1
# ``period`` under a cost cap (the kernel's ``RunningTotalAccrual``): an accumulator's closed
# column then holds the exact running total as a numerator over the rate's ``den``, and only the
# total is rounded. ``replay_all`` replays a capped ``period`` loan with it; never an input code.
# ``replay_all`` passes each mode to ``replay_loan`` as a constant, so Numba compiles one replay
# per mode with the other modes' branches folded away: with the mode a runtime value, the
# ``RUNNING`` branch in ``acc_total`` alone cost every loan's replay ~30 % (10 M loans: compute
# 15.5 → 20.3 s), though no loan took it.
RUNNING = 2
PENALTY, COMPOUND, INTEREST, PRINCIPAL = 0, 1, 2, 3

OK, FALLBACK, NOT_STARTED = 0, 1, 2
NO_DATE = np.int32(-(2**31) + 1)
LIMIT = np.int64(2**62)

# Per-instalment scratch columns.
(
    P_DUE,
    I_DUE,
    P_PAID,
    I_PAID,
    PEN_PAID,
    COMP_PAID,
    PAID_ON,
    PEN_CLOSED,
    PEN_START,
    PEN_DAYS,
    PEN_BASE,
    COMP_CLOSED,
    COMP_START,
    COMP_DAYS,
    COMP_BASE,
    GPEN_CLOSED,
    GPEN_START,
    GPEN_DAYS,
    GPEN_BASE,
    GCOMP_CLOSED,
    GCOMP_START,
    GCOMP_DAYS,
    GCOMP_BASE,
) = range(23)
NCOLS = 23
ACC_PEN, ACC_COMP, ACC_GPEN, ACC_GCOMP = PEN_CLOSED, COMP_CLOSED, GPEN_CLOSED, GCOMP_CLOSED

# Output columns (one row per loan).
(
    O_DPD,
    O_OVERDUE_PRINCIPAL,
    O_OVERDUE_INTEREST,
    O_PENALTY,
    O_COMPOUND,
    O_TOTAL_DUE,
    O_PRINCIPAL_OUT,
    O_ACCRUED,
    O_PAYOFF,
    O_CREDIT,
    O_PENALTY_ACCRUED,
    O_COMPOUND_ACCRUED,
    O_PAID_TOTAL,
    O_SETTLED_ON,
    O_NEXT_DUE_ON,
    O_STATUS,
) = range(16)
NOUT = 16


@njit(cache=True, error_model="numpy")
def round_qr(q: int, r: int, d: int, mode: int) -> int:
    """Round the non-negative value ``q + r/d`` (0 ≤ r < d) to an integer under ``mode``."""
    if r == 0:
        return q
    if mode == HALF_UP:
        return q + 1 if 2 * r >= d else q
    if mode == HALF_EVEN:
        if 2 * r > d or (2 * r == d and q % 2 == 1):
            return q + 1
        return q
    if mode in (UP, CEILING):
        return q + 1
    return q  # DOWN, FLOOR (values are never negative here)


@njit(cache=True, error_model="numpy")
def times_rate(base: int, days: int, num: int, den: int, mode: int) -> int:
    """round(base × days × num / den) exactly, without overflowing int64."""
    q1 = (base * num) // den
    r1 = (base * num) % den
    if days == 1:  # (one day, a daily accrual's step: ``r1 // den`` is 0, one division saved)
        return round_qr(q1, r1, den, mode)
    extra = days * r1
    return round_qr(days * q1 + extra // den, extra % den, den, mode)


@njit(cache=True, error_model="numpy")
def run_amount(
    w: I64, k: int, acc: int, days: int, num: int, den: int, mode: int, accrual: int
) -> int:
    if days == 0:
        return 0
    base = w[k, acc + 3]
    if accrual == DAILY:
        return days * times_rate(base, 1, num, den, mode)
    return times_rate(base, days, num, den, mode)


@njit(cache=True, error_model="numpy")
def acc_exact(w: I64, k: int, acc: int, num: int) -> int:
    """RUNNING: the exact total as a numerator over ``den`` (closed part plus the open run)."""
    exact: int = w[k, acc] + w[k, acc + 2] * w[k, acc + 3] * num
    return exact


@njit(cache=True, error_model="numpy")
def acc_total(w: I64, k: int, acc: int, num: int, den: int, mode: int, accrual: int) -> int:
    if accrual == RUNNING:
        exact = acc_exact(w, k, acc, num)
        return round_qr(exact // den, exact % den, den, mode)
    total: int = w[k, acc] + run_amount(w, k, acc, w[k, acc + 2], num, den, mode, accrual)
    return total


@njit(cache=True, error_model="numpy")
def acc_close(w: I64, k: int, acc: int, num: int, den: int, mode: int, accrual: int) -> None:
    if w[k, acc + 2] != 0 and w[k, acc + 1] != NO_DATE:
        if accrual == RUNNING:
            w[k, acc] += w[k, acc + 2] * w[k, acc + 3] * num
        else:
            w[k, acc] += run_amount(w, k, acc, w[k, acc + 2], num, den, mode, accrual)
    w[k, acc + 1] = NO_DATE
    w[k, acc + 2] = 0
    w[k, acc + 3] = 0


@njit(cache=True, error_model="numpy")
def within(exact: int, room: int, den: int) -> bool:
    """``exact / den ≤ room`` without forming ``room × den`` (which could overflow)."""
    if room < 0:
        return False
    q = exact // den
    return q < room or (q == room and exact % den == 0)


@njit(cache=True, error_model="numpy")
def clamped(before: int, add: int, room: int, den: int) -> int:
    """RUNNING, when ``before + add`` does not fit in ``room``: the numerator that takes the
    exact total up to ``room``, never below nothing (``room × den < before + add`` here)."""
    if room <= 0:
        return 0
    return max(0, min(add, room * den - before))


@njit(cache=True, error_model="numpy")
def acc_continues(w: I64, k: int, acc: int, first: int, base: int) -> bool:
    continues: bool = (
        w[k, acc + 1] != NO_DATE
        and base == w[k, acc + 3]
        and w[k, acc + 1] + w[k, acc + 2] == first
    )
    return continues


@njit(cache=True, error_model="numpy")
def acc_add(
    w: I64,
    k: int,
    acc: int,
    first: int,
    days: int,
    base: int,
    num: int,
    den: int,
    mode: int,
    accrual: int,
) -> None:
    if days <= 0:
        return
    if base <= 0:
        acc_close(w, k, acc, num, den, mode, accrual)
        return
    if not acc_continues(w, k, acc, first, base):
        acc_close(w, k, acc, num, den, mode, accrual)
        w[k, acc + 1] = first
        w[k, acc + 3] = base
    w[k, acc + 2] += days


@njit(cache=True, error_model="numpy")
def acc_increment(
    w: I64,
    k: int,
    acc: int,
    first: int,
    days: int,
    base: int,
    num: int,
    den: int,
    mode: int,
    accrual: int,
) -> int:
    if base <= 0 or days <= 0:
        return 0
    if acc_continues(w, k, acc, first, base):
        run = w[k, acc + 2]
        return run_amount(w, k, acc, run + days, num, den, mode, accrual) - run_amount(
            w, k, acc, run, num, den, mode, accrual
        )
    if accrual == DAILY:
        return days * times_rate(base, 1, num, den, mode)
    return times_rate(base, days, num, den, mode)


@njit(cache=True, error_model="numpy")
def owed(w: I64, k: int, c: int, num: int, den: int, mode: int, accrual: int) -> int:
    amount: int
    if c == PENALTY:
        amount = acc_total(w, k, ACC_PEN, num, den, mode, accrual) - w[k, PEN_PAID]
    elif c == COMPOUND:
        amount = acc_total(w, k, ACC_COMP, num, den, mode, accrual) - w[k, COMP_PAID]
    elif c == INTEREST:
        amount = w[k, I_DUE] - w[k, I_PAID]
    else:
        amount = w[k, P_DUE] - w[k, P_PAID]
    return amount


@njit(cache=True, error_model="numpy")
def outstanding(w: I64, k: int, num: int, den: int, mode: int, accrual: int) -> int:
    total = 0
    for c in range(4):
        total += owed(w, k, c, num, den, mode, accrual)
    return total


@njit(cache=True, error_model="numpy")
def cost_cap(principal: int, start: int, day: int, cap_num: int, cap_den: int) -> int:
    days = day - start
    if days < 0:
        days = 0
    return times_rate(principal, days, cap_num, cap_den * 365, DOWN)


@njit(cache=True, error_model="numpy")
def total_cost(
    w: I64,
    n: int,
    due: I32,
    o: int,
    day: int,
    num: int,
    den: int,
    mode: int,
    accrual: int,
) -> int:
    cost = 0
    for k in range(n):
        if due[o + k] <= day:
            cost += w[k, I_DUE]
        cost += acc_total(w, k, ACC_PEN, num, den, mode, accrual)
        cost += acc_total(w, k, ACC_COMP, num, den, mode, accrual)
    return cost


@njit(cache=True, error_model="numpy")
def replay_loan(
    w: I64,
    events: I32,
    n: int,
    o: int,
    due: I32,
    pstart: I32,
    p0: int,
    p1: int,
    pvalue: I32,
    pamount: I64,
    start: int,
    principal: int,
    as_of: int,
    dnum: int,
    dden: int,
    num: int,
    den: int,
    compound: bool,
    grace: int,
    retro: bool,
    cap_num: int,
    cap_den: int,
    mode: int,
    accrual: int,
    order: I8,
    tolerance: int,
    out: I64,
) -> None:
    capped = cap_den > 0
    # --- events: start, then the merge of three sorted streams (payment days clamped to the
    # start, due dates, grace ends) up to as_of, then as_of; days before the start are skipped
    # below (the streams are sorted, so the merge stops where all three have passed as_of)
    m = 0
    events[m] = start
    m += 1
    i, j, g = p0, 0, 0
    big = np.int32(2**31 - 1)
    while True:
        a = max(pvalue[i], start) if i < p1 else big
        b = due[o + j] if j < n else big
        c = due[o + g] + grace + 1 if (grace > 0 and g < n) else big
        if a > as_of and b > as_of and c > as_of:
            break
        if a <= b and a <= c:
            events[m] = a
            i += 1
        elif b <= c:
            events[m] = b
            j += 1
        else:
            events[m] = c
            g += 1
        m += 1
    events[m] = as_of
    m += 1

    credit = 0
    settled_on = NO_DATE
    paid_total = 0
    pj = p0
    cursor = start - 1
    previous = np.int32(-(2**31) + 1)
    # Instalments before ``lo`` owe nothing and never will again (amounts only fall once an
    # instalment is clear), so every scan below starts there.
    lo = 0
    for ei in range(m):
        day = events[ei]
        if day <= previous or day < start or day > as_of:
            continue
        previous = day
        for span in range(2):
            first = cursor + 1 if span == 0 else day
            last = day - 1 if span == 0 else day
            # ---- grace settlement happens between the bulk span and the event day
            if span == 1 and grace > 0:
                for k in range(lo, n):
                    if due[o + k] + grace + 1 > day:
                        break
                    if due[o + k] + grace + 1 != day:
                        continue
                    unpaid = w[k, P_DUE] - w[k, P_PAID] + w[k, I_DUE] - w[k, I_PAID]
                    pen_total = acc_total(w, k, ACC_GPEN, num, den, mode, accrual)
                    comp_total = acc_total(w, k, ACC_GCOMP, num, den, mode, accrual)
                    saved_pen = (
                        w[k, GPEN_CLOSED],
                        w[k, GPEN_START],
                        w[k, GPEN_DAYS],
                        w[k, GPEN_BASE],
                    )
                    saved_comp = (
                        w[k, GCOMP_CLOSED],
                        w[k, GCOMP_START],
                        w[k, GCOMP_DAYS],
                        w[k, GCOMP_BASE],
                    )
                    for acc in (ACC_GPEN, ACC_GCOMP):
                        w[k, acc] = 0
                        w[k, acc + 1] = NO_DATE
                        w[k, acc + 2] = 0
                        w[k, acc + 3] = 0
                    if unpaid <= tolerance:
                        continue
                    for which in range(2):
                        amount = pen_total if which == 0 else comp_total
                        target = ACC_PEN if which == 0 else ACC_COMP
                        saved = saved_pen if which == 0 else saved_comp
                        absorb = True
                        headroom = 0
                        if capped:
                            cap = cost_cap(principal, start, day - 1, cap_num, cap_den)
                            headroom = cap - total_cost(
                                w, n, due, o, day - 1, num, den, mode, accrual
                            )
                            if accrual == RUNNING:  # exact: headroom becomes the numerator cut
                                room = headroom + acc_total(w, k, target, num, den, mode, accrual)
                                before = acc_exact(w, k, target, num)
                                pending = saved[0] + saved[2] * saved[3] * num
                                absorb = within(before + pending, room, den)
                                headroom = clamped(before, pending, room, den)
                            else:
                                headroom = max(headroom, 0)
                                absorb = amount <= headroom
                        acc_close(w, k, target, num, den, mode, accrual)
                        if absorb:  # finished lines, and the open run carries on
                            w[k, target] += saved[0]
                            w[k, target + 1] = saved[1]
                            w[k, target + 2] = saved[2]
                            w[k, target + 3] = saved[3]
                        else:  # the cap cuts the grace-day charge to the headroom
                            w[k, target] += headroom
            days = last - first + 1
            if days <= 0:
                continue
            # ---- accrual over [first, last] for instalments overdue at its start
            if not capped:
                for k in range(lo, n):
                    if due[o + k] >= first:
                        break
                    if outstanding(w, k, num, den, mode, accrual) <= 0:
                        continue
                    base_p = w[k, P_DUE] - w[k, P_PAID]
                    base_i = w[k, I_DUE] - w[k, I_PAID]
                    if grace > 0 and first <= due[o + k] + grace:
                        if retro:
                            acc_add(w, k, ACC_GPEN, first, days, base_p, num, den, mode, accrual)
                            if compound:
                                acc_add(
                                    w, k, ACC_GCOMP, first, days, base_i, num, den, mode, accrual
                                )
                        continue
                    acc_add(w, k, ACC_PEN, first, days, base_p, num, den, mode, accrual)
                    if compound:
                        acc_add(w, k, ACC_COMP, first, days, base_i, num, den, mode, accrual)
                continue
            for k in range(lo, n):  # capped: grace days first, as above
                if due[o + k] >= first:
                    break
                if outstanding(w, k, num, den, mode, accrual) <= 0:
                    continue
                if grace > 0 and first <= due[o + k] + grace and retro:
                    acc_add(
                        w,
                        k,
                        ACC_GPEN,
                        first,
                        days,
                        w[k, P_DUE] - w[k, P_PAID],
                        num,
                        den,
                        mode,
                        accrual,
                    )
                    if compound:
                        acc_add(
                            w,
                            k,
                            ACC_GCOMP,
                            first,
                            days,
                            w[k, I_DUE] - w[k, I_PAID],
                            num,
                            den,
                            mode,
                            accrual,
                        )
            for d in range(first, last + 1):
                cap = cost_cap(principal, start, d, cap_num, cap_den)
                cost = total_cost(w, n, due, o, d, num, den, mode, accrual)
                for k in range(lo, n):
                    if due[o + k] >= first:
                        break
                    if grace > 0 and d <= due[o + k] + grace:
                        continue
                    if outstanding(w, k, num, den, mode, accrual) <= 0:
                        continue
                    for which in range(2 if compound else 1):
                        acc = ACC_PEN if which == 0 else ACC_COMP
                        if which == 0:
                            base = w[k, P_DUE] - w[k, P_PAID]
                        else:
                            base = w[k, I_DUE] - w[k, I_PAID]
                        if base <= 0:
                            acc_add(w, k, acc, d, 1, 0, num, den, mode, accrual)
                            continue
                        if accrual == RUNNING:  # exact clamp, one rounding of the total
                            before_total = acc_total(w, k, acc, num, den, mode, accrual)
                            room = cap - cost + before_total
                            before = acc_exact(w, k, acc, num)
                            if within(before + base * num, room, den):
                                acc_add(w, k, acc, d, 1, base, num, den, mode, accrual)
                            else:
                                acc_close(w, k, acc, num, den, mode, accrual)
                                w[k, acc] += clamped(before, base * num, room, den)
                            cost += acc_total(w, k, acc, num, den, mode, accrual) - before_total
                            continue
                        inc = acc_increment(w, k, acc, d, 1, base, num, den, mode, accrual)
                        if cost + inc <= cap:
                            acc_add(w, k, acc, d, 1, base, num, den, mode, accrual)
                            cost += inc
                        else:
                            allowed = max(cap - cost, 0)
                            acc_close(w, k, acc, num, den, mode, accrual)
                            w[k, acc] += allowed
                            cost += allowed
        # ---- dues: apply credit to instalments falling due today
        if credit > 0:
            due_today = False
            for k in range(n):
                if due[o + k] == day:
                    due_today = True
            if due_today:
                amount = credit
                credit = 0
                credit, settled = allocate(
                    w,
                    n,
                    o,
                    lo,
                    due,
                    pstart,
                    day,
                    amount,
                    credit,
                    order,
                    dnum,
                    dden,
                    num,
                    den,
                    mode,
                    accrual,
                )
                if settled:
                    settled_on = day
                while lo < n and outstanding(w, lo, num, den, mode, accrual) == 0:
                    lo += 1
        # ---- payments valued today
        while pj < p1 and max(pvalue[pj], start) == day:
            paid_total += pamount[pj]
            credit, settled = allocate(
                w,
                n,
                o,
                lo,
                due,
                pstart,
                pvalue[pj],
                pamount[pj],
                credit,
                order,
                dnum,
                dden,
                num,
                den,
                mode,
                accrual,
            )
            if settled:
                settled_on = pvalue[pj]
            while lo < n and outstanding(w, lo, num, den, mode, accrual) == 0:
                lo += 1
            pj += 1
        cursor = day

    # ---- the result
    earliest = NO_DATE
    next_due = NO_DATE  # the first instalment due on or after as_of that still owes anything
    overdue_p = overdue_i = pen_out = comp_out = total_due = principal_out = 0
    pen_acc = comp_acc = 0
    for k in range(n):
        d = due[o + k]
        pen_t = acc_total(w, k, ACC_PEN, num, den, mode, accrual)
        comp_t = acc_total(w, k, ACC_COMP, num, den, mode, accrual)
        # (``outstanding``, from the totals just computed)
        out_k = (
            pen_t
            - w[k, PEN_PAID]
            + comp_t
            - w[k, COMP_PAID]
            + w[k, I_DUE]
            - w[k, I_PAID]
            + w[k, P_DUE]
            - w[k, P_PAID]
        )
        if d < as_of and out_k > tolerance and (earliest == NO_DATE or d < earliest):
            earliest = d
        if d >= as_of and out_k > 0 and (next_due == NO_DATE or d < next_due):
            next_due = d
        if d < as_of:
            overdue_p += w[k, P_DUE] - w[k, P_PAID]
            overdue_i += w[k, I_DUE] - w[k, I_PAID]
        if d <= as_of:
            total_due += out_k
        pen_out += pen_t - w[k, PEN_PAID]
        comp_out += comp_t - w[k, COMP_PAID]
        principal_out += w[k, P_DUE] - w[k, P_PAID]
        pen_acc += pen_t
        comp_acc += comp_t
    future_p, accrued = payoff_future(w, n, o, due, pstart, as_of, dnum, dden, mode)
    out[O_DPD] = 0 if earliest == NO_DATE else as_of - earliest
    out[O_OVERDUE_PRINCIPAL] = overdue_p
    out[O_OVERDUE_INTEREST] = overdue_i
    out[O_PENALTY] = pen_out
    out[O_COMPOUND] = comp_out
    out[O_TOTAL_DUE] = total_due
    out[O_PRINCIPAL_OUT] = principal_out
    out[O_ACCRUED] = accrued
    out[O_PAYOFF] = max(total_due + future_p + accrued - credit, 0)
    out[O_CREDIT] = credit
    out[O_PENALTY_ACCRUED] = pen_acc
    out[O_COMPOUND_ACCRUED] = comp_acc
    out[O_PAID_TOTAL] = paid_total
    out[O_SETTLED_ON] = settled_on
    out[O_NEXT_DUE_ON] = next_due
    out[O_STATUS] = OK


@njit(cache=True, error_model="numpy")
def payoff_future(
    w: I64,
    n: int,
    o: int,
    due: I32,
    pstart: I32,
    day: int,
    dnum: int,
    dden: int,
    mode: int,
) -> tuple[int, int]:
    """(principal not yet due, interest for the days used in the current period)."""
    principal = 0
    current = -1
    for k in range(n):
        if due[o + k] > day:
            principal += w[k, P_DUE] - w[k, P_PAID]
            if current < 0:
                current = k
    if current < 0:
        return 0, 0
    days = day - pstart[o + current]
    if days <= 0 or principal <= 0:
        return principal, 0
    scheduled = w[current, I_DUE] - w[current, I_PAID]
    interest = times_rate(principal, days, dnum, dden, mode)
    return principal, min(scheduled, interest)


@njit(cache=True, error_model="numpy")
def allocate(
    w: I64,
    n: int,
    o: int,
    lo: int,
    due: I32,
    pstart: I32,
    day: int,
    amount: int,
    credit: int,
    order: I8,
    dnum: int,
    dden: int,
    num: int,
    den: int,
    mode: int,
    accrual: int,
) -> tuple[int, bool]:
    """Allocate ``amount`` on ``day`` oldest first in component ``order``; returns the new
    credit and whether the loan was settled early. (What an instalment owes is read just
    before paying it: paying one component never changes what another one owes.)"""
    left = amount
    for k in range(lo, n):
        if left == 0 or due[o + k] > day:
            break
        owe_now = (
            acc_total(w, k, ACC_PEN, num, den, mode, accrual) - w[k, PEN_PAID],
            acc_total(w, k, ACC_COMP, num, den, mode, accrual) - w[k, COMP_PAID],
            w[k, I_DUE] - w[k, I_PAID],
            w[k, P_DUE] - w[k, P_PAID],
        )
        for ci in range(4):
            if left == 0:
                break
            c = order[ci]
            owe = owe_now[c]
            if owe <= 0:
                continue
            paid = min(owe, left)
            left -= paid
            if c == PENALTY:
                w[k, PEN_PAID] += paid
            elif c == COMPOUND:
                w[k, COMP_PAID] += paid
            elif c == INTEREST:
                w[k, I_PAID] += paid
            else:
                w[k, P_PAID] += paid
            if w[k, PAID_ON] == NO_DATE and outstanding(w, k, num, den, mode, accrual) == 0:
                w[k, PAID_ON] = day
    credit += left
    if credit <= 0:
        return credit, False
    principal, interest = payoff_future(w, n, o, due, pstart, day, dnum, dden, mode)
    if principal == 0 or credit < principal + interest:
        return credit, False
    first = True
    for k in range(n):
        if due[o + k] > day:
            w[k, I_DUE] = w[k, I_PAID] + (interest if first else 0)
            first = False
            w[k, P_PAID] = w[k, P_DUE]
            w[k, I_PAID] = w[k, I_DUE]
            w[k, PAID_ON] = day
    return credit - principal - interest, True


@njit(cache=True, parallel=True, error_model="numpy")
def replay_all(
    loan_start: I32,
    loan_principal: I64,
    dnum: I64,
    dden: I64,
    pnum: I64,
    pden: I64,
    compound: Flags,
    grace: I32,
    retro: Flags,
    cap_num: I64,
    cap_den: I64,
    rounding: I8,
    accrual: I8,
    order: I8,
    tolerance: I64,
    inst_off: I64,
    due: I32,
    pstart: I32,
    iprincipal: I64,
    iinterest: I64,
    pay_off: I64,
    pvalue: I32,
    pamount: I64,
    as_of: int,
    blocks: int,
) -> I64:
    """Replay every loan; returns an (loans × NOUT) int64 array of results."""
    loans = loan_start.shape[0]
    out = np.zeros((loans, NOUT), dtype=np.int64)
    max_n = 1
    max_p = 0
    for i in range(loans):
        max_n = max(max_n, inst_off[i + 1] - inst_off[i])
        max_p = max(max_p, pay_off[i + 1] - pay_off[i])
    per_block = (loans + blocks - 1) // blocks
    for b in prange(blocks):
        w = np.empty((max_n, NCOLS), dtype=np.int64)
        events = np.empty(2 + max_p + 3 * max_n, dtype=np.int32)
        lo = b * per_block
        hi = min(loans, lo + per_block)
        for i in range(lo, hi):
            o = inst_off[i]
            n = inst_off[i + 1] - o
            if as_of < loan_start[i]:
                out[i, O_STATUS] = NOT_STARTED
                continue
            if n == 0 or dden[i] <= 0 or pden[i] <= 0 or cap_den[i] < 0:
                out[i, O_STATUS] = FALLBACK  # (a divisor the compiled arithmetic cannot take)
                continue
            biggest = loan_principal[i]
            interest_sum = 0
            for k in range(n):
                interest_sum += iinterest[o + k]
            biggest = max(biggest, interest_sum)
            big_num = max(pnum[i], dnum[i], cap_num[i])
            if (
                biggest > 0
                and big_num > 0
                and (biggest > LIMIT // big_num or max(pden[i], dden[i], cap_den[i]) > 10**13)
            ):
                out[i, O_STATUS] = FALLBACK
                continue
            # RUNNING keeps exact totals as numerators: up to every day to as_of on the
            # largest base at the penalty rate's numerator must fit
            span = as_of - loan_start[i] + 2
            if (
                cap_den[i] > 0
                and accrual[i] == PERIOD
                and biggest > 0
                and pnum[i] > 0
                and biggest > (LIMIT // pnum[i]) // span
            ):
                out[i, O_STATUS] = FALLBACK
                continue
            for k in range(n):
                w[k, P_DUE] = iprincipal[o + k]
                w[k, I_DUE] = iinterest[o + k]
                for c in range(2, NCOLS):
                    w[k, c] = 0
                w[k, PAID_ON] = NO_DATE
                for acc in (ACC_PEN, ACC_COMP, ACC_GPEN, ACC_GCOMP):
                    w[k, acc + 1] = NO_DATE
            # the accrual mode as a constant: one compiled replay per mode (see ``RUNNING``)
            if accrual[i] == DAILY:
                replay_loan(
                    w,
                    events,
                    n,
                    o,
                    due,
                    pstart,
                    pay_off[i],
                    pay_off[i + 1],
                    pvalue,
                    pamount,
                    loan_start[i],
                    loan_principal[i],
                    as_of,
                    dnum[i],
                    dden[i],
                    pnum[i],
                    pden[i],
                    compound[i],
                    grace[i],
                    retro[i],
                    cap_num[i],
                    cap_den[i],
                    rounding[i],
                    DAILY,
                    order[i],
                    tolerance[i],
                    out[i],
                )
            elif cap_den[i] > 0:
                replay_loan(
                    w,
                    events,
                    n,
                    o,
                    due,
                    pstart,
                    pay_off[i],
                    pay_off[i + 1],
                    pvalue,
                    pamount,
                    loan_start[i],
                    loan_principal[i],
                    as_of,
                    dnum[i],
                    dden[i],
                    pnum[i],
                    pden[i],
                    compound[i],
                    grace[i],
                    retro[i],
                    cap_num[i],
                    cap_den[i],
                    rounding[i],
                    RUNNING,
                    order[i],
                    tolerance[i],
                    out[i],
                )
            else:
                replay_loan(
                    w,
                    events,
                    n,
                    o,
                    due,
                    pstart,
                    pay_off[i],
                    pay_off[i + 1],
                    pvalue,
                    pamount,
                    loan_start[i],
                    loan_principal[i],
                    as_of,
                    dnum[i],
                    dden[i],
                    pnum[i],
                    pden[i],
                    compound[i],
                    grace[i],
                    retro[i],
                    cap_num[i],
                    cap_den[i],
                    rounding[i],
                    PERIOD,
                    order[i],
                    tolerance[i],
                    out[i],
                )
    return out
