from django.apps import AppConfig


class ComplaintsConfig(AppConfig):
    """Complaints and disputes (投诉与异议): SLA clock, automatic hold, resolution."""

    name = "arrears.complaints"
    label = "complaints"
    verbose_name = "Complaints"

    def ready(self) -> None:
        from arrears.complaints import messages
        from arrears.contact import render

        render.register_extra(messages.complaint_extra)
