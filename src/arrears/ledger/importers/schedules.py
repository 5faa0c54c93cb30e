"""The schedules of a whole batch of loans at once: column arithmetic for the common methods,
the kernel for the rest, the same instalments either way.

A file's loans mostly share their product, rate, term and method and differ in amount and
start date. For equal-instalment, equal-principal and interest-first schedules this module
takes each group of loans with the same terms but for those two, and runs the kernel's steps
(:mod:`arrears.kernel.schedule`) over numpy columns of int64 minor units instead of one loan
at a time: the periods and due dates come from the kernel (:func:`~arrears.kernel.schedule.
period_dates`, kept per start date), the level payment from the kernel
(:func:`~arrears.kernel.schedule.level_payments`), and each period's interest is the exact
fraction ``balance × rate × days / year`` rounded once under the product's rule — integer
arithmetic, exact, where the kernel's 40-digit ``Decimal`` is exact too. Every loan the
columns cannot take (a bullet, a figure that could leave int64, a level payment the kernel
would refuse) is built by the kernel itself, which also gives the error. A Hypothesis test
(``tests/ledger/test_import_schedules.py``) holds the two equal for random terms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import numpy.typing as npt
import polars as pl

from arrears.kernel.errors import ArrearsError
from arrears.kernel.money import Rounding
from arrears.kernel.schedule import accrual_days, build_schedule, level_payments, period_dates
from arrears.kernel.terms import RateBasis, ScheduleMethod, ScheduleTerms

Array = npt.NDArray[np.int64]

#: The methods computed in columns (a bullet is one instalment: the kernel is as fast).
VECTOR_METHODS = frozenset(
    {
        ScheduleMethod.EQUAL_INSTALMENT,
        ScheduleMethod.EQUAL_PRINCIPAL,
        ScheduleMethod.INTEREST_FIRST,
    }
)
#: Products of two figures stay below this so no int64 operation can overflow.
_SAFE = 2**62
_EPOCH = date(1970, 1, 1).toordinal()

#: The columns of :attr:`Schedules.frame`: ``loan`` is the position of the loan in the batch.
COLUMNS = ("loan", "seq", "due_date", "principal", "interest", "period_start", "period_end")


@dataclass(frozen=True, slots=True)
class Schedules:
    """The instalments of a batch of loans as one frame (``COLUMNS``, dates as ``pl.Date``),
    and the kernel's error for each loan whose schedule cannot be built (by position)."""

    frame: pl.DataFrame
    errors: dict[int, ArrearsError]


def round_fraction(numerator: Array, denominator: int, rule: Rounding) -> Array:
    """``numerator / denominator`` (both ≥ 0) rounded to an integer under ``rule``, exactly."""
    quotient, remainder = np.divmod(numerator, denominator)
    if rule in (Rounding.DOWN, Rounding.FLOOR):
        return quotient
    if rule in (Rounding.UP, Rounding.CEILING):
        return quotient + (remainder > 0)
    twice = 2 * remainder
    if rule is Rounding.HALF_UP:
        return quotient + (twice >= denominator)
    return quotient + ((twice > denominator) | ((twice == denominator) & (quotient % 2 == 1)))


def _group_key(terms: ScheduleTerms) -> tuple[object, ...]:
    return (
        terms.currency,
        terms.rate,
        terms.term,
        terms.method,
        terms.day_count,
        terms.rounding,
        terms.calendar,
        terms.convention,
    )


def build_schedules(batch: Sequence[ScheduleTerms]) -> Schedules:
    """The schedule of every ``ScheduleTerms`` of ``batch``, as :func:`build_schedule` gives it."""
    principals = np.array([terms.principal for terms in batch], dtype=np.int64)
    return build_schedules_of(batch, np.arange(len(batch), dtype=np.int64), principals)


def build_schedules_of(
    templates: Sequence[ScheduleTerms], template_of: Array, principals: Array
) -> Schedules:
    """The schedules of a batch given as a few distinct terms: loan ``p`` has the terms
    ``templates[template_of[p]]`` with the principal ``principals[p]``.

    An import's loans share a few hundred terms but for the amount, so the terms are made
    (and grouped) once per template, not once per loan; a loan left to the kernel gets its
    own ``ScheduleTerms`` (its template with its principal)."""
    keys: dict[tuple[object, ...], int] = {}
    group_of = np.array(
        [keys.setdefault(_group_key(terms), len(keys)) for terms in templates], dtype=np.int64
    )[template_of]
    order = np.argsort(group_of, kind="stable")
    bounds = np.searchsorted(group_of[order], np.arange(len(keys) + 1))
    parts: list[dict[str, Array]] = []
    kernel: list[int] = []
    for group in range(len(keys)):
        positions = order[bounds[group] : bounds[group + 1]]
        if not len(positions):
            continue
        done = _columns(templates, template_of, principals, positions)
        if done is None:
            kernel.extend(positions.tolist())
            continue
        part, refused = done
        parts.append(part)
        kernel.extend(refused)
    errors: dict[int, ArrearsError] = {}
    rows: list[tuple[int, int, int, int, int, int, int]] = []
    for position in sorted(kernel):
        terms = templates[int(template_of[position])]
        try:
            if terms.principal != principals[position]:
                terms = replace(terms, principal=int(principals[position]))
            schedule = build_schedule(terms)
        except ArrearsError as error:
            errors[position] = error
            continue
        rows.extend(
            (position, i.seq, i.due_date.toordinal() - _EPOCH, i.principal, i.interest,
             i.period_start.toordinal() - _EPOCH, i.period_end.toordinal() - _EPOCH)
            for i in schedule
        )  # fmt: skip
    if rows:
        parts.append(
            {
                name: np.array(column, dtype=np.int64)
                for name, column in zip(COLUMNS, zip(*rows, strict=True), strict=True)
            }
        )
    if parts:
        columns = {name: np.concatenate([part[name] for part in parts]) for name in COLUMNS}
    else:
        columns = {name: np.zeros(0, dtype=np.int64) for name in COLUMNS}
    frame = pl.DataFrame(columns).with_columns(
        pl.col("due_date", "period_start", "period_end").cast(pl.Int32).cast(pl.Date)
    )
    return Schedules(frame.sort("loan", "seq", maintain_order=True), errors)


