"""The case page's "Audit trail" panel: the case's last entries, a link to the whole trail and
to the dispute bundle. Shown only to those who may read the trail (``access.may_view``)."""

from __future__ import annotations

from typing import Any

from arrears.audit.access import may_view
from arrears.audit.models import AuditEntry

#: Entries the panel lists (newest first).
PANEL_ROWS = 20


def case_panel(case: Any, user: Any) -> dict[str, Any] | None:
    if not may_view(user):
        return None
    rows = list(AuditEntry.objects.filter(case_id=case.pk).order_by("-id")[:PANEL_ROWS])
    return {"case": case, "entries": rows}
