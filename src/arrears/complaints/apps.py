from django.apps import AppConfig


class ComplaintsConfig(AppConfig):
    """Complaints and disputes (投诉与异议): SLA clock, automatic hold, resolution."""

    name = "arrears.complaints"
    label = "complaints"
    verbose_name = "Complaints"

    def ready(self) -> None:
        """Hook into the outbox, the day pipeline, contact logging and the case page. The
        dispute handler and the panel go by dotted path: both import the complaint services,
        which bring the collections workflow and Polars, and a command or request that logs no
        dispute and shows no case page needs neither."""
        from arrears.collections import dayflow
        from arrears.collections.models import ContactAttempt
        from arrears.collections.outcomes import handle_outcome
        from arrears.complaints import messages, sla
        from arrears.contact import documents, render
        from arrears.web import panels

        render.register_extra(messages.complaint_extra)
        documents.register("complaints", "arrears.complaints.letter.document_for")
        dayflow.register("complaint-holds", sla.step, sla.ORDER)
        handle_outcome(
            ContactAttempt.Outcome.DISPUTE, "arrears.complaints.disputes.file_from_contact"
        )
        panels.register(
            "complaints",
            "complaints/_case_complaints.html",
            "arrears.complaints.panel.case_panel",
            order=20,
        )
