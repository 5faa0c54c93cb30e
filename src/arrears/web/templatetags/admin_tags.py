"""Whether to show the header's *Admin* link: only to someone the admin would show something.

Django's admin lets any active staff user in, then lists only the apps they hold permissions
for; a staff user with none would land on "You don't have permission to view or edit anything".
The door itself is ``accounts.security.may_enter_admin`` (staff, and the team lead, manager,
compliance and admin roles, whose groups give them something to see: leads and managers see
teams, collectors and limits read-only, since those are the controls that bind them). So the
link is shown only to superusers and to those let in who hold a permission in at least one app
the admin registers.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib import admin

register = template.Library()


@register.filter
def has_admin_access(user: Any) -> bool:
    """``{% if user|has_admin_access %}`` — the admin would list at least one app for them."""
    from arrears.accounts.security import may_enter_admin

    if not may_enter_admin(user):
        return False
    if user.is_superuser:
        return True
    apps = {model._meta.app_label for model in admin.site._registry}
    return any(user.has_module_perms(app) for app in sorted(apps))
