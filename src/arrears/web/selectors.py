"""Reads for the web pages: bucket summaries and lists from the stored daily state, queues,
and which concessions a user may see. Who may see which case is
:mod:`arrears.collections.selectors` (re-exported here for the pages)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import (
    Count,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce

from arrears.collections.models import Case, Collector, ContactAttempt, WorkItem
from arrears.collections.selectors import collector_of, is_supervisor, visible_cases
from arrears.daily.models import DayRun, LoanState
from arrears.kernel.terms import DEFAULT_BUCKETS
from arrears.ledger.models import Loan, Phone, PlanInstalment, RepaymentPlan, Waiver


def latest_run_date() -> date | None:
    run = DayRun.objects.filter(status__in=DayRun.FINISHED).order_by("-as_of").first()
    return run.as_of if run else None


def bucket_summary(as_of: date) -> list[dict[str, object]]:
    """One row per bucket (in bucket order, empty buckets included) with counts and sums."""
    found = {
        row["bucket"]: row
        for row in LoanState.objects.filter(as_of=as_of)
        .values("bucket")
        .annotate(
            loans=Count("id"),
            total_due=Sum("total_due"),
            penalty=Sum("penalty_outstanding"),
            overdue_principal=Sum("overdue_principal"),
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
        .order_by("-dpd", "-total_due", "loan__ref")
    )


# --- the collector workbench (issue 4) -----------------------------------------------------
#
# Who sees which case is decided here, once, so the queue and the case page cannot disagree:
# a page that lists a case the case page then refuses (or the reverse) is the classic leak.


def queue_collectors(user: Any) -> QuerySet[Collector]:
    """The collectors a supervisor may filter by and hand cases to (their team; all for a
    superuser). A plain collector gets none: they neither filter nor reassign."""
    if getattr(user, "is_superuser", False):
        return Collector.objects.select_related("user", "team")
    profile = collector_of(user)
    if not is_supervisor(profile):
        return Collector.objects.none()
    assert profile is not None
    return Collector.objects.filter(team_id=profile.team_id).select_related("user", "team")


def queue(user: Any, day: date, *, collector: str = "") -> QuerySet[Case]:
    """The open cases of ``user``'s queue in work order (priority desc, then id).

    ``collector`` narrows a supervisor's view to one collector's id, or ``"none"`` for the
    unassigned cases. Each row carries ``pending_today`` (pending work due on or before
    ``day`` — yesterday's undone call is still today's work) and ``last_contact_at``; both are
    subqueries, so the two counts cannot multiply each other through a join.
    """
    cases = visible_cases(user).filter(closed_on__isnull=True)
    if collector == "none":
        cases = cases.filter(collector__isnull=True)
    elif collector.isdigit():
        cases = cases.filter(collector_id=int(collector))
    pending = (
        WorkItem.objects.filter(
            case=OuterRef("pk"), status=WorkItem.Status.PENDING, due_on__lte=day
        )
        .order_by()
        .values("case")
        .annotate(n=Count("id"))
        .values("n")
    )
    last_contact = (
        ContactAttempt.objects.filter(case=OuterRef("pk")).order_by("-at", "-id").values("at")[:1]
    )
    return (
        cases.select_related("borrower", "collector__user")
        .prefetch_related(Prefetch("borrower__phones", queryset=Phone.objects.order_by("id")))
        .annotate(
            pending_today=Coalesce(Subquery(pending, output_field=IntegerField()), 0),
            last_contact_at=Subquery(last_contact),
        )
        .order_by("-priority", "id")
    )


def borrower_loans(borrower_id: int) -> list[Loan]:
    """The borrower's loans, each with ``latest`` — its most recent stored daily state (or
    ``None`` before the first run). A borrower has a handful of loans, so one query each is
    cheaper to read than a window query."""
    loans = list(Loan.objects.filter(borrower_id=borrower_id).select_related("product"))
    for loan in loans:
        loan.latest = LoanState.objects.filter(loan=loan).order_by("-as_of").first()
    return loans


# --- concessions: waivers and repayment plans (issue W2) -----------------------------------
#
# A concession is visible exactly when its borrower has a case the user may open, so the
# approvals page can never list an item whose case page would then answer 404.


def is_approver(user: Any) -> bool:
    """Who may open the approvals page: team leads, managers and superusers. Whether a given
    approval is within their limits is the service's decision, not the page's."""
    return bool(getattr(user, "is_superuser", False) or is_supervisor(collector_of(user)))


def visible_waivers(user: Any) -> QuerySet[Waiver]:
    """Every waiver on the loans of borrowers whose cases ``user`` may open (all for a
    superuser, including borrowers without a case)."""
    rows = Waiver.objects.select_related("loan", "requested_by")
    if getattr(user, "is_superuser", False):
        return rows
    return rows.filter(loan__borrower_id__in=visible_cases(user).values("borrower_id"))


def visible_plans(user: Any) -> QuerySet[RepaymentPlan]:
    """Every repayment plan on the loans of borrowers whose cases ``user`` may open."""
    rows = RepaymentPlan.objects.select_related("loan", "proposed_by").prefetch_related(
        Prefetch("instalments", queryset=PlanInstalment.objects.order_by("seq"))
    )
    if getattr(user, "is_superuser", False):
        return rows
    return rows.filter(loan__borrower_id__in=visible_cases(user).values("borrower_id"))


def case_of_borrowers(user: Any, borrower_ids: set[int]) -> dict[int, int]:
    """For each borrower, the case ``user`` should be sent to: the open one if there is one,
    else the latest closed one. Borrowers without a visible case are left out."""
    found: dict[int, int] = {}
    rows = (
        visible_cases(user)
        .filter(borrower_id__in=borrower_ids)
        .order_by("borrower_id", "-opened_on", "-id")
        .values_list("borrower_id", "id", "closed_on")
    )
    for borrower_id, case_id, closed_on in rows:
        if closed_on is None:
            found[borrower_id] = case_id  # the open case wins (there is at most one)
        else:
            found.setdefault(borrower_id, case_id)
    return found
