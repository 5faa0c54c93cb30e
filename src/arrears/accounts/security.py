"""Sign-in security for staff: the client address, the lockout backend, the admin's door.

The borrower portal signs in by SMS code with its own limits (``portal.signin``) and never goes
through Django's ``authenticate``; nothing here touches it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from arrears.accounts.network import client_ip
from arrears.accounts.roles import Role
from arrears.collections.models import Collector

__all__ = ["ADMIN_ROLES", "LockoutBackend", "client_ip", "lockout_response", "may_enter_admin"]

#: Roles that may enter the admin without ``is_staff``: what they see there is what their
#: group's permissions allow (leads and managers: teams, collectors and limits, read-only).
ADMIN_ROLES = (Role.TEAM_LEAD, Role.MANAGER, Role.COMPLIANCE_OFFICER, Role.ADMIN)


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check, for web sign-ins only.

    Axes refuses an ``authenticate()`` call without a request; a call without one comes from
    code in the process (a script, the test client's ``login``), not from someone guessing
    passwords over the network, so it is left to the next backend instead of failing.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


def may_enter_admin(user: Any) -> bool:
    """Staff, and the roles that work in the admin (:data:`ADMIN_ROLES`).

    The same answer as ``has_role(user, *ADMIN_ROLES)``, asked in the order that costs least:
    the header asks it on every page, and a collector's page has already loaded their profile,
    so it costs one query (their groups), not a read of every profile.
    """
    if not getattr(user, "is_active", False) or not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff or user.is_superuser:
        return True
    if Collector.role_of(user) in (Role.TEAM_LEAD, Role.MANAGER):
        return True
    return bool(user.groups.filter(name__in=[role.value for role in ADMIN_ROLES]).exists())


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's sign-in form with :func:`may_enter_admin` as its door."""

    def confirm_login_allowed(self, user: Any) -> None:
        if not may_enter_admin(user):
            super().confirm_login_allowed(user)


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """The translated lockout page (django-axes' ``AXES_LOCKOUT_CALLABLE``), status 429."""
    cooloff = getattr(settings, "AXES_COOLOFF_TIME", None)
    minutes = int(cooloff.total_seconds() // 60) if isinstance(cooloff, timedelta) else None
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes}
    return render(request, "accounts/lockout.html", context, status=429)
