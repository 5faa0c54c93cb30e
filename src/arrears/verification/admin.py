from django.contrib import admin

from arrears.verification.models import Credential


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    """Read-only: credentials are issued by the workflows and ended by revoking them there."""

    list_display = ("kind", "code_hint", "issuer_name", "holder", "valid_from", "valid_to")
    list_filter = ("kind", "issuer_kind")
    exclude = ("code_hash",)

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
