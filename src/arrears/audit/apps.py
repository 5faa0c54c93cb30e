from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "arrears.audit"
    label = "audit"
    verbose_name = "Audit chain"

    def ready(self) -> None:
        """Connect the receivers and the day-run summary so no other app has to call the
        audit chain; add the case page's audit panel."""
        from arrears.audit import daysummary, panel, receivers
        from arrears.collections import dayflow
        from arrears.web import panels

        receivers.connect()
        dayflow.register("audit-summary", daysummary.step, daysummary.ORDER)
        panels.register("audit", "audit/_case_audit.html", panel.case_panel, order=90)
