from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Reports: the pages, downloads, command and monthly pack around ``reports.base``."""

    name = "arrears.reports"
    label = "reports"
    verbose_name = "Reports"
