"""Whether to show the header's *Admin* link: only to someone the admin would show something.

Django's admin lets any active staff user in, then lists only the apps they hold permissions
for; a staff user with none (a team lead who is staff for the back-office pages) would land on
"You don't have permission to view or edit anything". Leads get no admin of their own: teams,
roles and approval limits are the controls that bind them (``collections.admin``), and their
team is managed on the queue page (reassign). So the link is shown only to superusers and to
staff who hold a permission in at least one app the admin registers.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib import admin

register = template.Library()


@register.filter
def has_admin_access(user: Any) -> bool:
    """``{% if user|has_admin_access %}`` — the admin would list at least one app for them."""
    if not getattr(user, "is_active", False) or not getattr(user, "is_staff", False):
        return False
    if user.is_superuser:
        return True
    apps = {model._meta.app_label for model in admin.site._registry}
    return any(user.has_module_perms(app) for app in sorted(apps))
