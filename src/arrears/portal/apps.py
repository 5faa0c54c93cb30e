from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The borrower portal (``/my/``): sign-in by loan number and a one-time SMS code."""

    name = "arrears.portal"
    label = "portal"
    verbose_name = "Borrower portal"

    def ready(self) -> None:
        from arrears.contact.render import register_extra
        from arrears.portal.signin import sign_in_variables

        register_extra(sign_in_variables)
        from arrears.portal import plans

        plans.connect()
