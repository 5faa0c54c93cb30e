from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "arrears.accounts"
    label = "accounts"
    verbose_name = "Roles and sign-in"

    def ready(self) -> None:
        """Sync the role groups after every ``migrate``, keep group membership in step with the
        profiles (collector, agency member, field agent)."""
        from arrears.accounts import membership

        post_migrate.connect(membership.after_migrate, sender=self, dispatch_uid="accounts:sync")
        membership.connect()
