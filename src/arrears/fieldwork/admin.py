"""Field agents are registered and deactivated in the admin; visits are read-only there (the
workflow's services are the only way a visit moves)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from arrears.fieldwork.models import FieldAgent, FieldVisit, VisitAuthorisation
from arrears.fieldwork.validators import clean_id_number


class FieldAgentForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = FieldAgent
        fields = ("user", "full_name", "id_number", "phone", "employer", "agency", "active")

    def clean_id_number(self) -> str:
        return clean_id_number(self.cleaned_data["id_number"])


@admin.register(FieldAgent)
class FieldAgentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = FieldAgentForm
    list_display = ("full_name", "masked_id", "masked_phone", "employer", "active")
    list_filter = ("active", "employer")
    search_fields = ("full_name", "user__username")


@admin.register(FieldVisit)
class FieldVisitAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("pk", "case", "status", "requested_by", "appointment_at")
    list_filter = ("status",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(VisitAuthorisation)
class VisitAuthorisationAdmin(FieldVisitAdmin):
    list_display = ("pk", "visit", "code_hint", "valid_from", "valid_to", "revoked_at")
    list_filter = ()
