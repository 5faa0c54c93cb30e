from django.apps import AppConfig
from django.core import checks


class ContactConfig(AppConfig):
    name = "arrears.contact"
    label = "contact"
    verbose_name = "Contact: gate and outbox"

    def ready(self) -> None:
        from arrears.contact import panel
        from arrears.contact.checks import check_policy_pack
        from arrears.web import panels

        checks.register(check_policy_pack, "arrears")
        panels.register("preferences", "contact/_case_preferences.html", panel.case_panel, order=10)
