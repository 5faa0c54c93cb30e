"""Which complaints a user may see (the register, one complaint, its letter).

Compliance (``complaints.view_complaint``, their group's) and superusers see the whole
register: complaints are what they oversee. A team lead or manager handles the complaints of
borrowers whose cases they may open (``collections.selectors.visible_cases``), not another
team's. Anyone else sees none, and the pages answer 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from arrears.collections.models import Collector
from arrears.collections.selectors import visible_cases
from arrears.complaints.models import Complaint


def visible_complaints(user: Any) -> QuerySet[Complaint]:
    if not getattr(user, "is_authenticated", False):
        return Complaint.objects.none()
    if user.is_superuser or user.has_perm("complaints.view_complaint"):
        return Complaint.objects.all()
    if Collector.supervises(user):
        return Complaint.objects.filter(borrower_id__in=visible_cases(user).values("borrower_id"))
    return Complaint.objects.none()
