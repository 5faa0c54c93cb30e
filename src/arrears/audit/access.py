"""Who may read the audit trail: staff and compliance (``audit.view_auditentry``, a Django
group in the admin). Collectors and agency users never do: the trail records their own work."""

from __future__ import annotations

from typing import Any


def may_view(user: Any) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_staff or user.is_superuser or user.has_perm("audit.view_auditentry"))
