"""An import's schedules in columns are the kernel's, instalment for instalment, or the
kernel's error: for random terms, several loans of one group at once, every rounding rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
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
from arrears.ledger.importers.schedules import (
    VECTOR_METHODS,
    Schedules,
    build_schedules,
    build_schedules_of,
)

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


#: The strategies the composite strategies draw from, made once: a strategy made anew at each
#: draw is checked anew (emptiness, validity) each time, which cost more than the draw. The
#: same strategies drawn in the same order give the same examples.
_BASIS = st.sampled_from(RateBasis)
_SIMPLE_UNITS = st.sampled_from([0, 50_000, 500_000, 1_000_000, 18_000_000])
#: A rate's units (of 10^-8) up to its basis's cap: 1 % a day, 365 % a year.
_UNITS = {
    RateBasis.DAILY: st.one_of(st.integers(0, 1_000_000), _SIMPLE_UNITS),
    RateBasis.ANNUAL: st.one_of(st.integers(0, 365_000_000), _SIMPLE_UNITS),
}
_GROUPS = st.integers(1, 3)
_CURRENCY = st.sampled_from(["CNY", "USD", "JPY"])
_TERM = st.one_of(st.integers(1, 36), st.sampled_from([120, 360, 600]))
_METHOD = st.sampled_from(ScheduleMethod)
_DAY_COUNT = st.sampled_from(DayCount)
_ROUNDING = st.sampled_from(Rounding)
_CALENDAR = st.sampled_from([ALL_DAYS, WEEKENDS])
_CONVENTION = st.sampled_from(BusinessDayConvention)
_LOANS = st.integers(1, 6)
_PRINCIPAL = st.one_of(
    st.integers(1, 10**13 - 1),
    st.integers(1, 1000),
    st.integers(10**6, 10**9),
    st.sampled_from([100, 300, 500, 700, 1100, 100_100]),  # ties at .5
)
_START_DAYS = st.integers(0, 83_000)


@st.composite
def rates(draw: st.DrawFn) -> InterestRate:
    basis = draw(_BASIS)
    units = draw(_UNITS[basis])
    return InterestRate(Decimal(units).scaleb(-8).normalize(), basis)


_RATE = rates()


@st.composite
def batches(draw: st.DrawFn) -> list[ScheduleTerms]:
    """Loans in one to three groups of shared terms, each loan its own amount and start."""
    terms: list[ScheduleTerms] = []
    for _ in range(draw(_GROUPS)):
        rate = draw(_RATE)
        shared = {
            "currency": draw(_CURRENCY),
            "rate": rate,
            "term": draw(_TERM),
            "method": draw(_METHOD),
            "day_count": draw(_DAY_COUNT),
            "rounding": draw(_ROUNDING),
            "calendar": draw(_CALENDAR),
            "convention": draw(_CONVENTION),
        }
        for _ in range(draw(_LOANS)):
            principal = draw(_PRINCIPAL)
            start = date(1970, 1, 1) + timedelta(days=draw(_START_DAYS))
            if start.year + shared["term"] // 12 + 2 > 2250:
                start = start.replace(year=2150)
            terms.append(ScheduleTerms(principal=principal, start=start, **shared))  # type: ignore[arg-type]
    return draw(st.permutations(terms))


@settings(max_examples=300, deadline=None)
@given(batches())
def test_the_columns_give_the_kernels_schedule_or_its_error(batch: list[ScheduleTerms]) -> None:
    built = build_schedules(batch)
    for position, terms in enumerate(batch):
        _assert_built(built, position, kernel(terms))


@settings(max_examples=200, deadline=None)
@given(batches(), st.lists(st.tuples(st.integers(0, 10**6), _PRINCIPAL), min_size=1, max_size=12))
def test_loans_given_as_shared_terms_and_their_own_principals_get_the_kernels_schedule(
    templates: list[ScheduleTerms], loans: list[tuple[int, int]]
) -> None:
    """What validation hands over: each loan a template (its terms but for the amount, shared
    by many loans) and its own principal, as the kernel builds the template with it."""
    template_of = np.array([at % len(templates) for at, _ in loans], dtype=np.int64)
    principals = np.array([principal for _, principal in loans], dtype=np.int64)
    built = build_schedules_of(templates, template_of, principals)
    for position, (at, principal) in enumerate(loans):
        terms = replace(templates[at % len(templates)], principal=principal)
        _assert_built(built, position, kernel(terms))


def _assert_built(
    built: Schedules, position: int, expected: list[tuple[object, ...]] | str
) -> None:
    """Loan ``position`` of ``built`` has the kernel's schedule, or the kernel's error and
    no instalment."""
    mine = built.frame.filter(loan=position).drop("loan").rows()
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
