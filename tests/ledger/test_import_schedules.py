"""An import's schedules in columns are the kernel's, instalment for instalment, or the
kernel's error: for random terms, several loans of one group at once, every rounding rule."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.kernel.calendar import ALL_DAYS, BusinessCalendar, BusinessDayConvention
from arrears.kernel.errors import ArrearsError
from arrears.kernel.money import Rounding
from arrears.kernel.schedule import build_schedule
from arrears.kernel.terms import (
    DayCount,
    InterestRate,
    RateBasis,
    ScheduleMethod,
    ScheduleTerms,
)
from arrears.ledger.importers.schedules import VECTOR_METHODS, build_schedules

WEEKENDS = BusinessCalendar(
    name="weekends-and-new-year",
    holidays=frozenset(date(year, 1, 1) for year in range(1970, 2250)),
)


def kernel(terms: ScheduleTerms) -> list[tuple[object, ...]] | str:
    try:
        return [
            (i.seq, i.due_date, i.principal, i.interest, i.period_start, i.period_end)
            for i in build_schedule(terms)
        ]
    except ArrearsError as error:
        return str(error)


@st.composite
def rates(draw: st.DrawFn) -> InterestRate:
    basis = draw(st.sampled_from(RateBasis))
    cap = 1_000_000 if basis is RateBasis.DAILY else 365_000_000  # 1 % a day, 365 % a year
    simple = st.sampled_from([0, 50_000, 500_000, 1_000_000, 18_000_000])
    units = draw(st.one_of(st.integers(0, cap), simple))
    return InterestRate(Decimal(units).scaleb(-8).normalize(), basis)


@st.composite
def batches(draw: st.DrawFn) -> list[ScheduleTerms]:
    """Loans in one to three groups of shared terms, each loan its own amount and start."""
    terms: list[ScheduleTerms] = []
    for _ in range(draw(st.integers(1, 3))):
        rate = draw(rates())
        shared = {
            "currency": draw(st.sampled_from(["CNY", "USD", "JPY"])),
            "rate": rate,
            "term": draw(st.one_of(st.integers(1, 36), st.sampled_from([120, 360, 600]))),
            "method": draw(st.sampled_from(ScheduleMethod)),
            "day_count": draw(st.sampled_from(DayCount)),
            "rounding": draw(st.sampled_from(Rounding)),
            "calendar": draw(st.sampled_from([ALL_DAYS, WEEKENDS])),
            "convention": draw(st.sampled_from(BusinessDayConvention)),
        }
        for _ in range(draw(st.integers(1, 6))):
            principal = draw(
                st.one_of(
                    st.integers(1, 10**13 - 1),
                    st.integers(1, 1000),
                    st.integers(10**6, 10**9),
                    st.sampled_from([100, 300, 500, 700, 1100, 100_100]),  # ties at .5
                )
            )
            start = date(1970, 1, 1) + timedelta(days=draw(st.integers(0, 83_000)))
            if start.year + shared["term"] // 12 + 2 > 2250:
                start = start.replace(year=2150)
            terms.append(ScheduleTerms(principal=principal, start=start, **shared))  # type: ignore[arg-type]
    return draw(st.permutations(terms))


@settings(max_examples=300, deadline=None)
@given(batches())
def test_the_columns_give_the_kernels_schedule_or_its_error(batch: list[ScheduleTerms]) -> None:
    built = build_schedules(batch)
    for position, terms in enumerate(batch):
        mine = built.frame.filter(loan=position).drop("loan").rows()
        expected = kernel(terms)
        if isinstance(expected, str):
            assert str(built.errors.get(position)) == expected
            assert mine == []
        else:
            assert position not in built.errors
            assert mine == expected


def test_a_common_book_goes_through_the_columns_not_the_kernel(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Equal-instalment loans of one product take the column path (the kernel is not called)."""
    from arrears.ledger.importers import schedules

    calls: list[ScheduleTerms] = []
    monkeypatch.setattr(schedules, "build_schedule", lambda t: calls.append(t) or build_schedule(t))
    rate = InterestRate(Decimal("0.0005"), RateBasis.DAILY)
    batch = [
        ScheduleTerms(
            principal=100_000 + n,
            currency="CNY",
            rate=rate,
            term=12,
            method=ScheduleMethod.EQUAL_INSTALMENT,
            start=date(2025, 1, 1) + timedelta(days=n),
        )
        for n in range(50)
    ]
    built = build_schedules(batch)
    assert calls == [] and built.errors == {}
    assert built.frame.height == 600
    assert ScheduleMethod.EQUAL_INSTALMENT in VECTOR_METHODS
    assert built.frame.filter(loan=7).drop("loan").rows() == kernel(batch[7])


@given(rounding=st.sampled_from(Rounding), method=st.sampled_from(sorted(VECTOR_METHODS)))
def test_ties_round_as_the_kernel_rounds_them(rounding: Rounding, method: ScheduleMethod) -> None:
    """1.00 at 18 % a year for a 30/360 month is exactly 0.015 → 1.5 fen: each rule's tie."""
    terms = ScheduleTerms(
        principal=100,
        currency="CNY",
        rate=InterestRate(Decimal("0.18"), RateBasis.ANNUAL),
        term=3,
        method=method,
        start=date(2025, 1, 31),
        rounding=rounding,
    )
    assert build_schedules([terms]).frame.drop("loan").rows() == kernel(terms)
