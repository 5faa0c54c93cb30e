"""What an agency earns: tiered commission on the cash the ledger received during a placement.

**Recovered** by a placement through a day = cash paid on the borrower's loans with value dates
from ``placed_on`` to the last day it covers — ``recalled_on - 1`` when recalled, else
``ends_on`` — and not after the day, as known on that day (``ledger.selectors.paid_between``:
the one query for cash paid; a payment reversed by then does not count). What an agency
*reports* is never used: it is paid on what we can see in the ledger.

**Tiers** are marginal bands (like income tax): for the placement's bucket (its bucket when
placed; the agency's '' tiers when that bucket has none), band *i* earns ``rate_bp`` basis
points of the part of the recovered amount above ``above_minor`` and up to the next band's
floor. Rounding rule ``half-up per band to the fen``: each band's amount × rate / 10000 is
rounded half up to a whole minor unit, then the bands are added.

**Months add up.** A statement's commission for a month is the commission on everything
recovered to the month's end (known then) minus the commission on everything recovered to the
previous month's end (known then), so the months of a placement telescope to its total even
though the bands are not linear; a reversal later shows as a negative month (a claw-back).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from arrears.agencies.models import Agency, CommissionTier, Placement
from arrears.formatting import format_money
from arrears.kernel.money import Money
from arrears.ledger import selectors

BASIS_POINTS = 10_000
ROUNDING = "half-up per band to the fen"


@dataclass(frozen=True, slots=True)
class Band:
    """A marginal band: ``rate_bp`` of the part above ``above``."""

    above: int
    rate_bp: int


def half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up (both non-negative): 5 fen rounds up."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("half_up takes a non-negative numerator and a positive denominator")
    return (2 * numerator + denominator) // (2 * denominator)


def tiered(amount: int, bands: Sequence[Band]) -> int:
    """Commission on ``amount`` minor units under marginal ``bands`` (half up per band).

    Example (a test): bands 0 → 10%, 100000 → 15% on 150001 fen: 10% of 100000 = 10000, 15% of
    50001 = 7500.15 → 7500, total 17500.
    """
    if amount <= 0:
        return 0
    ordered = sorted(bands, key=lambda b: b.above)
    total = 0
    for index, band in enumerate(ordered):
        ceiling = ordered[index + 1].above if index + 1 < len(ordered) else None
        top = amount if ceiling is None else min(amount, ceiling)
        part = top - band.above
        if part <= 0:
            continue
        total += half_up(part * band.rate_bp, BASIS_POINTS)
    return total


def bands_for(tiers: Iterable[CommissionTier], bucket: str) -> list[Band]:
    """The bands for a placement's bucket: its own tiers, else the agency's '' (any) tiers."""
    rows = list(tiers)
    own = [Band(t.above_minor, t.rate_bp) for t in rows if t.bucket == bucket]
    if own:
        return own
    return [Band(t.above_minor, t.rate_bp) for t in rows if t.bucket == ""]


def covered_until(placement: Placement) -> date:
    """The last day a placement covers: the day before its recall, or its term's last day."""
    if placement.recalled_on is not None:
        return min(placement.recalled_on - timedelta(days=1), placement.ends_on)
    return placement.ends_on


def recovered(placement: Placement, through: date) -> int:
    """Cash the ledger received for the placement's borrower from ``placed_on`` to
    ``min(covered_until, through)``, as known on ``through`` (0 before it started)."""
    last = min(covered_until(placement), through)
    if last < placement.placed_on:
        return 0
    return selectors.paid_between(placement.case.borrower_id, placement.placed_on, last, through)


def commission_through(placement: Placement, through: date, bands: Sequence[Band]) -> int:
    """Commission earned by a placement on everything recovered through ``through``."""
    return tiered(recovered(placement, through), bands)


@dataclass(frozen=True, slots=True)
class Line:
    """One placement's share of a month."""

    placement_id: int
    case_id: int
    borrower_ref: str
    bucket: str
    placed_on: date
    covered_until: date
    recalled_on: date | None
    recovered_in_month: int
    recovered_to_date: int
    commission_in_month: int
    commission_to_date: int

    def as_dict(self, currency: str) -> dict[str, Any]:
        def money(minor: int) -> dict[str, Any]:
            return {"minor": minor, "formatted": format_money(Money(minor, currency), "en")}

        return {
            "placement": self.placement_id,
            "case": self.case_id,
            "borrower": self.borrower_ref,
            "bucket": self.bucket,
            "placed_on": self.placed_on.isoformat(),
            "covered_until": self.covered_until.isoformat(),
            "recalled_on": self.recalled_on.isoformat() if self.recalled_on else None,
            "recovered_in_month": money(self.recovered_in_month),
            "recovered_to_date": money(self.recovered_to_date),
            "commission_in_month": money(self.commission_in_month),
            "commission_to_date": money(self.commission_to_date),
        }


@dataclass(frozen=True, slots=True)
class Statement:
    """An agency's monthly commission statement: one line per placement overlapping the month."""

    agency: str
    year: int
    month: int
    first: date
    last: date
    currency: str
    lines: list[Line] = field(default_factory=list)

    @property
    def recovered(self) -> int:
        return sum(line.recovered_in_month for line in self.lines)

    @property
    def commission(self) -> int:
        return sum(line.commission_in_month for line in self.lines)

    def as_dict(self) -> dict[str, Any]:
        def money(minor: int) -> dict[str, Any]:
            return {"minor": minor, "formatted": format_money(Money(minor, self.currency), "en")}

        return {
            "agency": self.agency,
            "month": f"{self.year:04d}-{self.month:02d}",
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "currency": self.currency,
            "rounding": ROUNDING,
            "lines": [line.as_dict(self.currency) for line in self.lines],
            "total": {"recovered": money(self.recovered), "commission": money(self.commission)},
        }


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """The first and last day of a calendar month."""
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def statement(agency: Agency, year: int, month: int) -> Statement:
    """The agency's commission statement for ``year``-``month``.

    Each line's month figures are cumulative-to-month-end minus cumulative-to-previous-month-end
    (each as known at that month end), so a placement's months add up to its total.
    """
    first, last = month_bounds(year, month)
    before = first - timedelta(days=1)
    tiers = list(agency.tiers.all())
    placements = (
        Placement.objects.filter(agency=agency, placed_on__lte=last)
        .select_related("case__borrower")
        .order_by("placed_on", "id")
    )
    lines: list[Line] = []
    currency = ""
    for placement in placements:
        until = covered_until(placement)
        if until < first:
            continue
        currency = currency or placement.currency
        bands = bands_for(tiers, placement.bucket)
        to_date, earlier = recovered(placement, last), recovered(placement, before)
        paid_to_date = tiered(to_date, bands)
        lines.append(
            Line(
                placement_id=placement.pk,
                case_id=placement.case_id,
                borrower_ref=placement.case.borrower.ref,
                bucket=placement.bucket,
                placed_on=placement.placed_on,
                covered_until=until,
                recalled_on=placement.recalled_on,
                recovered_in_month=to_date - earlier,
                recovered_to_date=to_date,
                commission_in_month=paid_to_date - tiered(earlier, bands),
                commission_to_date=paid_to_date,
            )
        )
    return Statement(agency.code, year, month, first, last, currency or "CNY", lines)
