from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Reports: the pages, downloads, command and monthly pack around ``reports.base``."""

    name = "arrears.reports"
    label = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from arrears.collections import dayflow
        from arrears.reports.schedule import ORDER

        dayflow.register("report-pack", "arrears.reports.schedule.step", ORDER)
