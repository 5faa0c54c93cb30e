from django.apps import AppConfig


class ComplaintsConfig(AppConfig):
    """Complaints and disputes (投诉与异议): SLA clock, automatic hold, resolution."""

    name = "arrears.complaints"
    label = "complaints"
    verbose_name = "Complaints"

    def ready(self) -> None:
        from arrears.collections import dayflow
        from arrears.collections import services as collections
        from arrears.collections.models import ContactAttempt
        from arrears.complaints import disputes, messages, panel, sla
        from arrears.contact import documents, render
        from arrears.web import panels

        render.register_extra(messages.complaint_extra)
        documents.register("complaints", "arrears.complaints.letter.document_for")
        dayflow.register("complaint-holds", sla.step, sla.ORDER)
        collections.handle_outcome(ContactAttempt.Outcome.DISPUTE, disputes.file_from_contact)
        panels.register(
            "complaints", "complaints/_case_complaints.html", panel.case_panel, order=20
        )
