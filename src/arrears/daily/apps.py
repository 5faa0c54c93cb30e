from django.apps import AppConfig


class DailyConfig(AppConfig):
    name = "arrears.daily"
    label = "daily"
    verbose_name = "Daily run"
