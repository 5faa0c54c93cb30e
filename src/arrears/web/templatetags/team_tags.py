"""The navigation's count of concessions waiting for the reader's decision (the badge next to
*Approvals*): the requested waivers and plans the approvals page would list for them."""

from __future__ import annotations

from typing import Any

from django import template

from arrears.ledger.models import Approval
from arrears.web import selectors

register = template.Library()


@register.simple_tag
def approvals_waiting(user: Any) -> int:
    """How many waivers and plans wait for approval among those ``user`` may see (0 for
    someone who approves nothing; two count queries for those who do)."""
    if not getattr(user, "is_authenticated", False) or not selectors.is_approver(user):
        return 0
    return int(
        selectors.visible_waivers(user).filter(status=Approval.REQUESTED).count()
        + selectors.visible_plans(user).filter(status=Approval.REQUESTED).count()
    )
