"""Wilson and Newcombe intervals: exact, outward-rounded, and the textbook formulas' answer."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.reports import intervals
from arrears.reports.intervals import PLACES, Interval, newcombe, wilson

STEP = Decimal(1).scaleb(-PLACES)


@st.composite
def proportions(draw: st.DrawFn, most: int = 5000) -> tuple[int, int]:
    trials = draw(st.integers(1, most))
    return draw(st.integers(0, trials)), trials


def _quadratic(x: int, n: int, z: float) -> tuple[float, float]:
    """The Wilson bounds as the roots of (1 + z²/n) p² − (2p̂ + z²/n) p + p̂² = 0."""
    p = x / n
    a = 1 + z * z / n
    b = -(2 * p + z * z / n)
    c = p * p
    root = math.sqrt(max(0.0, b * b - 4 * a * c))
    return (-b - root) / (2 * a), (-b + root) / (2 * a)


@given(proportions())
def test_wilson_bounds_are_in_0_1_and_hold_the_estimate(case: tuple[int, int]) -> None:
    x, n = case
    found = wilson(x, n)
    assert found is not None
    assert Decimal(0) <= found.low <= found.estimate <= found.high <= Decimal(1)
    assert found.estimate == Decimal(x) / Decimal(n)
    assert found.low == found.low.quantize(STEP) and found.high == found.high.quantize(STEP)


@given(proportions(), st.sampled_from(sorted(intervals.Z)))
def test_wilson_agrees_with_the_quadratic_roots(case: tuple[int, int], level: str) -> None:
    x, n = case
    found = wilson(x, n, confidence=level)
    assert found is not None
    low, high = _quadratic(x, n, float(intervals.Z[level]))
    # outward rounding: at most one step out, never in (the float roots are good to ~1e-12)
    assert float(found.low) <= low + 1e-9 and low - float(found.low) <= float(STEP) + 1e-9
    assert float(found.high) >= high - 1e-9 and float(found.high) - high <= float(STEP) + 1e-9


@given(proportions(most=400), st.integers(2, 50))
def test_more_data_at_the_same_rate_is_narrower(case: tuple[int, int], k: int) -> None:
    x, n = case
    small, large = wilson(x, n), wilson(x * k, n * k)
    assert small is not None and large is not None
    assert large.width <= small.width


def test_known_values() -> None:
    # Newcombe (1998) table I: 81/263 → 0.2553 to 0.3662 (Wilson, 95 %)
    found = wilson(81, 263)
    assert found is not None
    assert (round(found.low, 4), round(found.high, 4)) == (Decimal("0.2553"), Decimal("0.3662"))
    # Newcombe (1998) table II example: 56/70 − 48/80 → 0.0524 to 0.3339 (method 10)
    diff = newcombe(56, 70, 48, 80)
    assert diff is not None and diff.estimate == Decimal("0.2")
    assert (round(diff.low, 4), round(diff.high, 4)) == (Decimal("0.0524"), Decimal("0.3339"))
    assert wilson(0, 0) is None and newcombe(1, 2, 0, 0) is None


@given(proportions(), proportions())
def test_newcombe_is_in_minus_1_1_and_holds_the_difference(
    one: tuple[int, int], two: tuple[int, int]
) -> None:
    found = newcombe(*one, *two)
    assert isinstance(found, Interval)
    assert Decimal(-1) <= found.low <= found.estimate <= found.high <= Decimal(1)
    assert found.estimate == Decimal(one[0]) / one[1] - Decimal(two[0]) / two[1]
    swapped = newcombe(*two, *one)
    assert swapped is not None  # the same interval mirrored, up to the outward step
    assert abs(swapped.low + found.high) <= STEP and abs(swapped.high + found.low) <= STEP


@given(proportions(), proportions())
def test_newcombe_agrees_with_its_formula_over_wilson(
    one: tuple[int, int], two: tuple[int, int]
) -> None:
    (x1, n1), (x2, n2) = one, two
    z = float(intervals.Z["0.95"])
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = _quadratic(x1, n1, z)
    l2, u2 = _quadratic(x2, n2, z)
    low = p1 - p2 - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = p1 - p2 + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    found = newcombe(x1, n1, x2, n2)
    assert found is not None
    assert float(found.low) <= low + 1e-9 and low - float(found.low) <= float(STEP) + 1e-9
    assert float(found.high) >= high - 1e-9 and float(found.high) - high <= float(STEP) + 1e-9


@pytest.mark.parametrize("bad", [(-1, 3), (4, 3), (0, -1)])
def test_impossible_counts_are_refused(bad: tuple[int, int]) -> None:
    with pytest.raises(ValueError):
        wilson(*bad)


def test_unknown_confidence_is_refused() -> None:
    with pytest.raises(ValueError, match="confidence"):
        wilson(1, 2, confidence="0.5")