def _columns(
    templates: Sequence[ScheduleTerms], template_of: Array, principals: Array, positions: Array
) -> tuple[dict[str, Array], list[int]] | None:
    """One group's instalments in columns, and the positions left to the kernel; ``None``
    when the whole group is (a method or a rate the columns do not take)."""
    first = templates[int(template_of[positions[0]])]
    if first.method not in VECTOR_METHODS:
        return None
    numerator, denominator = first.rate.value.as_integer_ratio()
    if first.rate.basis is RateBasis.ANNUAL:
        denominator *= first.day_count.year_days
    term = first.term
    if numerator < 0 or denominator >= _SAFE // 4:
        return None
    principal = principals[positions]
    # the group's templates differ only in their start date: one row of dates per start
    used, inverse = np.unique(template_of[positions], return_inverse=True)
    table: dict[date, int] = {}
    start_row = np.array(
        [table.setdefault(templates[t].start, len(table)) for t in used.tolist()], dtype=np.int64
    )
    where = start_row[inverse.reshape(-1)]
    days = np.empty((len(table), term), dtype=np.int64)
    dates = np.empty((len(table), 3, term), dtype=np.int64)
    for start, row in table.items():
        periods = period_dates(start, term, first.calendar, first.convention)
        for k, period_start, period_end, due in periods:
            days[row, k - 1] = accrual_days(first.day_count, period_start, period_end)
            dates[row, :, k - 1] = (
                due.toordinal() - _EPOCH,
                period_start.toordinal() - _EPOCH,
                period_end.toordinal() - _EPOCH,
            )
    # Only loans whose every product stays in int64 go through columns.
    fits = principal <= _SAFE // max(1, numerator * int(days.max(initial=1)))
    refused = positions[~fits].tolist()
    keep = np.flatnonzero(fits)
    principal, where = principal[keep], where[keep]
    kept = positions[keep].tolist()
    n = len(kept)
    if n == 0:
        return {name: np.zeros(0, dtype=np.int64) for name in COLUMNS}, refused
    loan_days = days[where]
    interest = np.empty((n, term), dtype=np.int64)
    paid = np.empty((n, term), dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    balance = principal.copy()
    rule = first.rounding
    method = first.method
    if method is ScheduleMethod.EQUAL_INSTALMENT:
        # once per distinct amount (a book's amounts repeat: round sums), the same figures
        distinct, inverse = np.unique(principal, return_inverse=True)
        try:
            payment = np.array(level_payments(first, distinct.tolist()), dtype=np.int64)[inverse]
        except (ArrearsError, OverflowError):
            return None
    elif method is ScheduleMethod.EQUAL_PRINCIPAL:
        part = round_fraction(principal, term, rule)
        last = principal - part * (term - 1)
        bad |= last < 0
    for k in range(term):
        interest[:, k] = round_fraction(balance * numerator * loan_days[:, k], denominator, rule)
        if method is ScheduleMethod.INTEREST_FIRST:
            paid[:, k] = principal if k == term - 1 else 0
            continue
        if k == term - 1:
            step = balance.copy()
        elif method is ScheduleMethod.EQUAL_INSTALMENT:
            step = payment - interest[:, k]
            bad |= (step < 0) | (step > balance)
            step = np.clip(step, 0, balance)
        else:
            step = np.minimum(part, balance)
        paid[:, k] = step
        balance = balance - step
    refused += [kept[i] for i in np.flatnonzero(bad).tolist()]
    good = np.flatnonzero(~bad)
    loan_dates = dates[where[good]]
    count = len(good)
    return {
        "loan": np.repeat(np.array(kept, dtype=np.int64)[good], term),
        "seq": np.tile(np.arange(1, term + 1, dtype=np.int64), count),
        "due_date": loan_dates[:, 0, :].reshape(-1),
        "principal": paid[good].reshape(-1),
        "interest": interest[good].reshape(-1),
        "period_start": loan_dates[:, 1, :].reshape(-1),
        "period_end": loan_dates[:, 2, :].reshape(-1),
    }, refused
