from django.apps import AppConfig


class ContactConfig(AppConfig):
    name = "arrears.contact"
    label = "contact"
    verbose_name = "Contact: gate and outbox"
