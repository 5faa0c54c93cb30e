"""Admin for collections: teams, collectors (their roles) and approval limits are edited here;
cases, events, work items, promises, contacts, holds and strategy versions are written by
services and shown read-only (a strategy is published with ``arrears strategy publish``, which
validates it).

Teams, roles and limits are the controls themselves, so segregation of duties applies: someone
who holds a collections role (a collector, team lead or manager: the people limits bind) may
view them but never change them — nobody raises their own limit or role. A superuser may, and
so may a staff user given the model permissions (Admin → Groups) who holds no collections role.
Every change is in Django's admin history (who, when, what). A new user's collections role is
set on the user's own page (the *Collector profile* section) or under Collectors.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from arrears.collections import models
from arrears.ledger.admin import ReadOnlyMixin


def _outside_the_chain(request: HttpRequest) -> bool:
    """A superuser, or someone without a collections role (limits do not bind them)."""
    user = request.user
    return bool(user.is_superuser) or not models.Collector.role_of(user)


class ControlAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Add, change and delete only for those outside the approval chain (see the module)."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return _outside_the_chain(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _outside_the_chain(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _outside_the_chain(request) and super().has_delete_permission(request, obj)


@admin.register(models.Team)
class TeamAdmin(ControlAdmin):
    list_display = ("code", "name", "owner", "monthly_target_minor", "target_currency")


@admin.register(models.Collector)
class CollectorAdmin(ControlAdmin):
    list_display = ("user", "team", "role", "capacity", "available")
    list_filter = ("team", "role", "available")
    list_editable = ("capacity", "available")
    search_fields = ("user__username",)


@admin.register(models.ApprovalLimit)
class ApprovalLimitAdmin(ControlAdmin):
    list_display = ("kind", "role", "approve_up_to")
    list_editable = ("approve_up_to",)
    list_filter = ("kind", "role")


class CollectorInline(admin.StackedInline):  # type: ignore[type-arg]
    """The user's collections profile (team, role), on the user's own admin page."""

    model = models.Collector
    can_delete = False
    extra = 0
    max_num = 1
    verbose_name = "Collector profile"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _outside_the_chain(request) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _outside_the_chain(request) and super().has_change_permission(request, obj)


_User = get_user_model()
if admin.site.is_registered(_User):
    admin.site.unregister(_User)


@admin.register(_User)
class CollectionsUserAdmin(UserAdmin):  # type: ignore[type-arg]
    """Django's user admin with the collector profile inline."""

    inlines = (*UserAdmin.inlines, CollectorInline)
    list_display = (*UserAdmin.list_display, "collections_role")

    @admin.display(description="collections role")
    def collections_role(self, user: Any) -> str:
        return models.Collector.role_of(user)


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
