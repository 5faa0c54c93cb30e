from django.apps import AppConfig


class LegalConfig(AppConfig):
    name = "arrears.legal"
    label = "legal"
    verbose_name = "Lawyer's letters (律师函)"

    def ready(self) -> None:
        """Join the day pipeline after the workflow and before the outbox (so the outbox finds
        each letter's work item already has its message), and give the outbox the letter PDFs."""
        from arrears.collections import dayflow
        from arrears.contact import documents
        from arrears.legal import selectors
        from arrears.web import panels

        dayflow.register("legal", "arrears.legal.services.letters_day", 30)
        documents.register("legal", "arrears.legal.services.document_for")
        panels.register("legal", "legal/_case_letters.html", selectors.case_panel, order=30)
