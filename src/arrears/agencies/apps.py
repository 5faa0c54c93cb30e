from django.apps import AppConfig


class AgenciesConfig(AppConfig):
    name = "arrears.agencies"
    label = "agencies"
    verbose_name = "Agencies (委外)"
