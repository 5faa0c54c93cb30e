"""Commission from the ledger: tiered, half up per band, and monthly statements that add up."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from fractions import Fraction

from django.contrib.auth.models import User
from hypothesis import given
from hypothesis import strategies as st

from arrears.agencies import commission, placement
from arrears.agencies.commission import Band, half_up, tiered
from arrears.agencies.models import Agency, CommissionTier, Placement
from arrears.ledger import models
from arrears.ledger import services as ledger
from tests.agencies.daystep import DAY, run

Book = Callable[[int], list[models.Loan]]
TIERS = [Band(0, 1000), Band(100_000, 1500)]  # 10% up to CNY 1,000, 15% above


def _pay(loan: models.Loan, day: date, amount: int) -> None:
    ledger.record_payment(
        loan=loan, ref=f"P{day}", value_date=day, amount_minor=amount, currency="CNY"
    )


def test_half_up_per_band_to_the_fen() -> None:
    assert tiered(35, [Band(0, 1000)]) == 4  # 3.5 fen rounds up
    assert tiered(34, [Band(0, 1000)]) == 3  # 3.4 fen rounds down
    # 10% of 100000 = 10000; 15% of 50005 = 7500.75 -> 7501: total 17501
    assert tiered(150_005, TIERS) == 17_501
    assert tiered(0, TIERS) == 0
    assert tiered(50_000, [Band(60_000, 2000)]) == 0  # nothing above the first floor


@given(
    amount=st.integers(min_value=0, max_value=10**12),
    floors=st.lists(st.integers(min_value=1, max_value=10**9), max_size=4, unique=True),
    rates=st.lists(st.integers(min_value=0, max_value=10_000), min_size=5, max_size=5),
)
def test_tiered_matches_an_exact_fraction_oracle(
    amount: int, floors: list[int], rates: list[int]
) -> None:
    bands = [Band(above, rate) for above, rate in zip([0, *sorted(floors)], rates, strict=False)]
    expected = 0
    for i, band in enumerate(bands):
        top = amount if i + 1 == len(bands) else min(amount, bands[i + 1].above)
        part = max(0, top - band.above)
        exact = Fraction(part * band.rate_bp, 10_000)
        expected += int(exact) + (1 if exact - int(exact) >= Fraction(1, 2) else 0)
    assert tiered(amount, bands) == expected
    assert 0 <= tiered(amount, bands) <= amount
    assert tiered(amount, bands) <= tiered(amount + 1, bands)


@given(st.integers(min_value=0, max_value=10**15), st.integers(min_value=1, max_value=10**6))
def test_half_up_is_round_half_up(numerator: int, denominator: int) -> None:
    exact = Fraction(numerator, denominator)
    assert half_up(numerator, denominator) == int(exact + Fraction(1, 2))


def test_commission_equals_the_hand_calculation_and_months_add_up(
    pair: tuple[Agency, Agency], book: Book
) -> None:
    (loan,) = book(1)
    alpha, _ = pair
    CommissionTier.objects.filter(agency=alpha).delete()
    CommissionTier.objects.create(agency=alpha, bucket="", above_minor=0, rate_bp=1000)
    CommissionTier.objects.create(agency=alpha, bucket="", above_minor=100_000, rate_bp=1500)
    CommissionTier.objects.create(agency=alpha, bucket="M1", above_minor=0, rate_bp=9000)
    _pay(loan, date(2026, 4, 18), 10_000)  # before the placement: not the agency's
    run(DAY)  # placed with alpha 2026-04-20 .. 2026-05-19 (bucket M3: the '' tiers apply)
    placed = Placement.objects.get()
    assert (placed.agency, placed.ends_on) == (alpha, date(2026, 5, 19))
    _pay(loan, date(2026, 4, 25), 80_000)
    _pay(loan, date(2026, 5, 10), 70_001)
    _pay(loan, date(2026, 5, 25), 50_000)  # after the term: not the agency's
    # By hand: recovered 80000 + 70001 = 150001 fen.
    #   band 1: 10% of 100000            = 10000.00 -> 10000
    #   band 2: 15% of (150001 - 100000) =  7500.15 ->  7500
    #   commission                                     17500 fen (CNY 175.00)
    # April: recovered 80000, commission 10% of 80000 = 8000.
    # May: cumulative 17500 - April's 8000 = 9500.   8000 + 9500 = 17500.
    april = commission.statement(alpha, 2026, 4)
    may = commission.statement(alpha, 2026, 5)
    june = commission.statement(alpha, 2026, 6)
    assert (april.recovered, april.commission) == (80_000, 8_000)
    assert (may.recovered, may.commission) == (70_001, 9_500)
    assert june.lines == []
    assert april.commission + may.commission == 17_500
    assert may.lines[0].commission_to_date == 17_500
    data = may.as_dict()
    assert data["total"]["commission"] == {"minor": 9_500, "formatted": "CN¥95.00"}
    assert data["rounding"] == "half-up per band to the fen"


def test_a_recall_ends_what_the_agency_is_paid_on(pair: tuple[Agency, Agency], book: Book) -> None:
    (loan,) = book(1)
    run(DAY)
    boss = User.objects.create_superuser("boss")
    placement.recall(Placement.objects.get(), by=boss, note="moved in house", on=date(2026, 5, 5))
    _pay(loan, date(2026, 5, 4), 20_000)  # the last day covered
    _pay(loan, date(2026, 5, 5), 30_000)  # the recall day: ours
    recalled = Placement.objects.get()
    assert commission.covered_until(recalled) == date(2026, 5, 4)
    assert commission.recovered(recalled, date(2026, 5, 31)) == 20_000
    assert commission.statement(recalled.agency, 2026, 5).commission == 2_000  # 10% ('' tier)


def test_a_reversal_after_the_month_claws_back_in_the_next(
    pair: tuple[Agency, Agency], book: Book
) -> None:
    (loan,) = book(1)
    run(DAY)
    _pay(loan, date(2026, 4, 25), 50_000)
    payment = models.Payment.objects.get(ref="P2026-04-25")
    ledger.reverse_payment(
        payment=payment, reversed_on=date(2026, 5, 3), reversal_ref="R1", reason="bounced"
    )
    alpha = Placement.objects.get().agency
    assert commission.statement(alpha, 2026, 4).commission == 5_000  # known at April's end
    assert commission.statement(alpha, 2026, 5).commission == -5_000  # clawed back in May
