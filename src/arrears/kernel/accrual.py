"""Accrual: contractual interest for days used, penalty interest (罚息), compound interest (复利).

Penalty accrues for every day an instalment is overdue, on the overdue principal as it stood at
the start of that day, at the penalty daily rate (contract daily rate × product multiplier).
Compound interest accrues the same way on overdue *interest* when the product enables it; there
is never penalty on penalty. Rounding to the minor unit happens at a named point:

* ``daily`` — each day's amount is rounded, so 10 days cost ``10 × round(base × rate)``;
* ``period`` — each run of days with an unchanged base is rounded once,
  ``round(days × base × rate)``;
* ``period`` under a cost cap — the rule ``running total under a cost cap``: the exact running
  total, clamped exactly to the cap, is rounded once (:class:`RunningTotalAccrual` says why).

Either way every figure decomposes into :class:`PenaltyPeriod` lines
``days × base × rate = amount`` that a person can check by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal

from arrears.kernel.money import Rounding, round_minor
from arrears.kernel.terms import AccrualRounding

#: A private Decimal context so that results never depend on the caller's global context.
EXACT = Context(prec=50, rounding=ROUND_HALF_EVEN)


def rate_amount(base: int, rate: Decimal, days: int = 1) -> Decimal:
    """The exact (unrounded) amount ``days × base × rate`` in minor units."""
    return EXACT.multiply(EXACT.multiply(Decimal(base), rate), Decimal(days))


def daily_amount(base: int, rate: Decimal, rounding: Rounding) -> int:
    """One day's accrual on ``base`` rounded under ``rounding``.

    Example (also a test): 833.33 × 0.075 % = 0.6249975 → 0.62 half-up, so ``62`` fen.
    """
    return round_minor(rate_amount(base, rate), rounding)


def interest_for_days_used(
    balance: int, daily_rate: Decimal, days: int, scheduled: int, rounding: Rounding
) -> int:
    """Interest for ``days`` on ``balance``, never more than the instalment's scheduled interest.

    Early repayment pays interest only for the days used (民法典 art. 677); the cap at the
    scheduled amount keeps a long calendar month from costing more than the contract says.
    """
    if days <= 0 or balance <= 0:
        return 0
    return min(scheduled, round_minor(rate_amount(balance, daily_rate, days), rounding))


def cost_cap(principal: int, annual_cap: Decimal, start: date, as_of: date) -> int:
    """Most total cost (interest + penalty + compound) allowed by ``as_of``, truncated.

    The annualised cap (e.g. 24 % a year, the level above which courts reduce charges on
    request) is pro-rated by actual days over 365 and truncated to the minor unit so the cap is
    never exceeded by rounding.
    """
    days = max(0, (as_of - start).days)
    exact = EXACT.divide(rate_amount(principal, annual_cap, days), Decimal(365))
    return round_minor(exact, Rounding.DOWN)


@dataclass(frozen=True, slots=True)
class PenaltyPeriod:
    """A run of days with one base: ``days × base × rate = amount`` (``capped`` when the cost
    cap cut the amount; ``amount`` is then less than the product). ``cut_by_plan``: under
    ``period`` rounding a repayment plan's freeze ended the run, so it was rounded down (see
    :meth:`PenaltyAccrual.freeze`)."""

    start: date
    days: int
    base: int
    rate: Decimal
    amount: int
    capped: bool = False
    cut_by_plan: bool = False

    @property
    def end(self) -> date:
        return self.start + timedelta(days=self.days - 1)


class PenaltyAccrual:
    """Accumulates one instalment's penalty (or compound interest) day run by day run.

    Mutable on purpose: it is private working state of :func:`arrears.kernel.state.state`,
    which freezes the result into :class:`PenaltyPeriod` tuples.
    """

    __slots__ = (
        "_closed",
        "_daily",
        "_periods",
        "_run_base",
        "_run_days",
        "_run_start",
        "_runs",
        "mode",
        "rate",
        "rounding",
    )

    def __init__(self, rate: Decimal, rounding: Rounding, mode: AccrualRounding) -> None:
        self.rate = rate
        self.rounding = rounding
        self.mode = mode
        self._closed = 0
        self._periods: list[PenaltyPeriod] = []
        self._run_start: date | None = None
        self._run_days = 0
        self._run_base = 0
        #: What :meth:`_amount` computed, by base (``daily``: one day's amount) or by (base,
        #: days) (``period``): the total is read every day under a cost cap and by every
        #: payment, and the Decimal arithmetic behind it was most of a capped replay's time.
        #: A pure function of its key (rate, rounding and mode never change), so the cache
        #: changes no figure.
        self._daily: dict[int, int] = {}
        self._runs: dict[tuple[int, int], int] = {}

    # --- reading ----------------------------------------------------------------------
    def _amount(self, base: int, days: int) -> int:
        """``days`` days on ``base`` rounded in the product's mode (one run)."""
        if self.mode is AccrualRounding.DAILY:
            unit = self._daily.get(base)
            if unit is None:
                unit = self._daily[base] = daily_amount(base, self.rate, self.rounding)
            return days * unit
        amount = self._runs.get((base, days))
        if amount is None:
            amount = round_minor(rate_amount(base, self.rate, days), self.rounding)
            self._runs[base, days] = amount
        return amount

    def _run_amount(self, days: int) -> int:
        if days == 0:
            return 0
        return self._amount(self._run_base, days)

    @property
    def total(self) -> int:
        return self._closed + self._run_amount(self._run_days)

    def periods(self) -> tuple[PenaltyPeriod, ...]:
        if self._run_days == 0 or self._run_start is None:
            return tuple(self._periods)
        run = PenaltyPeriod(
            self._run_start,
            self._run_days,
            self._run_base,
            self.rate,
            self._run_amount(self._run_days),
        )
        return (*self._periods, run)

    # --- writing ----------------------------------------------------------------------
    def _close(self) -> None:
        if self._run_days and self._run_start is not None:
            amount = self._run_amount(self._run_days)
            self._periods.append(
                PenaltyPeriod(self._run_start, self._run_days, self._run_base, self.rate, amount)
            )
            self._closed += amount
        self._run_start, self._run_days, self._run_base = None, 0, 0

    def increment_if_added(self, first_day: date, days: int, base: int) -> int:
        """How much :meth:`add` with the same arguments would raise :attr:`total`."""
        if base <= 0 or days <= 0:
            return 0
        if self._continues(first_day, base):
            return self._run_amount(self._run_days + days) - self._run_amount(self._run_days)
        return self._amount(base, days)

    def _continues(self, first_day: date, base: int) -> bool:
        return (
            self._run_start is not None
            and base == self._run_base
            and self._run_start + timedelta(days=self._run_days) == first_day
        )

    def add(self, first_day: date, days: int, base: int) -> None:
        """Accrue ``days`` days from ``first_day`` on ``base`` (a zero base accrues nothing)."""
        if days <= 0:
            return
        if base <= 0:
            self._close()
            return
        if not self._continues(first_day, base):
            self._close()
            self._run_start, self._run_base = first_day, base
        self._run_days += days

    def freeze(self, day: date) -> None:
        """A repayment plan freezes accrual from ``day``: end the run that reached yesterday.

        Under ``period`` rounding that run is rounded *down*. Rounding both parts of a run split
        by a freeze in the product's mode could charge a fen more than the unsplit run
        (0.675 + 1.575 → 1 + 2 = 3 fen, against 2.475 → 2 over all days), so a plan would make
        the borrower owe more than no plan. With the first part truncated,
        ``⌊a⌋ + round(b) ≤ round(a + b) ≤ round(a + frozen + b)`` for every rounding mode, and
        several freezes add nothing either. ``daily`` rounding needs nothing: its days add up.
        """
        if self.mode is AccrualRounding.DAILY or self._run_start is None or self._run_days == 0:
            return
        if self._run_start + timedelta(days=self._run_days) != day:
            return  # the run ended earlier; the freeze does not cut it
        exact = rate_amount(self._run_base, self.rate, self._run_days)
        amount = round_minor(exact, Rounding.DOWN)
        self._periods.append(
            PenaltyPeriod(
                self._run_start, self._run_days, self._run_base, self.rate, amount, cut_by_plan=True
            )
        )
        self._closed += amount
        self._run_start, self._run_days, self._run_base = None, 0, 0

    def add_capped(self, first_day: date, days: int, base: int, amount: int) -> None:
        """Record days whose accrual the cost cap cut to ``amount`` (possibly zero)."""
        self._close()
        self._periods.append(PenaltyPeriod(first_day, days, base, self.rate, amount, capped=True))
        self._closed += amount

    def absorb(self, other: PenaltyAccrual) -> None:
        """Take over ``other`` (a confirmed grace-window accrual): its finished periods, and its
        open run as this accrual's open run, so the grace days and the days after them form
        one run when the base is unchanged — a missed retroactive grace leaves the loan exactly
        as if there had been no grace."""
        self._close()
        for period in other._periods:
            self._periods.append(period)
            self._closed += period.amount
        self._run_start, self._run_days, self._run_base = (
            other._run_start,
            other._run_days,
            other._run_base,
        )


