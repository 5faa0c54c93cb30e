"""A synthetic, deterministic demo portfolio: borrowers, loans and payment histories.

The mix mirrors what a consumer lender's book looks like: most loans pay on time, some pay late
and cure, some pay part of each instalment, a tail stops paying and ages through the buckets,
and a few settle early. Payment amounts are taken from the kernel's own state on the day of
payment, so a "cured" borrower really pays the penalty they owed that day.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

import phonenumbers
from faker import Faker
from stdnum.cn import ric

from arrears.kernel.schedule import build_schedule
from arrears.kernel.state import state
from arrears.kernel.terms import (
    DayCount,
    InterestRate,
    LoanTerms,
    Payment,
    ProductTerms,
    RateBasis,
    ScheduleMethod,
    ScheduleTerms,
    loan_terms_from,
)


class Behaviour(StrEnum):
    ON_TIME = "on_time"
    LATE_CURED = "late_cured"
    PARTIAL = "partial"
    DELINQUENT = "delinquent"
    SETTLED_EARLY = "settled_early"


METHODS = (ScheduleMethod.EQUAL_INSTALMENT, ScheduleMethod.EQUAL_PRINCIPAL)

#: Share of each behaviour in the demo book (sums to 1).
MIX: tuple[tuple[Behaviour, float], ...] = (
    (Behaviour.ON_TIME, 0.62),
    (Behaviour.LATE_CURED, 0.14),
    (Behaviour.PARTIAL, 0.09),
    (Behaviour.DELINQUENT, 0.11),
    (Behaviour.SETTLED_EARLY, 0.04),
)


@dataclass(frozen=True, slots=True)
class DemoBorrower:
    ref: str
    name: str
    national_id: str
    phone: str
    time_zone: str
    locale: str
    email: str = ""
    postal_address: str = ""


@dataclass(frozen=True, slots=True)
class DemoLoan:
    ref: str
    borrower_ref: str
    behaviour: Behaviour
    terms: ScheduleTerms
    payments: tuple[Payment, ...]


def valid_resident_id(fake: Faker, rnd: random.Random) -> str:
    """An 18-character PRC resident ID with a real region, birth date and check digit."""
    while True:
        region = fake.ssn()[:6]
        born = date(1965, 1, 1) + timedelta(days=rnd.randrange(0, 365 * 38))
        body = f"{region}{born:%Y%m%d}{rnd.randrange(0, 1000):03d}"
        number = body + ric.calc_check_digit(body + "0")  # it ignores the last character
        try:
            if ric.is_valid(number):
                return number
        except KeyError:  # python-stdnum: a region row without counties; pick another
            continue


def valid_mobile(fake: Faker) -> str:
    """A mainland mobile number that ``phonenumbers`` accepts (Faker also makes unused ranges)."""
    while True:
        number = "+86" + fake.phone_number()
        if phonenumbers.is_valid_number(phonenumbers.parse(number)):
            return number


def _borrower(i: int, fake: Faker, rnd: random.Random, places: Faker) -> DemoBorrower:
    locale = "en" if rnd.random() < 0.05 else "zh-hans"
    ref = f"B{i:06d}"
    return DemoBorrower(
        ref=ref,
        name=fake.name(),
        national_id=valid_resident_id(fake, rnd),
        phone=valid_mobile(fake),
        time_zone="Asia/Shanghai" if rnd.random() < 0.97 else "Asia/Urumqi",
        locale=locale,
        # letters and e-mails need somewhere to go; example.com is reserved (RFC 2606)
        email=f"{ref.lower()}@example.com",
        postal_address=" ".join(places.address().split()),
    )


def _pick(rnd: random.Random) -> Behaviour:
    x, acc = rnd.random(), 0.0
    for behaviour, share in MIX:
        acc += share
        if x < acc:
            return behaviour
    return MIX[-1][0]


def _payments(
    loan: LoanTerms, behaviour: Behaviour, as_of: date, rnd: random.Random
) -> tuple[Payment, ...]:
    payments: list[Payment] = []

    def pay(day: date, amount: int) -> None:
        if amount > 0 and day <= as_of:
            payments.append(Payment(f"{loan.ref}-P{len(payments) + 1:02d}", day, amount))

    stop_after = rnd.randrange(0, max(1, len(loan.schedule) - 1))
    settle_at = rnd.randrange(1, max(2, len(loan.schedule)))
    for k, inst in enumerate(loan.schedule):
        if inst.due_date > as_of:
            break
        if behaviour is Behaviour.ON_TIME:
            day = inst.due_date - timedelta(days=rnd.choice((0, 0, 0, 1, 2)))
            pay(day, state(loan, payments, inst.due_date).total_due)
        elif behaviour is Behaviour.LATE_CURED:
            late = rnd.choice((0, 0, 3, 8, 15, 25, 40))
            day = min(inst.due_date + timedelta(days=late), as_of)
            pay(day, state(loan, payments, day).total_due)
        elif behaviour is Behaviour.PARTIAL:
            day = inst.due_date + timedelta(days=rnd.choice((0, 5, 10)))
            if day <= as_of:
                due = state(loan, payments, day).total_due
                pay(day, due * rnd.choice((30, 50, 70)) // 100)
        elif behaviour is Behaviour.DELINQUENT:
            if k >= stop_after:
                break
            pay(inst.due_date, state(loan, payments, inst.due_date).total_due)
        elif behaviour is Behaviour.SETTLED_EARLY:
            pay(inst.due_date, state(loan, payments, inst.due_date).total_due)
            if k + 1 == settle_at:
                day = inst.due_date + timedelta(days=rnd.randrange(1, 20))
                if day <= as_of:
                    pay(day, state(loan, payments, day).payoff)
                break
    return tuple(payments)


def generate(
    *,
    borrowers: int,
    as_of: date,
    seed: int = 20240401,
    product: ProductTerms | None = None,
    large: int = 0,
) -> Iterator[tuple[DemoBorrower, list[DemoLoan]]]:
    """Yield each demo borrower with their loans (1–2 each), deterministically for ``seed``;
    then ``large`` borrowers of one big loan each (see :func:`_large`)."""
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    # addresses from their own stream, so adding them changed no name, ID or phone of a seed
    places = Faker("zh_CN")
    places.seed_instance(seed + 1)
    rnd = random.Random(seed)
    product = product or ProductTerms()
    loan_no = 0
    for i in range(1, borrowers + 1):
        borrower = _borrower(i, fake, rnd, places)
        loans: list[DemoLoan] = []
        for _ in range(1 if rnd.random() < 0.8 else 2):
            loan_no += 1
            term = rnd.choice((3, 6, 6, 12, 12, 12))
            start = as_of - timedelta(days=rnd.randrange(20, 30 * term + 200))
            principal = rnd.choice((1_000, 2_000, 3_000, 5_000, 8_000, 10_000, 20_000, 50_000))
            schedule_terms = ScheduleTerms(
                principal=principal * 100,
                currency="CNY",
                rate=InterestRate(
                    Decimal(rnd.choice(("0.0002", "0.0003", "0.0004", "0.0005"))), RateBasis.DAILY
                ),
                term=term,
                method=rnd.choice(METHODS),
                start=start,
                day_count=DayCount.THIRTY_360,
            )
            ref = f"WL{as_of:%y}{loan_no:07d}"
            loan = _terms(ref, schedule_terms, product)
            behaviour = _pick(rnd)
            loans.append(
                DemoLoan(
                    ref,
                    borrower.ref,
                    behaviour,
                    schedule_terms,
                    _payments(loan, behaviour, as_of, rnd),
                )
            )
        yield borrower, loans
    yield from _large(large, borrowers, loan_no, as_of, seed, product)


def _terms(ref: str, schedule_terms: ScheduleTerms, product: ProductTerms) -> LoanTerms:
    """The demo loan's terms, through the kernel's one builder (as the ledger would store it)."""
    row = {
        "ref": ref,
        "currency": schedule_terms.currency,
        "principal_minor": schedule_terms.principal,
        "start_date": schedule_terms.start,
        "rate_value": schedule_terms.rate.value,
        "rate_basis": schedule_terms.rate.basis.value,
        "day_count": schedule_terms.day_count.value,
    }
    return loan_terms_from(row, product, build_schedule(schedule_terms))


def _large(
    count: int, after: int, loan_no: int, as_of: date, seed: int, product: ProductTerms
) -> Iterator[tuple[DemoBorrower, list[DemoLoan]]]:
    """Borrowers of one large loan (CNY 100,000 to 300,000 over 12 months) who paid the first
    two instalments and nothing since, 5 to 9 months ago: the long, large arrears for which the
    ladder reaches agencies, lawyer's letters and field visits (the ordinary book's loans are
    too small for the article's CNY 50,000 threshold). Their own random streams, so adding them
    changes nothing of the ordinary book."""
    fake = Faker("zh_CN")
    fake.seed_instance(seed + 2)
    places = Faker("zh_CN")
    places.seed_instance(seed + 3)
    rnd = random.Random(seed + 2)
    for j in range(1, count + 1):
        borrower = _borrower(after + j, fake, rnd, places)
        loan_no += 1
        start = as_of - timedelta(days=rnd.randrange(210, 330))
        schedule_terms = ScheduleTerms(
            principal=rnd.choice((100_000, 150_000, 200_000, 300_000)) * 100,
            currency="CNY",
            rate=InterestRate(Decimal("0.0003"), RateBasis.DAILY),
            term=12,
            method=ScheduleMethod.EQUAL_INSTALMENT,
            start=start,
            day_count=DayCount.THIRTY_360,
        )
        ref = f"WL{as_of:%y}{loan_no:07d}"
        loan = _terms(ref, schedule_terms, product)
        payments: list[Payment] = []
        for inst in loan.schedule[:2]:
            owed = state(loan, payments, inst.due_date).total_due
            payments.append(Payment(f"{ref}-P{len(payments) + 1:02d}", inst.due_date, owed))
        yield (
            borrower,
            [DemoLoan(ref, borrower.ref, Behaviour.DELINQUENT, schedule_terms, tuple(payments))],
        )
