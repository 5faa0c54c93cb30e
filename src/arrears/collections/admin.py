"""Admin for collections: teams, collectors and approval limits are edited here; cases, events,
work items, promises, contacts and strategy versions are written by services and shown
read-only (a strategy is published with ``arrears strategy publish``, which validates it)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from arrears.collections import models
from arrears.ledger.admin import ReadOnlyMixin


@admin.register(models.Team)
class TeamAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name", "owner")


@admin.register(models.Collector)
class CollectorAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "team", "role", "capacity", "available")
    list_filter = ("team", "role", "available")
    list_editable = ("capacity", "available")


@admin.register(models.ApprovalLimit)
class ApprovalLimitAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("kind", "role", "self_up_to", "approve_up_to")
    list_editable = ("self_up_to", "approve_up_to")


@admin.register(models.StrategyVersion)
class StrategyVersionAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "version", "active", "published_at", "published_by", "note")
    readonly_fields = ("name", "version", "active", "sha256", "source", "published_at", "note")


class EventInline(ReadOnlyMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = models.CaseEvent
    fields = ("on", "kind", "from_value", "to_value", "cause", "strategy", "actor")
    extra = 0


@admin.register(models.Case)
class CaseAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "id",
        "borrower",
        "status",
        "stage",
        "dpd",
        "bucket",
        "total_due_minor",
        "collector",
        "priority",
    )
    list_filter = ("status", "stage", "bucket", "variant")
    search_fields = ("borrower__ref",)
    inlines = (EventInline,)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_staff)


@admin.register(models.WorkItem)
class WorkItemAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("due_on", "channel", "template", "stage", "status", "collector", "strategy")
    list_filter = ("status", "channel", "stage", "strategy", "due_on")
    search_fields = ("key",)


@admin.register(models.Promise)
class PromiseAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("case", "amount_minor", "made_on", "due_date", "status", "paid_minor")
    list_filter = ("status",)


@admin.register(models.ContactAttempt)
class ContactAttemptAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "at", "case", "channel", "direction", "party", "outcome", "collector", "gate_outcome",
        "overridden",
    )  # fmt: skip
    # "overridden": the contacts logged although the compliance gate said no (for compliance)
    list_filter = ("overridden", "gate_outcome", "channel", "outcome", "party")
    exclude = ("phone",)  # the number shows masked on the case page, never here


@admin.register(models.Hold)
class HoldAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("borrower", "loan", "reason", "starts_on", "ends_on", "released_on")
    list_filter = ("reason",)