class RunningTotalAccrual:
    """``period`` rounding under a cost cap: the exact running total, rounded once.

    Rule ``running total under a cost cap``: the accrual is kept exact (``days × base × rate``
    summed without rounding) and clamped exactly — a day the cap binds on adds only what takes
    the exact total up to the room the cap leaves, ``E = max(E, min(E + day, room))`` — and
    only the total is rounded in the product's mode. Its lines are the increments of the
    rounded running total, so they add up to it.

    Why not round each run, as :class:`PenaltyAccrual` does without a cap: a cap that binds
    cuts runs, and whether it binds on a day depended on how the runs before had rounded, so
    freezing one day could leave the cap room for two later days. The falsifying example
    (``test_a_plan_under_a_binding_cost_cap_adds_no_fen``): a plan freezing one day charged
    0.18 against 0.17 without it. Exact clamping and one rounding are monotone, so fewer
    accruing days can never cost more.
    """

    __slots__ = ("_day", "_exact", "_items", "_settled", "_total", "mode", "rate", "rounding")

    def __init__(self, rate: Decimal, rounding: Rounding, mode: AccrualRounding) -> None:
        self.rate = rate
        self.rounding = rounding
        self.mode = mode
        #: [start, days, base, exact amount, capped] in order; the last may still grow.
        self._items: list[tuple[date, int, int, Decimal, bool]] = []
        #: The sum of every item's exact amount but the last's, added in order (a capped day
        #: adds an item and reads the total: summing all items on every read made a long
        #: delinquency quadratic in its days). The total is this plus the last item's amount:
        #: the same additions in the same order as summing them all, so the same Decimal.
        self._settled = Decimal(0)
        #: :attr:`exact` and :attr:`total` as last read, until the next write (a capped
        #: replay reads them several times a day; each read was a Decimal addition and a
        #: rounding). Every write to ``_items`` goes through :meth:`_changed`.
        self._exact: Decimal | None = None
        self._total: int | None = None
        #: One day's exact amount by base (:meth:`add_within` asks for it every capped day).
        self._day: dict[int, Decimal] = {}

    def _changed(self) -> None:
        self._exact = self._total = None

    def _append(self, item: tuple[date, int, int, Decimal, bool]) -> None:
        if self._items:
            self._settled = EXACT.add(self._settled, self._items[-1][3])
        self._items.append(item)
        self._changed()

    # --- reading ----------------------------------------------------------------------
    @property
    def exact(self) -> Decimal:
        if self._exact is None:
            if not self._items:
                self._exact = Decimal(0)
            else:
                self._exact = EXACT.add(self._settled, self._items[-1][3])
        return self._exact

    @property
    def total(self) -> int:
        if self._total is None:
            self._total = round_minor(self.exact, self.rounding)
        return self._total

    def periods(self) -> tuple[PenaltyPeriod, ...]:
        result: list[PenaltyPeriod] = []
        running, shown = Decimal(0), 0
        for start, days, base, exact, capped in self._items:
            running = EXACT.add(running, exact)
            rounded = round_minor(running, self.rounding)
            result.append(PenaltyPeriod(start, days, base, self.rate, rounded - shown, capped))
            shown = rounded
        return tuple(result)

    # --- writing ----------------------------------------------------------------------
    def add(self, first_day: date, days: int, base: int) -> None:
        """Accrue ``days`` days from ``first_day`` on ``base`` in full (a zero base: nothing)."""
        if days <= 0 or base <= 0:
            return
        if self._items:
            start, run, run_base, _, capped = self._items[-1]
            if not capped and run_base == base and start + timedelta(days=run) == first_day:
                exact = rate_amount(base, self.rate, run + days)
                self._items[-1] = (start, run + days, base, exact, False)
                self._changed()
                return
        self._append((first_day, days, base, rate_amount(base, self.rate, days), False))

    def add_within(self, day: date, base: int, room: int) -> None:
        """Accrue ``day`` on ``base`` so that the exact total does not pass ``room`` (the most
        the cap leaves this accrual): in full when it fits, else cut to what fits."""
        if base <= 0:
            return
        amount = self._day.get(base)
        if amount is None:
            amount = self._day[base] = rate_amount(base, self.rate)
        before = self.exact
        if EXACT.add(before, amount) <= room:
            self.add(day, 1, base)
            return
        allowed = max(Decimal(0), min(amount, EXACT.subtract(Decimal(room), before)))
        self._append((day, 1, base, allowed, True))

    def absorb_within(self, other: RunningTotalAccrual, room: int) -> None:
        """Take over ``other`` (a confirmed grace-window accrual) as one piece, cut like a day
        by :meth:`add_within` when the whole of it does not fit in ``room``."""
        if not other._items:
            return
        before, pending = self.exact, other.exact
        if EXACT.add(before, pending) <= room:
            for item in other._items:
                self._append(item)
            return
        allowed = max(Decimal(0), min(pending, EXACT.subtract(Decimal(room), before)))
        start = other._items[0][0]
        days = sum(item[1] for item in other._items)
        self._append((start, days, other._items[0][2], allowed, True))

    def freeze(self, day: date) -> None:
        """A plan's freeze needs nothing here: the running total is rounded once, so a run
        split by frozen days costs at most what the unsplit run would."""
