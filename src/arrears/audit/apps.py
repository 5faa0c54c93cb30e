from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "arrears.audit"
    label = "audit"
    verbose_name = "Audit chain"

    def ready(self) -> None:
        """Connect the receivers so no other app has to call the audit chain."""
        from arrears.audit import receivers

        receivers.connect()
