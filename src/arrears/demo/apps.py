from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "arrears.demo"
    label = "demo"
    verbose_name = "Demo portfolio"
