from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "arrears.notices"
    label = "notices"
    verbose_name = "Notices: message templates"
