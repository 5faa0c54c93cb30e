from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "arrears.verification"
    label = "verification"
    verbose_name = "Verification codes"
