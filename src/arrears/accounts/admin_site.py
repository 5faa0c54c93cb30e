"""The project's admin site: Django's, with the door opened to the roles that work there.

Django lets only ``is_staff`` users in; a team lead or compliance officer would need the staff
flag, which also opens the back-office pages (the whole book). This site lets in
:func:`security.may_enter_admin` instead; what each sees inside is still their group's model
permissions. Installed as the default site (``admin_config.ArrearsAdminConfig``), so every app's
``admin.site.register`` lands here.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from arrears.accounts.security import AdminLoginForm, may_enter_admin


class ArrearsAdminSite(admin.AdminSite):
    login_form = AdminLoginForm

    def has_permission(self, request: HttpRequest) -> bool:
        return may_enter_admin(request.user)
