from django.apps import AppConfig


class CollectionsConfig(AppConfig):
    name = "arrears.collections"
    label = "collections"
    verbose_name = "Collections"

    def ready(self) -> None:
        from arrears.collections import receivers
        from arrears.ledger.signals import payment_changed

        payment_changed.connect(receivers.on_payment_changed, dispatch_uid="collections-payment")
