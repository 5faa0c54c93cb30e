"""Who may open the compliance pages: superusers, and users holding the model permission each
page needs (the compliance officer's Django group carries them). A user whose collector role is
*collector* never does, whatever permissions they were given: the pages are about collectors'
own work. Team leads and managers may hold the permissions (a reviewer can be a team lead, which
is why a reviewer never reviews their own contacts)."""

from __future__ import annotations

from typing import Any

from arrears.collections.models import Collector

#: The permission each page asks for.
DECISIONS = "contact.view_gatedecision"
CONTACTS = "collections.view_contactattempt"
VIEW_REVIEWS = "quality.view_contactreview"
ADD_REVIEWS = "quality.add_contactreview"


def _allowed(user: Any, *perms: str) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if not getattr(user, "is_active", False):
        return False
    if user.is_superuser:
        return True
    if Collector.role_of(user) == str(Collector.Role.COLLECTOR):
        return False
    return all(user.has_perm(p) for p in perms)


def may_view_decisions(user: Any) -> bool:
    return _allowed(user, DECISIONS)


def may_view_contacts(user: Any) -> bool:
    return _allowed(user, CONTACTS)


def may_view_reviews(user: Any) -> bool:
    return _allowed(user, VIEW_REVIEWS)


def may_review(user: Any) -> bool:
    """Drawing samples and scoring contacts: both review permissions."""
    return _allowed(user, VIEW_REVIEWS, ADD_REVIEWS)


def may_see_any(user: Any) -> bool:
    """Whether the compliance link belongs in the user's navigation."""
    return may_view_decisions(user) or may_view_contacts(user) or may_view_reviews(user)
