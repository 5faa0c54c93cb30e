"""The case page's complaints panel: the borrower's complaints and a form to log one received
by phone (posting to ``complaints:new``)."""

from __future__ import annotations

from typing import Any

from arrears.complaints.forms import FileForm
from arrears.complaints.models import Complaint
from arrears.complaints.services import may_handle


def case_panel(case: Any, user: Any) -> dict[str, Any] | None:
    complaints = list(Complaint.objects.filter(borrower_id=case.borrower_id)[:20])
    return {
        "case": case,
        "complaints": complaints,
        "form": FileForm(),
        "may_open": may_handle(user),
    }
