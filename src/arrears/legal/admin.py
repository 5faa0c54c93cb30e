from django.contrib import admin

from arrears.legal.models import LawFirm, LegalLetter


@admin.register(LawFirm)
class LawFirmAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name", "name_zh", "licence_number", "active")


@admin.register(LegalLetter)
class LegalLetterAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: letters are issued and withdrawn through ``legal.services`` only."""

    list_display = ("reference", "case", "firm", "template", "letter_date", "status", "channel")
    list_filter = ("status", "template", "channel")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
