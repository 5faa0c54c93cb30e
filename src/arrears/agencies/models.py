"""External collection agencies (委外催收机构), their people, their placements and their data
exchanges.

An agency works only the cases *placed* with it, for the term of the placement, through the
same contact log, gate and outbox as the internal team; what it is owed is computed from the
ledger, never from what it reports.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy


class Agency(models.Model):
    """A licensed collection agency under contract with the lender."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    name_zh = models.CharField(max_length=200, blank=True, default="")
    licence_number = models.CharField(max_length=80)
    licence_valid_to = models.DateField(help_text="no placement after the licence lapses")
    contract_starts = models.DateField()
    contract_ends = models.DateField(help_text="no placement outside the contract")
    phone = models.CharField(
        max_length=40, help_text="the number borrowers are told the agency calls from"
    )
    active = models.BooleanField(default=True, help_text="off: no new placements")
    capacity = models.PositiveIntegerField(default=1000, help_text="most cases placed at once")
    weight = models.PositiveSmallIntegerField(
        default=1, help_text="share in weighted allocation (before the performance factor)"
    )
    permitted_channels = models.JSONField(
        default=list,
        blank=True,
        help_text="contact channels the agency may use: call, sms, email, letter, visit",
    )
    permitted_parties = models.JSONField(
        default=list,
        blank=True,
        help_text="who the agency may contact besides the borrower: co_borrower, emergency",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("code",)
        verbose_name_plural = "agencies"
        constraints = (
            models.CheckConstraint(
                condition=Q(contract_ends__gte=models.F("contract_starts")),
                name="agency_contract_dates",
            ),
        )

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class CommissionTier(models.Model):
    """One marginal band of an agency's commission: ``rate_bp`` basis points (1/100 of a percent)
    of the part of a placement's recovered amount above ``above_minor``, for placements made in
    ``bucket`` ('' = any bucket without its own tiers)."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="tiers")
    bucket = models.CharField(max_length=16, blank=True, default="")
    above_minor = models.BigIntegerField(default=0)
    rate_bp = models.PositiveIntegerField(help_text="1500 = 15.00%")

    class Meta:
        ordering = ("agency", "bucket", "above_minor")
        constraints = (
            models.UniqueConstraint(
                fields=("agency", "bucket", "above_minor"), name="commission_tier_band"
            ),
            models.CheckConstraint(condition=Q(rate_bp__lte=10000), name="commission_tier_rate"),
            models.CheckConstraint(condition=Q(above_minor__gte=0), name="commission_tier_floor"),
        )


class AgencyMember(models.Model):
    """A user who works for an agency (the *agency user* role): sees only the agency's cases
    currently placed with it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agency_member"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="members")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ("agency__code", "user__username")

    def __str__(self) -> str:
        return f"{self.user.get_username()} @ {self.agency.code}"


class Placement(models.Model):
    """A case entrusted to an agency for a term (委外期限). Ends by recall: at term end, on a
    complaint or dispute, on request, or when the case closes."""

    class RecallReason(models.TextChoices):
        TERM_END = "term_end", gettext_lazy("Placement term ended")
        COMPLAINT = "complaint", gettext_lazy("Complaint or dispute")
        REQUEST = "request", gettext_lazy("Recalled on request")
        CASE_CLOSED = "case_closed", gettext_lazy("Case resolved")
        STAGE_LEFT = "stage_left", gettext_lazy("Case left the agency stage")
        AGENCY_ENDED = "agency_ended", gettext_lazy("Agency contract or licence ended")

    key = models.CharField(max_length=120, unique=True, help_text="idempotency: case and day")
    case = models.ForeignKey(
        "collections.Case", on_delete=models.PROTECT, related_name="placements"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="placements")
    placed_on = models.DateField()
    ends_on = models.DateField(help_text="last day of the term")
    recalled_on = models.DateField(null=True, blank=True)
    recall_reason = models.CharField(
        max_length=16, choices=RecallReason.choices, blank=True, default=""
    )
    recalled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recall_note = models.CharField(max_length=400, blank=True, default="")
    bucket = models.CharField(max_length=16, help_text="the case's bucket when placed")
    dpd = models.PositiveIntegerField(default=0)
    total_due_minor = models.BigIntegerField(help_text="owed when placed")
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=24, help_text="allocation method that chose the agency")
    arm = models.CharField(max_length=40, blank=True, default="", help_text="champion/challenger")
    strategy = models.CharField(max_length=100, blank=True, default="")
    work_item = models.ForeignKey(
        "collections.WorkItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-placed_on", "-id")
        constraints = (
            models.UniqueConstraint(
                fields=("case",), condition=Q(recalled_on__isnull=True), name="one_live_placement"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("placed_on")), name="placement_term"
            ),
        )
        indexes = (models.Index(fields=["agency", "recalled_on"], name="placement_agency_live"),)

    def __str__(self) -> str:
        return f"case {self.case_id} → {self.agency.code} {self.placed_on}..{self.ends_on}"


class AgencyToken(models.Model):
    """An API key for one agency integration, stored hashed, with scopes."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=80)
    key_hash = models.CharField(max_length=64, unique=True)
    key_hint = models.CharField(max_length=4)
    scopes = models.JSONField(default=list, help_text="placements:read, results:write")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.agency.code}/{self.name} …{self.key_hint}"


class ResultBatch(models.Model):
    """One batch of results an agency sent (by API or file), applied all-or-nothing. The
    agency's own reference makes a resend a no-op; the same reference with different content is
    refused."""

    class Source(models.TextChoices):
        API = "api"
        FILE = "file"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="batches")
    reference = models.CharField(max_length=80)
    digest = models.CharField(max_length=64, help_text="SHA-256 of the canonical content")
    source = models.CharField(max_length=4, choices=Source.choices)
    rows = models.PositiveIntegerField()
    summary = models.JSONField(default=dict)
    received_at = models.DateTimeField()
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("agency", "reference"), name="result_batch_ref"),
        )


class QualityReview(models.Model):
    """A quality reviewer's finding on an agency's work (质检): a placement as a whole or one
    contact it logged, scored 0-100 with the finding written down. Scorecards count them."""

    placement = models.ForeignKey(Placement, on_delete=models.CASCADE, related_name="reviews")
    contact = models.ForeignKey(
        "collections.ContactAttempt",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="quality_reviews",
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_on = models.DateField()
    score = models.PositiveSmallIntegerField(help_text="0-100; below 60 is a failed review")
    finding = models.TextField(max_length=2000, blank=True, default="")

    class Meta:
        ordering = ("-reviewed_on", "-id")
        constraints = (
            models.CheckConstraint(condition=Q(score__lte=100), name="quality_review_score"),
        )

    def __str__(self) -> str:
        return f"review of placement {self.placement_id}: {self.score}"
