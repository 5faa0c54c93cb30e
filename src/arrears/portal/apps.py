from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The borrower portal (``/my/``): sign-in by loan number and a one-time SMS code."""

    name = "arrears.portal"
    label = "portal"
    verbose_name = "Borrower portal"

    def ready(self) -> None:
        """Give the sign-in and confirmation messages their variables; release a portal plan's
        hold when it is decided (``portal.receivers``: imports the plans when first used)."""
        from arrears.contact.render import register_extra
        from arrears.portal import receivers
        from arrears.portal.signin import sign_in_variables

        register_extra(sign_in_variables)
        receivers.connect()
