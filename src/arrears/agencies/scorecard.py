"""An agency's scorecard for a period: what it recovered, how it treated borrowers, how it was
reviewed — the lender's oversight of its agencies (委外机构考核), from our records only.

For ``agency`` and the days ``first``..``last``:

* **cases placed** — placements made in the period; **cases worked** — placements live at any
  time in it (the denominator of the complaint rate);
* **recovery rate** — cash the ledger received during the placements made in the period (to
  ``last``; see ``commission.recovered``) over what those cases owed when placed, in basis
  points, floored;
* **promise-kept rate** — promises the agency's users took (``Promise.agency``) made in the
  period and judged by now: kept over kept + partially kept + broken, in basis points;
* **complaints per 1,000 cases** — complaints and disputes (``complaints.Complaint``) received
  in the period that are linked to the agency, × 1000 / cases worked, floored;
* **gate denials** — contacts logged for the agency (``ContactAttempt.agency``) in the period
  that the compliance gate denied (only recorded when overridden: a refused contact is never
  stored), plus denied messages of the agency's placements (the placement and recall notices);
* **quality** — quality reviews (``QualityReview``) of its placements dated in the period:
  count, average score (floored) and how many scored below 60, with the findings.

Rates are integers (basis points) so that two runs agree to the unit; ``None`` when there is
nothing to divide by.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.db.models import Q
from django.utils import timezone

from arrears.agencies.commission import covered_until, recovered
from arrears.agencies.models import Agency, Placement, QualityReview
from arrears.collections.models import ContactAttempt
from arrears.contact.models import GateDecision

#: A review scoring below this fails.
PASS_SCORE = 60


def _rate(part: int, whole: int, scale: int = 10_000) -> int | None:
    return part * scale // whole if whole > 0 else None


@dataclass(frozen=True, slots=True)
class Scorecard:
    agency: str
    first: date
    last: date
    cases_placed: int
    cases_worked: int
    recovered_minor: int
    placed_due_minor: int
    recovery_rate_bp: int | None
    promises_judged: int
    promises_kept: int
    promise_kept_rate_bp: int | None
    complaints: int
    complaints_per_1000: int | None
    gate_denials: int
    reviews: int
    average_score: int | None
    failed_reviews: int
    findings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__slots__}
        data["first"], data["last"] = self.first.isoformat(), self.last.isoformat()
        return data


def _day_range(first: date, last: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(first, time.min))
    end = timezone.make_aware(datetime.combine(last, time.max))
    return start, end


def _complaints(agency: Agency, first: date, last: date) -> int:
    """Complaints and disputes received in the period that name the agency (``Complaint``
    links: the filer's choice or the agency's contacts on the case in the month before)."""
    from arrears.complaints.models import Complaint

    lo, hi = _day_range(first, last)
    return Complaint.objects.filter(
        agencies=agency, received_at__gte=lo, received_at__lte=hi
    ).count()


def scorecard(agency: Agency, first: date, last: date) -> Scorecard:
    """The agency's scorecard for ``first``..``last`` (both included)."""
    placements = list(
        Placement.objects.filter(agency=agency, placed_on__lte=last).select_related("case")
    )
    placed = [p for p in placements if p.placed_on >= first]
    worked = [p for p in placements if covered_until(p) >= first]
    cash = sum(recovered(p, last) for p in placed)
    due = sum(p.total_due_minor for p in placed)
    promises = agency.promises.filter(made_on__gte=first, made_on__lte=last)
    judged = promises.filter(status__in=("kept", "partially_kept", "broken")).count()
    kept = promises.filter(status="kept").count()
    complaints = _complaints(agency, first, last)
    lo, hi = _day_range(first, last)
    keys = Q()
    for placement in placements:
        keys |= Q(message__key__startswith=f"placement:{placement.pk}:")
    denied = ContactAttempt.objects.filter(
        agency=agency, gate_outcome="deny", at__gte=lo, at__lte=hi
    ).count()
    if placements:
        denied += GateDecision.objects.filter(keys, outcome="deny", at__gte=lo, at__lte=hi).count()
    reviews = list(
        QualityReview.objects.filter(
            placement__agency=agency, reviewed_on__gte=first, reviewed_on__lte=last
        ).order_by("reviewed_on", "id")
    )
    scores = [r.score for r in reviews]
    return Scorecard(
        agency=agency.code,
        first=first,
        last=last,
        cases_placed=len({p.case_id for p in placed}),
        cases_worked=len(worked),
        recovered_minor=cash,
        placed_due_minor=due,
        recovery_rate_bp=_rate(cash, due),
        promises_judged=judged,
        promises_kept=kept,
        promise_kept_rate_bp=_rate(kept, judged),
        complaints=complaints,
        complaints_per_1000=_rate(complaints, len(worked), 1000),
        gate_denials=denied,
        reviews=len(reviews),
        average_score=sum(scores) // len(scores) if scores else None,
        failed_reviews=sum(1 for s in scores if s < PASS_SCORE),
        findings=[f"{r.reviewed_on} {r.score}: {r.finding}" for r in reviews if r.finding],
    )
