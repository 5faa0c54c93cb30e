"""No tables: the reports compute from the other apps' rows. :class:`ReportAccess` exists only
to carry the permission that opens the reports (``reports.view_reports``), which the team
lead's, manager's and compliance officer's groups hold (``accounts.roles``), so the header's
link is a permission check the page already has in its cache."""

from django.db import models


class ReportAccess(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_reports", "Can open the reports")]
