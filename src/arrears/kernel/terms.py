"""The value types a loan's computation is made of: rates, product terms, instalments, payments.

Inside one loan every amount is an ``int`` count of minor units of the loan's single currency
(``LoanTerms.currency``); :class:`~arrears.kernel.money.Money` is used at the edges (parsing,
display, cross-loan totals). This keeps the reference kernel simple and makes it line up column
for column with the vectorised engine.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from itertools import pairwise
from typing import Any

from arrears.kernel.calendar import ALL_DAYS, BusinessCalendar, BusinessDayConvention
from arrears.kernel.errors import InvalidTerms
from arrears.kernel.money import Rounding, exponent

#: Decimal places kept when an annual rate is turned into a daily one (a named rounding rule).
DAILY_RATE_PLACES = 10
DAILY_RATE_QUANTUM = Decimal(1).scaleb(-DAILY_RATE_PLACES)


class RateBasis(StrEnum):
    DAILY = "daily"
    ANNUAL = "annual"


class DayCount(StrEnum):
    """How days are counted for interest.

    ``30/360`` counts every regular monthly period as 30 days (the convention behind the Chinese
    lenders' "monthly rate = daily rate × 30"); the actual conventions count calendar days.
    """

    ACTUAL_360 = "actual/360"
    ACTUAL_365 = "actual/365"
    THIRTY_360 = "30/360"

    @property
    def year_days(self) -> int:
        return 365 if self is DayCount.ACTUAL_365 else 360


@dataclass(frozen=True, slots=True)
class InterestRate:
    """A contract rate quoted daily (微粒贷: 0.05 % a day) or annually (18 % a year)."""

    value: Decimal
    basis: RateBasis

    def __post_init__(self) -> None:
        if not isinstance(self.value, Decimal):
            raise InvalidTerms("an interest rate must be a Decimal, never a float")
        if self.value < 0:
            raise InvalidTerms(f"interest rate {self.value} is negative")

    def daily(self, day_count: DayCount) -> Decimal:
        """Rate per day: as quoted, or the annual rate over the day count's year rounded half-up
        to ``DAILY_RATE_PLACES`` decimals (0.18 / 365 → 0.0004931507).

        The named rounding makes every daily rate a short exact decimal, so accrual is exactly
        reproducible by integer arithmetic (the vectorised engine) and never depends on a
        Decimal context's precision.
        """
        if self.basis is RateBasis.DAILY:
            return self.value
        exact = Decimal(self.value) / Decimal(day_count.year_days)
        return exact.quantize(DAILY_RATE_QUANTUM, rounding=ROUND_HALF_UP)

    def monthly(self) -> Decimal:
        """Rate per regular monthly period: daily × 30, or annual ÷ 12."""
        if self.basis is RateBasis.DAILY:
            return self.value * 30
        return self.value / 12


class ScheduleMethod(StrEnum):
    EQUAL_INSTALMENT = "equal-instalment"  # 等额本息
    EQUAL_PRINCIPAL = "equal-principal"  # 等额本金
    INTEREST_FIRST = "interest-first"  # 先息后本
    BULLET = "bullet"  # 到期一次还本付息


@dataclass(frozen=True, slots=True)
class ScheduleTerms:
    """Everything needed to build a repayment schedule, and nothing else."""

    principal: int
    currency: str
    rate: InterestRate
    term: int
    method: ScheduleMethod
    start: date
    day_count: DayCount = DayCount.THIRTY_360
    rounding: Rounding = Rounding.HALF_UP
    calendar: BusinessCalendar = ALL_DAYS
    convention: BusinessDayConvention = BusinessDayConvention.NONE

    def __post_init__(self) -> None:
        exponent(self.currency)
        if self.principal <= 0:
            raise InvalidTerms(f"principal must be positive, got {self.principal}")
        if not 1 <= self.term <= 600:
            raise InvalidTerms(f"term must be 1–600 months, got {self.term}")


@dataclass(frozen=True, slots=True)
class Instalment:
    """One scheduled instalment (期供). ``due_date`` is after business-day shifting; interest
    accrues over the unshifted ``[period_start, period_end)``."""

    seq: int
    due_date: date
    principal: int
    interest: int
    period_start: date
    period_end: date

    @property
    def total(self) -> int:
        return self.principal + self.interest


class Component(StrEnum):
    """The parts of an instalment a payment can be allocated to."""

    PENALTY = "penalty"  # 罚息: on overdue principal
    COMPOUND = "compound"  # 复利: on overdue interest
    INTEREST = "interest"
    PRINCIPAL = "principal"


PENALTY_FIRST: tuple[Component, ...] = (
    Component.PENALTY,
    Component.COMPOUND,
    Component.INTEREST,
    Component.PRINCIPAL,
)
PRINCIPAL_FIRST: tuple[Component, ...] = (
    Component.PRINCIPAL,
    Component.INTEREST,
    Component.PENALTY,
    Component.COMPOUND,
)


class AccrualRounding(StrEnum):
    """Where penalty is rounded to the minor unit.

    ``daily``: each day's penalty is rounded, then days are added (10 days × round(base × rate)).
    ``period``: each run of days with the same base is rounded once (round(10 × base × rate)).
    """

    DAILY = "daily"
    PERIOD = "period"


@dataclass(frozen=True, slots=True)
class Bucket:
    """A delinquency range (账龄): ``min_dpd`` to ``max_dpd`` inclusive, the last open-ended."""

    name: str
    min_dpd: int
    max_dpd: int | None


DEFAULT_BUCKETS: tuple[Bucket, ...] = (
    Bucket("M0", 0, 0),
    Bucket("M1", 1, 30),
    Bucket("M2", 31, 60),
    Bucket("M3", 61, 90),
    Bucket("M4", 91, 120),
    Bucket("M5", 121, 150),
    Bucket("M6", 151, 180),
    Bucket("M7+", 181, None),
)


@dataclass(frozen=True, slots=True)
class ProductTerms:
    """The product rules that turn a schedule and payments into a state (versioned in the DB)."""

    penalty_multiplier: Decimal = Decimal("1.5")
    compound: bool = False
    grace_days: int = 0
    grace_retroactive: bool = False
    cost_cap_annual: Decimal | None = None
    rounding: Rounding = Rounding.HALF_UP
    accrual_rounding: AccrualRounding = AccrualRounding.DAILY
    allocation_order: tuple[Component, ...] = PENALTY_FIRST
    tolerance: int = 0
    buckets: tuple[Bucket, ...] = field(default=DEFAULT_BUCKETS)

    def __post_init__(self) -> None:
        if not isinstance(self.penalty_multiplier, Decimal) or self.penalty_multiplier < 0:
            raise InvalidTerms("penalty_multiplier must be a non-negative Decimal")
        if self.grace_days < 0:
            raise InvalidTerms("grace_days must not be negative")
        if self.tolerance < 0:
            raise InvalidTerms("tolerance must not be negative")
        if sorted(self.allocation_order) != sorted(Component):
            raise InvalidTerms(
                "allocation_order must name each of penalty, compound, interest, principal once"
            )
        if self.cost_cap_annual is not None and self.cost_cap_annual <= 0:
            raise InvalidTerms("cost_cap_annual must be positive when set")
        validate_buckets(self.buckets)


def parse_allocation_order(value: str) -> tuple[Component, ...]:
    """``"penalty,compound,interest,principal"`` → the component tuple; each name exactly once
    (the text form products are stored and exchanged in)."""
    names = [part.strip() for part in (value or "").split(",") if part.strip()]
    try:
        order = tuple(Component(name) for name in names)
    except ValueError:
        order = ()
    if sorted(order) != sorted(Component):
        raise InvalidTerms(
            "allocation_order: must name each of "
            f"{', '.join(c.value for c in Component)} exactly once, separated by commas; "
            f"got {value!r}"
        )
    return order


def buckets_from_json(value: object) -> tuple[Bucket, ...]:
    """Read ``[{name, min_dpd, max_dpd}, …]`` (the JSON form of a bucket ladder); the ladder
    itself is then checked by :func:`validate_buckets`."""
    if not isinstance(value, list):
        raise InvalidTerms("buckets: expected a list of {name, min_dpd, max_dpd}")
    buckets = []
    for index, item in enumerate(value, start=1):
        if not isinstance(item, dict) or set(item) != {"name", "min_dpd", "max_dpd"}:
            raise InvalidTerms(f"buckets: item {index} must have exactly name, min_dpd, max_dpd")
        name, low, high = item["name"], item["min_dpd"], item["max_dpd"]
        if (
            not isinstance(name, str)
            or not name
            or type(low) is not int
            or not (high is None or type(high) is int)
            or (high is not None and high < low)
        ):
            raise InvalidTerms(
                f"buckets: item {index} needs a name, an int min_dpd and an int max_dpd ≥ "
                "min_dpd (null only for the last)"
            )
        buckets.append(Bucket(name, low, high))
    return tuple(buckets)


def validate_buckets(buckets: tuple[Bucket, ...]) -> None:
    """Buckets must start at DPD 0, be contiguous, and only the last may be open-ended."""
    if not buckets or buckets[0].min_dpd != 0:
        raise InvalidTerms("buckets must start at dpd 0")
    for current, following in pairwise(buckets):
        if current.max_dpd is None or following.min_dpd != current.max_dpd + 1:
            raise InvalidTerms(
                f"bucket {following.name} must start the day after {current.name} ends"
            )
    if buckets[-1].max_dpd is not None:
        raise InvalidTerms("the last bucket must be open-ended")


@dataclass(frozen=True, slots=True)
class Payment:
    """A payment received. ``reversed_on`` set means it was reversed (bounced, charged back)
    with effect from that date: as of that date the payment is treated as never made."""

    ref: str
    value_date: date
    amount: int
    reversed_on: date | None = None

    def __post_init__(self) -> None:
        if self.amount <= 0:
            raise InvalidTerms(f"payment {self.ref}: amount must be positive")

    def effective(self, as_of: date) -> bool:
        return self.value_date <= as_of and (self.reversed_on is None or self.reversed_on > as_of)


@dataclass(frozen=True, slots=True)
class LoanTerms:
    """A loan as the kernel sees it: its schedule, its rate and the product rules."""

    ref: str
    currency: str
    principal: int
    start: date
    rate: InterestRate
    day_count: DayCount
    schedule: tuple[Instalment, ...]
    product: ProductTerms = field(default_factory=ProductTerms)

    def __post_init__(self) -> None:
        exponent(self.currency)
        if not self.schedule:
            raise InvalidTerms(f"loan {self.ref}: schedule is empty")
        if sum(i.principal for i in self.schedule) != self.principal:
            raise InvalidTerms(f"loan {self.ref}: schedule principal does not sum to the loan")

    @property
    def daily_rate(self) -> Decimal:
        return self.rate.daily(self.day_count)

    @property
    def penalty_rate(self) -> Decimal:
        """Daily penalty rate: contract daily rate × product multiplier (0.05 % × 1.5 = 0.075 %)."""
        return self.daily_rate * self.product.penalty_multiplier


@dataclass(frozen=True, slots=True)
class Waiver:
    """A waiver (减免) of ``amount`` of one component of the debt, in force from ``effective_on``.

    On its day (after that day's accrual, before dues, credit and payments) it reduces what is
    owed on that component, oldest due instalment first, including instalments not yet due (a
    principal waiver is part of a settlement). Whatever finds nothing to reduce is *unused*: a
    waiver is never money, so it never becomes credit. ``reversed_on`` set means it was
    reversed with effect from that date: as of that date it is treated as never made, exactly
    like a reversed :class:`Payment`.
    """

    ref: str
    effective_on: date
    component: Component
    amount: int
    reversed_on: date | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.component, Component):
            raise InvalidTerms(f"waiver {self.ref}: component must be a Component")
        if type(self.amount) is not int or self.amount <= 0:
            raise InvalidTerms(f"waiver {self.ref}: amount must be a positive int of minor units")

    def effective(self, as_of: date) -> bool:
        return self.effective_on <= as_of and (self.reversed_on is None or self.reversed_on > as_of)


@dataclass(frozen=True, slots=True)
class PlanInstalment:
    """One instalment of a repayment plan: ``amount`` minor units due on ``due_date``."""

    due_date: date
    amount: int

    def __post_init__(self) -> None:
        if type(self.amount) is not int or self.amount <= 0:
            raise InvalidTerms(f"plan instalment due {self.due_date}: amount must be positive")


@dataclass(frozen=True, slots=True)
class RepaymentPlan:
    """A negotiated repayment plan (分期协商) or, with ``waive_rest``, a settlement (结清减免).

    While the plan is active, penalty and compound interest stop accruing and days past due are
    measured on the plan's instalments; payments still go to the loan's own instalments. A plan
    instalment not covered by the end of its due date plus ``grace_days`` breaks the plan; an
    amount short by at most ``tolerance`` counts as covered. See :mod:`arrears.kernel.plans`.
    """

    ref: str
    effective_on: date
    instalments: tuple[PlanInstalment, ...]
    grace_days: int = 3
    tolerance: int = 0
    waive_rest: bool = False

    def __post_init__(self) -> None:
        if not self.instalments:
            raise InvalidTerms(f"plan {self.ref}: it has no instalments")
        if self.instalments[0].due_date < self.effective_on:
            raise InvalidTerms(f"plan {self.ref}: an instalment is due before the plan starts")
        for earlier, later in pairwise(self.instalments):
            if later.due_date <= earlier.due_date:
                raise InvalidTerms(f"plan {self.ref}: due dates must be strictly increasing")
        if type(self.grace_days) is not int or self.grace_days < 0:
            raise InvalidTerms(f"plan {self.ref}: grace_days must not be negative")
        if type(self.tolerance) is not int or self.tolerance < 0:
            raise InvalidTerms(f"plan {self.ref}: tolerance must not be negative")

    @property
    def total(self) -> int:
        return sum(i.amount for i in self.instalments)

    @property
    def rest_ref(self) -> str:
        """The reference of the settlement waiver this plan makes when it completes."""
        return f"{self.ref}:rest"


# --- Building terms from stored rows -------------------------------------------------------
#
# A product or loan reaches the kernel from three places: the ledger's models, a snapshot's
# Parquet rows and the database frames of the daily run. Each used to build the kernel values
# itself, and the copies drifted (one refused bad bucket JSON, one did not). These two functions
# are the only builders: the callers hand over plain values under the snapshot's column names.

#: The keys :func:`product_terms_from` reads (the snapshot's ``products`` columns, which are
#: also the ledger's ``Product`` field names).
PRODUCT_KEYS: tuple[str, ...] = (
    "code",
    "version",
    "penalty_multiplier",
    "compound",
    "grace_days",
    "grace_retroactive",
    "cost_cap_annual",
    "rounding",
    "accrual_rounding",
    "allocation_order",
    "tolerance_minor",
    "buckets",
)

#: The keys :func:`loan_terms_from` reads (the snapshot's ``loans`` columns and ``Loan`` fields).
LOAN_KEYS: tuple[str, ...] = (
    "ref",
    "currency",
    "principal_minor",
    "rate_value",
    "rate_basis",
    "day_count",
    "start_date",
)


def _decimal(value: object, what: str) -> Decimal:
    """An exact decimal from a stored value; a float is refused (it is never exact)."""
    if isinstance(value, bool) or not isinstance(value, Decimal | str | int):
        raise InvalidTerms(f"{what}: expected an exact decimal, got {value!r}")
    try:
        return Decimal(value)
    except ArithmeticError:
        raise InvalidTerms(f"{what}: {value!r} is not a decimal number") from None


def product_terms_from(row: Mapping[str, Any]) -> ProductTerms:
    """A stored product (keys :data:`PRODUCT_KEYS`) as :class:`ProductTerms`.

    ``buckets`` may be the JSON text a snapshot stores or the list a JSON field gives. Every
    refusal is an :class:`InvalidTerms` naming the product, never a bare ``ValueError``, so a
    portfolio run can report one bad product per loan and carry on.
    """
    label = f"product {row['code']} v{row['version']}"
    try:
        rounding = Rounding(row["rounding"])
        accrual_rounding = AccrualRounding(row["accrual_rounding"])
    except ValueError as error:
        raise InvalidTerms(f"{label}: {error}") from None
    order = parse_allocation_order(row["allocation_order"])
    buckets = row["buckets"]
    if isinstance(buckets, str | bytes):
        try:
            buckets = json.loads(buckets)
        except json.JSONDecodeError as error:
            raise InvalidTerms(f"{label}: buckets: not valid JSON ({error})") from None
    cap = row["cost_cap_annual"]
    return ProductTerms(
        penalty_multiplier=_decimal(row["penalty_multiplier"], f"{label}: penalty_multiplier"),
        compound=row["compound"],
        grace_days=row["grace_days"],
        grace_retroactive=row["grace_retroactive"],
        cost_cap_annual=None if cap is None else _decimal(cap, f"{label}: cost_cap_annual"),
        rounding=rounding,
        accrual_rounding=accrual_rounding,
        allocation_order=order,
        tolerance=row["tolerance_minor"],
        buckets=buckets_from_json(buckets),
    )


def loan_terms_from(
    row: Mapping[str, Any], product: ProductTerms, schedule: Iterable[Instalment]
) -> LoanTerms:
    """A stored loan (keys :data:`LOAN_KEYS`) with its product's terms and its schedule as
    :class:`LoanTerms`; an unknown rate basis or day count is an :class:`InvalidTerms` naming
    the loan."""
    ref = row["ref"]
    try:
        basis = RateBasis(row["rate_basis"])
        day_count = DayCount(row["day_count"])
    except ValueError as error:
        raise InvalidTerms(f"loan {ref}: {error}") from None
    return LoanTerms(
        ref=ref,
        currency=row["currency"],
        principal=row["principal_minor"],
        start=row["start_date"],
        rate=InterestRate(_decimal(row["rate_value"], f"loan {ref}: rate_value"), basis),
        day_count=day_count,
        schedule=tuple(schedule),
        product=product,
    )
