"""A complaint or dispute (投诉 / 异议) with its SLA clock, the hold it put on and its resolution.

The links (contacts, collectors, agencies) are what the complaint is *about*; the scorecards
count complaints through them (``complaints.rates``, ``agencies.scorecard``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy

#: The longest description a complaint may carry (hostile sizes are refused, not truncated).
DESCRIPTION_MAX = 4000
#: The longest resolution text.
RESOLUTION_MAX = 4000


class Complaint(models.Model):
    """One complaint or dispute a borrower raised, by any channel."""

    class Kind(models.TextChoices):
        COMPLAINT = "complaint", gettext_lazy("Complaint")
        DISPUTE = "dispute", gettext_lazy("Dispute")

    class Category(models.TextChoices):
        NOT_MY_DEBT = "not_my_debt", gettext_lazy("Not my debt")
        WRONG_AMOUNT = "wrong_amount", gettext_lazy("Wrong amount")
        HARASSMENT = "harassment", gettext_lazy("Harassment")
        FAKE_COLLECTOR = "fake_collector", gettext_lazy("Fake collector")
        PRIVACY = "privacy", gettext_lazy("Privacy")
        CONTACT_TIME = "contact_time", gettext_lazy("Contact at a bad time")
        THIRD_PARTY_CONTACT = "third_party_contact", gettext_lazy("Third parties contacted")
        OTHER = "other", gettext_lazy("Other")

    class Channel(models.TextChoices):
        PORTAL = "portal", gettext_lazy("Portal")
        PHONE = "phone", gettext_lazy("Phone")
        LETTER = "letter", gettext_lazy("Letter")
        REGULATOR = "regulator", gettext_lazy("Regulator")
        EMAIL = "email", gettext_lazy("Email")
        IN_PERSON = "in_person", gettext_lazy("In person")
        COLLECTOR = "collector", gettext_lazy("Raised to a collector")

    class Status(models.TextChoices):
        RECEIVED = "received", gettext_lazy("Received")
        ACKNOWLEDGED = "acknowledged", gettext_lazy("Acknowledged")
        RESOLVED = "resolved", gettext_lazy("Resolved")

    class RootCause(models.TextChoices):
        COLLECTOR_CONDUCT = "collector_conduct", gettext_lazy("Collector conduct")
        AGENCY_CONDUCT = "agency_conduct", gettext_lazy("Agency conduct")
        SYSTEM_ERROR = "system_error", gettext_lazy("System error")
        AMOUNT_ERROR = "amount_error", gettext_lazy("Amount error")
        IDENTITY_FRAUD = "identity_fraud", gettext_lazy("Identity fraud")
        NO_FAULT = "no_fault", gettext_lazy("No fault found")
        OTHER = "other", gettext_lazy("Other")

    reference = models.CharField(max_length=20, unique=True, help_text="CP-YYYYMMDD-NNNN")
    borrower = models.ForeignKey(
        "ledger.Borrower", on_delete=models.PROTECT, related_name="complaints"
    )
    case = models.ForeignKey(
        "collections.Case",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    category = models.CharField(max_length=20, choices=Category.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    description = models.TextField(max_length=DESCRIPTION_MAX)
    received_at = models.DateTimeField()
    acknowledge_by = models.DateField()
    resolve_by = models.DateField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED)
    root_cause = models.CharField(max_length=20, choices=RootCause.choices, blank=True, default="")
    resolution = models.TextField(blank=True, default="", max_length=RESOLUTION_MAX)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    upheld = models.BooleanField(null=True, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    contacts = models.ManyToManyField(
        "collections.ContactAttempt", blank=True, related_name="complaints"
    )
    collectors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="complaints_about"
    )
    agencies = models.ManyToManyField("agencies.Agency", blank=True, related_name="complaints")
    hold = models.ForeignKey(
        "collections.Hold", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    #: When the row was recorded (``received_at`` is when the borrower complained, and may be
    #: back-dated); empty on a row from before this column that the audit chain gave no
    #: instant for (``reports.history`` then reads it by its own time).
    created_at = models.DateTimeField(auto_now_add=True, null=True, blank=True)

    class Meta:
        ordering = ("-received_at", "-id")

    def __str__(self) -> str:
        return f"{self.reference} {self.kind} {self.category} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.RESOLVED
