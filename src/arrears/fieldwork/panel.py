"""The case page's field-visit panel: the case's visits and, while it is open, whether a visit
could be requested today and why (each condition with its value)."""

from __future__ import annotations

from typing import Any

from arrears.fieldwork import eligibility
from arrears.fieldwork.models import FieldVisit


def case_panel(case: Any, user: Any) -> dict[str, Any] | None:
    from arrears.collections.workflow import business_date

    visits = list(FieldVisit.objects.filter(case=case).order_by("-requested_at", "-id"))
    answer = eligibility.check(case, business_date()) if case.is_open else None
    open_visit = any(v.is_open for v in visits)
    return {"case": case, "visits": visits, "answer": answer, "open_visit": open_visit}
