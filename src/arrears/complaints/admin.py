from django.contrib import admin

from arrears.complaints.models import Complaint


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    """Read-mostly: complaints are filed and resolved through the services (holds, messages)."""

    list_display = ("reference", "kind", "category", "status", "received_at", "resolve_by")
    list_filter = ("status", "kind", "category", "root_cause")
    search_fields = ("reference", "borrower__ref")
    raw_id_fields = ("borrower", "case", "hold", "contacts", "collectors", "agencies")
    readonly_fields = ("reference", "acknowledge_by", "resolve_by", "hold", "received_at")
