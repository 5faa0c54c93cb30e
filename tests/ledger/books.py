"""A generated ledger with every kind of history the kernel replays: two product versions,
reversed and back-dated payments, waivers of every component (approved, reversed, and some not
in force), and repayment plans that are active, broken, completed or a settlement (plus one
still only proposed). Seeded, so a failure names a loan that is there again on the rerun."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.models import User

from arrears.kernel.money import Rounding
from arrears.kernel.terms import PRINCIPAL_FIRST, AccrualRounding, DayCount
from arrears.ledger import models, services
from tests import factories

#: As-of dates a differential test walks: before and after plans start, break and complete.
AS_OF_DATES = (
    date(2026, 2, 20),
    date(2026, 4, 30),
    date(2026, 6, 10),
    date(2026, 8, 31),
    date(2026, 12, 1),
)


def every_rule_version(
    product: models.Product, effective_from: date, buckets: list[dict[str, object]]
) -> models.Product:
    """A new version of ``product`` that differs from the default in every rule the replay
    reads (penalty, compound, retroactive grace, cost cap, rounding, period accrual, principal
    first, tolerance) and has its own ``buckets``."""
    return services.add_product_version(
        product=product,
        effective_from=effective_from,
        penalty_multiplier=Decimal("1.3"),
        compound=True,
        grace_days=3,
        grace_retroactive=True,
        cost_cap_annual=Decimal("0.24"),
        rounding=Rounding.HALF_EVEN.value,
        accrual_rounding=AccrualRounding.PERIOD.value,
        allocation_order=",".join(c.value for c in PRINCIPAL_FIRST),
        tolerance_minor=100,
        buckets=buckets,
    )


def _products() -> tuple[models.Product, models.Product]:
    first = factories.product()
    second = every_rule_version(
        first,
        date(2026, 2, 1),
        [
            {"name": "M0", "min_dpd": 0, "max_dpd": 0},
            {"name": "早期", "min_dpd": 1, "max_dpd": 60},
            {"name": "M3+", "min_dpd": 61, "max_dpd": None},
        ],
    )
    return first, second


def _loan(
    rng: random.Random, index: int, owner: models.Borrower, product: models.Product
) -> models.Loan:
    start = date(2026, 1, 5) + timedelta(days=rng.randrange(0, 60))
    annual = index % 5 == 4
    return services.create_loan(
        ref=f"G-{index:03d}",
        borrower=owner,
        product=product,
        currency="CNY",
        principal_minor=rng.randrange(100, 2_000) * 1_000,
        rate_value=Decimal("0.18") if annual else Decimal("0.0005"),
        rate_basis="annual" if annual else "daily",
        term=rng.choice([3, 6, 9]),
        method=rng.choice(["equal-principal", "equal-instalment"]),
        start_date=start,
        day_count=DayCount.ACTUAL_365 if annual else DayCount.THIRTY_360,
    )


def _pay(loan: models.Loan, ref: str, day: date, amount: int) -> models.Payment:
    return services.record_payment(
        loan=loan, ref=ref, value_date=day, amount_minor=amount, currency="CNY"
    )


def _payments(rng: random.Random, loan: models.Loan) -> None:
    """A few payments at random dates, recorded out of date order (so some are back-dated
    behind others), one in five reversed a few days later."""
    schedule = list(loan.instalments)
    days = sorted(
        schedule[rng.randrange(len(schedule))].due_date + timedelta(days=rng.randrange(-5, 40))
        for _ in range(rng.randrange(0, 5))
    )
    rng.shuffle(days)
    for number, day in enumerate(days):
        day = max(day, loan.start_date)
        amount = rng.choice([schedule[0].total, 30_000])
        payment = _pay(loan, f"{loan.ref}-P{number}", day, amount)
        if rng.random() < 0.2:
            services.reverse_payment(
                payment=payment,
                reversed_on=day + timedelta(days=rng.randrange(0, 10)),
                reversal_ref=f"{loan.ref}-R{number}",
                reason="NSF",
            )


def _waiver(
    loan: models.Loan,
    ref: str,
    component: str,
    amount: int,
    on: date,
    status: str = models.Approval.APPROVED,
    reversed_on: date | None = None,
) -> None:
    models.Waiver.objects.create(
        ref=ref,
        loan=loan,
        component=component,
        amount_minor=amount,
        effective_on=on,
        reason="hardship",
        status=status,
        reversed_on=reversed_on,
        requested_by=_maker(),
    )


def _plan(
    loan: models.Loan,
    ref: str,
    on: date,
    amounts: list[int],
    *,
    waive_rest: bool = False,
    status: str = models.Approval.APPROVED,
    grace_days: int = 3,
    tolerance: int = 0,
) -> list[date]:
    plan = models.RepaymentPlan.objects.create(
        ref=ref,
        loan=loan,
        effective_on=on,
        grace_days=grace_days,
        tolerance_minor=tolerance,
        waive_rest=waive_rest,
        status=status,
        proposed_by=_maker(),
    )
    dues = [on + timedelta(days=10 + 30 * n) for n in range(len(amounts))]
    for seq, (due, amount) in enumerate(zip(dues, amounts, strict=True), start=1):
        models.PlanInstalment.objects.create(plan=plan, seq=seq, due_date=due, amount_minor=amount)
    return dues


def _maker() -> User:
    user, _ = User.objects.get_or_create(username="maker")
    return user


def concession_book(loans: int = 36, seed: int = 12) -> list[models.Loan]:
    """``loans`` generated loans (at least 12: the first twelve carry the concessions)."""
    rng = random.Random(seed)
    products = _products()
    owner = factories.borrower()
    book = [_loan(rng, index, owner, products[index % 2]) for index in range(loans)]
    for loan in book:
        _payments(rng, loan)
    first_due = {loan.id: loan.instalments[0].due_date for loan in book}

    def after(loan: models.Loan, days: int) -> date:
        return first_due[loan.id] + timedelta(days=days)

    # waivers: every component, a reversed one, and two the kernel must not see
    _waiver(book[0], "W-PEN", "penalty", 2_000, after(book[0], 45))
    _waiver(book[1], "W-INT", "interest", 5_000, after(book[1], 20))
    _waiver(book[1], "W-CMP", "compound", 300, after(book[1], 50))
    _waiver(book[2], "W-PRI", "principal", 50_000, after(book[2], 70))
    _waiver(
        book[3],
        "W-REV",
        "penalty",
        1_500,
        after(book[3], 40),
        models.Approval.REVERSED,
        after(book[3], 60),
    )
    _waiver(book[4], "W-ASKED", "penalty", 9_999, after(book[4], 30), models.Approval.REQUESTED)
    _waiver(book[4], "W-NO", "interest", 9_999, after(book[4], 30), models.Approval.REJECTED)
    # plans: active (paid so far), broken (nothing paid), completed, a settlement, a proposal
    active = after(book[5], 30)
    dues = _plan(book[5], "PL-ACTIVE", active, [40_000] * 8)
    for n, due in enumerate(dues[:2]):
        _pay(book[5], f"PL-ACTIVE-P{n}", due, 40_000)
    _plan(book[6], "PL-BROKEN", after(book[6], 25), [60_000, 60_000, 60_000])
    dues = _plan(book[7], "PL-DONE", after(book[7], 35), [80_000, 80_000], tolerance=500)
    for n, due in enumerate(dues):
        _pay(book[7], f"PL-DONE-P{n}", due - timedelta(days=1), 79_600 + 1_000 * n)
    dues = _plan(book[8], "PL-SETTLE", after(book[8], 40), [100_000, 50_000], waive_rest=True)
    for n, due in enumerate(dues):
        _pay(book[8], f"PL-SETTLE-P{n}", due, [100_000, 50_000][n])
    _plan(book[9], "PL-ASKED", after(book[9], 20), [10_000], status=models.Approval.REQUESTED)
    # a loan with a waiver and then a plan, and one with a plan broken late and a waiver after
    _waiver(book[10], "W-THEN-PLAN", "penalty", 800, after(book[10], 30))
    dues = _plan(book[10], "PL-AFTER-W", after(book[10], 45), [70_000, 70_000, 70_000])
    _pay(book[10], "PL-AFTER-W-P0", dues[0], 70_000)
    dues = _plan(book[11], "PL-LATE", after(book[11], 20), [30_000, 30_000], grace_days=0)
    _pay(book[11], "PL-LATE-P0", dues[0] + timedelta(days=5), 30_000)  # late: broken
    _waiver(book[11], "W-AFTER-BREAK", "interest", 1_000, dues[1] + timedelta(days=10))
    return book
