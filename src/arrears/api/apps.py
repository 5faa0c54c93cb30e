from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The REST API for integrators (``/api/v1``) and what the three JSON APIs share."""

    name = "arrears.api"
    label = "api"
    verbose_name = "Integration API"
