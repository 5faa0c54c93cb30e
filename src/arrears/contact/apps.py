from django.apps import AppConfig
from django.core import checks


class ContactConfig(AppConfig):
    name = "arrears.contact"
    label = "contact"
    verbose_name = "Contact: gate and outbox"

    def ready(self) -> None:
        from arrears.contact.checks import check_policy_pack

        checks.register(check_policy_pack, "arrears")
