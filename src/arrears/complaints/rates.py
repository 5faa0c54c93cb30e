"""Complaint rates per collector: complaints per 1,000 cases worked, from the complaint links.

For a period ``first``..``last`` (the lender's local days): a collector's *cases worked* are the
distinct cases they logged a contact on in the period; their *complaints* are the complaints
received in the period that name them (``Complaint.collectors``: the collectors of the contacts
the complaint is about). The rate is ``complaints × 1000 // cases`` — an integer, floored, so two
runs agree — or ``None`` when they worked no case. The agency scorecard counts the same links
(``agencies.scorecard``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count
from django.utils import timezone

from arrears.collections.models import ContactAttempt
from arrears.complaints.models import Complaint


@dataclass(frozen=True, slots=True)
class CollectorRate:
    collector: str
    cases_worked: int
    complaints: int
    upheld: int
    complaints_per_1000: int | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _range(first: date, last: date) -> tuple[datetime, datetime]:
    return (
        timezone.make_aware(datetime.combine(first, time.min)),
        timezone.make_aware(datetime.combine(last, time.max)),
    )


def collector_rates(first: date, last: date) -> list[CollectorRate]:
    """One row per collector who worked a case or was complained about in the period, worst
    rate first (then by name)."""
    lo, hi = _range(first, last)
    worked = dict(
        ContactAttempt.objects.filter(at__gte=lo, at__lte=hi, collector__isnull=False)
        .values("collector")
        .annotate(n=Count("case", distinct=True))
        .values_list("collector", "n")
    )
    received = Complaint.objects.filter(received_at__gte=lo, received_at__lte=hi)
    complained: dict[int, int] = {}
    upheld: dict[int, int] = {}
    for user_id, was_upheld in received.values_list("collectors", "upheld"):
        if user_id is None:
            continue
        complained[user_id] = complained.get(user_id, 0) + 1
        upheld[user_id] = upheld.get(user_id, 0) + (1 if was_upheld else 0)
    ids = set(worked) | set(complained)
    names = dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))
    rows = [
        CollectorRate(
            collector=names.get(pk, str(pk)),
            cases_worked=worked.get(pk, 0),
            complaints=complained.get(pk, 0),
            upheld=upheld.get(pk, 0),
            complaints_per_1000=(
                complained.get(pk, 0) * 1000 // worked[pk] if worked.get(pk) else None
            ),
        )
        for pk in ids
    ]
    return sorted(rows, key=lambda r: (-(r.complaints_per_1000 or 0), -r.complaints, r.collector))
