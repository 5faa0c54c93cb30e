"""Days past due and delinquency buckets (账龄).

DPD is counted from the earliest due date whose instalment still has an unpaid amount above the
product's tolerance; an instalment due today is not yet past due. Grace days never change DPD,
only penalty.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from arrears.kernel.terms import DEFAULT_BUCKETS, Bucket


def days_past_due(
    unpaid_by_due_date: Iterable[tuple[date, int]], as_of: date, tolerance: int
) -> int:
    """``as_of`` minus the earliest due date before ``as_of`` with unpaid > ``tolerance``; else 0.

    Example (also a test): an instalment due 2026-03-15 with 1.00 unpaid and tolerance 0.50 is
    10 days past due on 2026-03-25.
    """
    earliest: date | None = None
    for due_date, unpaid in unpaid_by_due_date:
        if due_date < as_of and unpaid > tolerance and (earliest is None or due_date < earliest):
            earliest = due_date
    return 0 if earliest is None else (as_of - earliest).days


def bucket_for(dpd: int, buckets: tuple[Bucket, ...] = DEFAULT_BUCKETS) -> str:
    """The name of the bucket whose range holds ``dpd`` (M0 for 0, M1 for 1–30, … M7+ for 181+)."""
    if dpd < 0:
        raise ValueError(f"dpd cannot be negative, got {dpd}")
    for bucket in buckets:
        if bucket.min_dpd <= dpd and (bucket.max_dpd is None or dpd <= bucket.max_dpd):
            return bucket.name
    raise ValueError(f"no bucket holds dpd {dpd}")  # unreachable for validated buckets
