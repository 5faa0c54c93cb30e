"""``django.contrib.admin`` with :class:`admin_site.ArrearsAdminSite` as the default site.

``INSTALLED_APPS`` names this class instead of ``django.contrib.admin`` (Django's documented
way to replace the default site). Its own module, importing nothing of the project: Django
imports it while the app registry is still being filled.
"""

from django.contrib.admin.apps import AdminConfig


class ArrearsAdminConfig(AdminConfig):
    default_site = "arrears.accounts.admin_site.ArrearsAdminSite"
