"""Confidence intervals for the champion/challenger report, exact and Django-free.

* :func:`wilson` — the Wilson score interval for a proportion ``x / n`` (Wilson 1927): the
  proportions ``p`` whose score test does not reject, i.e. the roots of
  ``(p̂ − p)² = z² p (1 − p) / n``. Unlike the textbook ``p̂ ± z √(p̂(1−p̂)/n)`` it stays inside
  [0, 1] and is not empty at ``x = 0`` or ``x = n``.
* :func:`newcombe` — Newcombe's hybrid score interval for a difference of two independent
  proportions ``p1 − p2`` (Newcombe 1998, method 10), built from the two Wilson intervals:
  ``L = d − √((p1 − l1)² + (u2 − p2)²)``, ``U = d + √((u1 − p1)² + (p2 − l2)²)``.

Arithmetic is ``Decimal`` in a local context of :data:`PRECISION` significant digits (square
roots included), never float; the bounds are then rounded to :data:`PLACES` decimals
*outward* — the low bound with :data:`LOW_ROUNDING` (floor), the high one with
:data:`HIGH_ROUNDING` (ceiling) — so a rounded interval always contains the exact one, stays
inside [0, 1] (or [−1, 1] for a difference) and contains the point estimate. ``z`` is the
two-sided normal quantile of the confidence level, from :data:`Z` (exact to 30 digits).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext

#: Significant digits of the working arithmetic.
PRECISION = 50
#: Decimal places of a reported bound.
PLACES = 6
#: The named rounding of a reported interval: outward (low bound down, high bound up).
LOW_ROUNDING = ROUND_FLOOR
HIGH_ROUNDING = ROUND_CEILING
#: Two-sided standard normal quantiles z = Φ⁻¹(1 − α/2) by confidence level.
Z = {
    "0.90": Decimal("1.64485362695147271486384890799"),
    "0.95": Decimal("1.95996398454005423552459443052"),
    "0.99": Decimal("2.57582930354890076098971090507"),
}
#: The confidence level the reports use.
CONFIDENCE = "0.95"

_QUANTUM = Decimal(1).scaleb(-PLACES)


@dataclass(frozen=True, slots=True)
class Interval:
    """A closed interval ``[low, high]`` and the point estimate it is around."""

    estimate: Decimal
    low: Decimal
    high: Decimal

    @property
    def width(self) -> Decimal:
        return self.high - self.low

    def __contains__(self, value: object) -> bool:
        return isinstance(value, Decimal) and self.low <= value <= self.high


def _z(confidence: str) -> Decimal:
    try:
        return Z[confidence]
    except KeyError:
        raise ValueError(f"confidence {confidence!r}: one of {', '.join(Z)}") from None


def _check(successes: int, trials: int) -> None:
    if trials < 0 or successes < 0 or successes > trials:
        raise ValueError(f"need 0 ≤ successes ≤ trials, got {successes} of {trials}")


def _wilson_exact(successes: int, trials: int, z: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """(p̂, low, high) unrounded, in the caller's context; ``trials`` > 0."""
    n = Decimal(trials)
    p = Decimal(successes) / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    spread = (p * (1 - p) / n + z2 / (4 * n * n)).sqrt()
    half = z * spread / denominator
    return p, max(Decimal(0), centre - half), min(Decimal(1), centre + half)


def _outward(estimate: Decimal, low: Decimal, high: Decimal) -> Interval:
    """The interval rounded outward; ``estimate`` is the ratio in the default context (28
    digits), the precision of every other rate of a report."""
    return Interval(
        estimate=estimate,
        low=low.quantize(_QUANTUM, LOW_ROUNDING),
        high=high.quantize(_QUANTUM, HIGH_ROUNDING),
    )


def wilson(successes: int, trials: int, *, confidence: str = CONFIDENCE) -> Interval | None:
    """The Wilson score interval of ``successes / trials``; ``None`` when ``trials`` is 0 (no
    proportion to estimate)."""
    _check(successes, trials)
    if trials == 0:
        return None
    z = _z(confidence)
    with localcontext() as context:
        context.prec = PRECISION
        _, low, high = _wilson_exact(successes, trials, z)
    return _outward(Decimal(successes) / Decimal(trials), low, high)


def newcombe(
    successes1: int,
    trials1: int,
    successes2: int,
    trials2: int,
    *,
    confidence: str = CONFIDENCE,
) -> Interval | None:
    """Newcombe's hybrid score interval for ``successes1/trials1 − successes2/trials2``;
    ``None`` when either arm has no trials."""
    _check(successes1, trials1)
    _check(successes2, trials2)
    if trials1 == 0 or trials2 == 0:
        return None
    z = _z(confidence)
    with localcontext() as context:
        context.prec = PRECISION
        p1, l1, u1 = _wilson_exact(successes1, trials1, z)
        p2, l2, u2 = _wilson_exact(successes2, trials2, z)
        d = p1 - p2
        low = d - ((p1 - l1) ** 2 + (u2 - p2) ** 2).sqrt()
        high = d + ((u1 - p1) ** 2 + (p2 - l2) ** 2).sqrt()
    estimate = Decimal(successes1) / Decimal(trials1) - Decimal(successes2) / Decimal(trials2)
    return _outward(estimate, max(Decimal(-1), low), min(Decimal(1), high))
