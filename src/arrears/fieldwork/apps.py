from django.apps import AppConfig


class FieldworkConfig(AppConfig):
    """Field visits (上门催收): eligibility, the visit workflow, authorisation letters."""

    name = "arrears.fieldwork"
    label = "fieldwork"
    verbose_name = "Field visits"

    def ready(self) -> None:
        from arrears.contact import render
        from arrears.fieldwork import daily, messages

        render.register_extra(messages.appointment_extra)
        daily.register()
