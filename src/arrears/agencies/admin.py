"""The agency register in the admin: agencies with their commission tiers and members inline;
placements to read (they are made and recalled by the day step and by ``placement.recall``,
never edited by hand); quality reviews."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from arrears.agencies.models import Agency, AgencyMember, CommissionTier, Placement, QualityReview


class CommissionTierInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CommissionTier
    extra = 0


class AgencyMemberInline(admin.TabularInline):  # type: ignore[type-arg]
    model = AgencyMember
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "code",
        "name",
        "licence_number",
        "licence_valid_to",
        "contract_starts",
        "contract_ends",
        "capacity",
        "weight",
        "active",
    )
    list_filter = ("active",)
    search_fields = ("code", "name", "name_zh", "licence_number")
    inlines = (CommissionTierInline, AgencyMemberInline)


@admin.register(Placement)
class PlacementAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "id",
        "agency",
        "case",
        "bucket",
        "placed_on",
        "ends_on",
        "recalled_on",
        "recall_reason",
        "method",
        "arm",
    )
    list_filter = ("agency", "recall_reason", "method")
    date_hierarchy = "placed_on"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(QualityReview)
class QualityReviewAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("placement", "reviewer", "reviewed_on", "score")
    list_filter = ("reviewed_on",)
    raw_id_fields = ("placement", "contact", "reviewer")
