from django.apps import AppConfig


class AgenciesConfig(AppConfig):
    name = "arrears.agencies"
    label = "agencies"
    verbose_name = "Agencies (委外)"

    def ready(self) -> None:
        """Put the day's recalls and placements in the day pipeline, after the workflow (0)
        has staged the cases and before the outbox (100); let the dispatcher name the agency
        in placement and recall notices."""
        from arrears.agencies.notices import agency_extra
        from arrears.collections import dayflow
        from arrears.contact import render

        dayflow.register("agencies", "arrears.agencies.placement.place_day", 20)
        render.register_extra(agency_extra)
