"""The case page's "How the borrower wants to be contacted" panel: what they asked for (in the
portal, on a call, by letter), shown where a collector decides to call, with when it was last
changed and how. The gate enforces all of it anyway; the panel saves the collector a refused
call and the borrower an unwanted one."""

from __future__ import annotations

from typing import Any

from arrears.contact.models import ContactPreference


def case_panel(case: Any, user: Any) -> dict[str, Any] | None:
    preference = ContactPreference.objects.filter(borrower_id=case.borrower_id).first()
    if preference is None:
        return None
    last = preference.history[-1] if preference.history else {}
    return {
        "preference": preference,
        "changed_at": last.get("at", ""),
        "source": last.get("source", ""),
    }
