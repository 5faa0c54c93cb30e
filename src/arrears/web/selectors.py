"""Reads for the web pages: bucket summaries and lists from the stored daily state."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, QuerySet, Sum

from arrears.daily.models import DayRun, LoanState
from arrears.kernel.terms import DEFAULT_BUCKETS


def latest_run_date() -> date | None:
    run = DayRun.objects.filter(status=DayRun.Status.COMPLETED).order_by("-as_of").first()
    return run.as_of if run else None


def bucket_summary(as_of: date) -> list[dict[str, object]]:
    """One row per bucket (in bucket order, empty buckets included) with counts and sums."""
    found = {
        row["bucket"]: row
        for row in LoanState.objects.filter(as_of=as_of)
        .values("bucket")
        .annotate(
            loans=Count("id"),
            total_due=Sum("total_due_minor"),
            penalty=Sum("penalty_minor"),
            overdue_principal=Sum("overdue_principal_minor"),
        )
    }
    known = [b.name for b in DEFAULT_BUCKETS]
    names = known + sorted(set(found) - set(known))
    return [
        found.get(
            name, {"bucket": name, "loans": 0, "total_due": 0, "penalty": 0, "overdue_principal": 0}
        )
        for name in names
    ]


def loans_in_bucket(as_of: date, bucket: str) -> QuerySet[LoanState]:
    return (
        LoanState.objects.filter(as_of=as_of, bucket=bucket)
        .select_related("loan", "loan__borrower")
        .order_by("-dpd", "-total_due_minor", "loan__ref")
    )
