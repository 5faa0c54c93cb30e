"""Admin for the ledger. Lists never show a full national ID or phone number (masked); loans,
instalments, payments and import batches are read-only here because they are written only by
services and imports (a schedule is built by the kernel, a payment is reversed, never edited).
A product version that a loan uses cannot be edited: "Save as new" makes the next version.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html, format_html_join

from arrears.kernel.errors import ArrearsError
from arrears.kernel.money import Money
from arrears.ledger import models


def _major(minor: int | None, currency: str) -> str:
    return "" if minor is None else str(Money(minor, currency).amount)


class ReadOnlyMixin:
    """View-only: rows of this model are written by services and imports, never by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- products -------------------------------------------------------------------------------


def in_use_message(product: models.Product, count: int) -> str:
    return (
        f"Product {product.code} v{product.version} is used by {count} loan(s) and cannot be "
        "edited. Change the version number and use “Save as new” to create a new version."
    )


class ProductForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = models.Product
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        instance = self.instance
        if instance.pk is not None:
            count = models.Loan.objects.filter(product_id=instance.pk).count()
            if count:
                raise forms.ValidationError(in_use_message(instance, count), code="in-use")
        return data


@admin.register(models.Product)
class ProductAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = ProductForm
    save_as = True
    list_display = (
        "code",
        "version",
        "name",
        "effective_from",
        "penalty_multiplier",
        "grace_days",
        "day_count",
        "calendar",
        "loan_count",
    )
    list_filter = ("code", "day_count", "calendar")
    search_fields = ("code", "name")
    readonly_fields = ("created_at",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[models.Product]:
        return super().get_queryset(request).annotate(_loan_count=Count("loans"))

    @admin.display(description="loans", ordering="_loan_count")
    def loan_count(self, obj: models.Product) -> int:
        return int(getattr(obj, "_loan_count", 0))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method == "GET":
            product = self.get_object(request, object_id)
            if product is not None:
                count = product.loans.count()
                if count:
                    self.message_user(request, in_use_message(product, count), messages.WARNING)
        return super().change_view(request, object_id, form_url, extra_context)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.in_use:
            return False
        return super().has_delete_permission(request, obj)


# --- borrowers and phones -------------------------------------------------------------------


class PhoneInline(admin.TabularInline):  # type: ignore[type-arg]
    """On the borrower's own page the full numbers are shown (whoever edits needs them)."""

    model = models.Phone
    extra = 0
    fields = ("number", "kind", "source", "is_valid", "created_at")
    readonly_fields = ("created_at",)


@admin.register(models.Borrower)
class BorrowerAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("ref", "name", "masked_id", "id_type", "time_zone", "locale", "created_at")
    list_filter = ("id_type", "locale")
    search_fields = ("ref", "name")
    readonly_fields = ("created_at",)
    inlines = (PhoneInline,)

    @admin.display(description="national ID")
    def masked_id(self, obj: models.Borrower) -> str:
        return obj.masked_national_id


@admin.register(models.Phone)
class PhoneAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("masked", "borrower", "kind", "source", "is_valid", "created_at")
    list_filter = ("kind", "source", "is_valid")
    list_select_related = ("borrower",)
    search_fields = ("borrower__ref",)
    autocomplete_fields = ("borrower",)
    readonly_fields = ("created_at",)

    @admin.display(description="number")
    def masked(self, obj: models.Phone) -> str:
        return obj.masked_number


# --- loans (with their schedules), payments ----------------------------------------------------


class PaymentInline(ReadOnlyMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = models.Payment
    extra = 0
    can_delete = False
    fields = ("ref", "value_date", "amount", "currency", "reversed_on", "reversal_ref", "source")
    readonly_fields = fields

    @admin.display(description="amount")
    def amount(self, obj: models.Payment) -> str:
        return _major(obj.amount_minor, obj.currency)


@admin.register(models.Loan)
class LoanAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "ref",
        "borrower",
        "product",
        "currency",
        "principal",
        "rate_value",
        "rate_basis",
        "term",
        "method",
        "start_date",
    )
    list_filter = ("currency", "method", "product")
    list_select_related = ("borrower", "product")
    search_fields = ("ref", "borrower__ref")
    date_hierarchy = "start_date"
    inlines = (PaymentInline,)
    exclude = ("schedule",)
    readonly_fields = ("instalment_table",)

    @admin.display(description="schedule")
    def instalment_table(self, obj: models.Loan) -> str:
        """The stored schedule as a table (it is one text value of the loan's row)."""
        try:
            rows = obj.instalments
        except ArrearsError as error:
            return str(error)
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} – {}</td></tr>",
            (
                (i.seq, i.due_date, _major(i.principal, obj.currency),
                 _major(i.interest, obj.currency), i.period_start, i.period_end)
                for i in rows
            ),
        )  # fmt: skip
        return format_html(
            "<table><tr><th>#</th><th>due</th><th>principal</th><th>interest</th>"
            "<th>accrual period</th></tr>{}</table>",
            body,
        )

    @admin.display(description="principal", ordering="principal_minor")
    def principal(self, obj: models.Loan) -> str:
        return _major(obj.principal_minor, obj.currency)


@admin.register(models.Payment)
class PaymentAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "ref",
        "loan",
        "value_date",
        "amount",
        "currency",
        "reversed_on",
        "reversal_ref",
        "source",
    )
    list_filter = ("currency",)
    list_select_related = ("loan",)
    search_fields = ("ref", "loan__ref", "reversal_ref")
    date_hierarchy = "value_date"

    @admin.display(description="amount", ordering="amount_minor")
    def amount(self, obj: models.Payment) -> str:
        return _major(obj.amount_minor, obj.currency)


@admin.register(models.ImportBatch)
class ImportBatchAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "created_at",
        "kind",
        "file_name",
        "row_count",
        "applied_count",
        "skipped_count",
        "sha256",
    )
    list_filter = ("kind",)
    search_fields = ("file_name", "sha256")


# --- concessions ----------------------------------------------------------------------------


@admin.register(models.Waiver)
class WaiverAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Waivers are requested, approved and reversed through the collections services (limits
    and maker-checker apply there), so here they are shown, never edited."""

    list_display = ("ref", "loan", "component", "amount_minor", "effective_on", "status")
    list_filter = ("status", "component", "reason")
    search_fields = ("ref", "loan__ref")


class PlanInstalmentInline(ReadOnlyMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = models.PlanInstalment
    extra = 0


@admin.register(models.RepaymentPlan)
class RepaymentPlanAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("ref", "loan", "effective_on", "status", "concession_minor", "waive_rest")
    list_filter = ("status", "waive_rest")
    search_fields = ("ref", "loan__ref")
    inlines = (PlanInstalmentInline,)
