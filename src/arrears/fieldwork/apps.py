from django.apps import AppConfig


class FieldworkConfig(AppConfig):
    """Field visits (上门催收): eligibility, the visit workflow, authorisation letters."""

    name = "arrears.fieldwork"
    label = "fieldwork"
    verbose_name = "Field visits"

    def ready(self) -> None:
        from arrears.contact import render
        from arrears.fieldwork import daily, messages, panel
        from arrears.web import panels

        render.register_extra(messages.appointment_extra)
        daily.register()
        panels.register("fieldwork", "fieldwork/_case_visits.html", panel.case_panel, order=40)
