from django.apps import AppConfig


class ComplaintsConfig(AppConfig):
    """Complaints and disputes (投诉与异议): SLA clock, automatic hold, resolution."""

    name = "arrears.complaints"
    label = "complaints"
    verbose_name = "Complaints"

    def ready(self) -> None:
        from arrears.complaints import messages, panel
        from arrears.contact import render
        from arrears.web import panels

        render.register_extra(messages.complaint_extra)
        panels.register(
            "complaints", "complaints/_case_complaints.html", panel.case_panel, order=20
        )
