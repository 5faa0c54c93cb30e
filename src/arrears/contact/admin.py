"""Admin for the outbox: messages, the gate's decisions, contact preferences. Read-only — the
dispatcher writes messages and decisions; addresses are shown masked."""

from __future__ import annotations

from django.contrib import admin

from arrears.contact import models
from arrears.ledger.admin import ReadOnlyMixin


class DecisionInline(ReadOnlyMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = models.GateDecision
    fields = ("at", "outcome", "pack", "rules", "next_allowed")
    extra = 0


@admin.register(models.OutboxMessage)
class OutboxMessageAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("id", "channel", "template", "status", "masked_to", "not_before", "sent_at")
    list_filter = ("status", "channel", "template")
    search_fields = ("key", "provider_ref")
    exclude = ("to_address",)
    readonly_fields = ("masked_to",)
    inlines = (DecisionInline,)

    @admin.display(description="to")
    def masked_to(self, obj: models.OutboxMessage) -> str:
        return obj.masked_address


@admin.register(models.GateDecision)
class GateDecisionAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("at", "outcome", "pack", "message")
    list_filter = ("outcome", "pack")


@admin.register(models.ContactPreference)
class ContactPreferenceAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("borrower", "opt_outs", "cease", "not_at_work", "updated_at")
