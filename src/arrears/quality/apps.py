from django.apps import AppConfig


class QualityConfig(AppConfig):
    """The compliance officer's pages: the gate decision log, contact history, quality review."""

    name = "arrears.quality"
    label = "quality"
    verbose_name = "Compliance and quality review"

    def ready(self) -> None:
        """Keep the gate log's index in step with every gate decision as it is recorded."""
        from arrears.quality import gatelog

        gatelog.connect()
