"""Field visits (上门催收): the agents who go, the visit's workflow, its authorisation letters.

A visit moves requested → approved (or rejected) → assigned → authorised → scheduled →
in_progress (checked in) → reported → closed, or is cancelled from any open state with a
reason. Every move is a ``CaseEvent`` on the case (kind ``visit``), keyed so a repeated call
records nothing twice. Only one visit per case is open at a time (a partial unique index).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy

from arrears.ledger.masking import mask_national_id, mask_phone


class FieldAgent(models.Model):
    """A person who may go on visits: a ROLE, held by a user with an active profile.

    ``id_number`` is stored in full (the authorisation letter is checked against the agent's
    ID card at the door) but shown masked everywhere (``masked_id``). ``employer`` is
    ``lender`` or an agency's name, and ``agency`` the agency record when an agency employs them.
    """

    LENDER = "lender"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="field_agent"
    )
    full_name = models.CharField(max_length=80)
    id_number = models.CharField(max_length=32, help_text="stored in full, shown masked")
    phone = models.CharField(max_length=20, blank=True, default="")
    employer = models.CharField(max_length=120, default=LENDER, help_text="'lender' or an agency")
    agency = models.ForeignKey(
        "agencies.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="field_agents",
        help_text="the agency employing the agent (empty: the lender's own field team)",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ("full_name", "id")
        verbose_name = gettext_lazy("field agent")
        verbose_name_plural = gettext_lazy("field agents")

    def __str__(self) -> str:
        return f"{self.full_name} ({self.masked_id})"

    @property
    def masked_id(self) -> str:
        return mask_national_id(self.id_number)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone) if self.phone else ""

    @staticmethod
    def of(user: object) -> FieldAgent | None:
        """The user's active field-agent profile, or ``None``."""
        try:
            agent = user.field_agent  # type: ignore[attr-defined]
        except (FieldAgent.DoesNotExist, AttributeError):
            return None
        return agent if agent.active else None


class FieldVisit(models.Model):
    """One requested door visit and everything that happened to it."""

    class Status(models.TextChoices):
        REQUESTED = "requested", gettext_lazy("Requested")
        APPROVED = "approved", gettext_lazy("Approved")
        REJECTED = "rejected", gettext_lazy("Rejected")
        ASSIGNED = "assigned", gettext_lazy("Assigned")
        AUTHORISED = "authorised", gettext_lazy("Authorised")
        SCHEDULED = "scheduled", gettext_lazy("Scheduled")
        IN_PROGRESS = "in_progress", gettext_lazy("In progress")
        REPORTED = "reported", gettext_lazy("Reported")
        CLOSED = "closed", gettext_lazy("Closed")
        CANCELLED = "cancelled", gettext_lazy("Cancelled")

    class Outcome(models.TextChoices):
        MET = "met_borrower", gettext_lazy("Met the borrower")
        NOT_HOME = "not_home", gettext_lazy("Nobody at home")
        REFUSED = "refused", gettext_lazy("Refused to pay")
        PROMISE = "promise", gettext_lazy("Promise to pay")
        PLAN = "plan", gettext_lazy("Agreed to discuss a repayment plan")
        ADDRESS_WRONG = "address_wrong", gettext_lazy("Wrong address")
        THIRD_PARTY = "third_party", gettext_lazy("Met someone else")

    case = models.ForeignKey("collections.Case", on_delete=models.PROTECT, related_name="visits")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REQUESTED)
    reason = models.TextField(help_text="why the collector asks for a visit")
    eligibility = models.JSONField(default=dict, help_text="the check at request time")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, default="")
    agents = models.ManyToManyField(FieldAgent, blank=True, related_name="visits")
    appointment_at = models.DateTimeField(null=True, blank=True)
    place = models.CharField(max_length=300, blank=True, default="")
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.ForeignKey(
        FieldAgent, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    check_in_lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    check_in_lon = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)
    check_out_lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    check_out_lon = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True, default="")
    notes = models.TextField(blank=True, default="")
    evidence = models.JSONField(default=list, blank=True, help_text="file names or URIs")
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField(null=True, blank=True)
    contact = models.ForeignKey(
        "collections.ContactAttempt",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    promise = models.ForeignKey(
        "collections.Promise", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True, default="")

    OPEN = (
        Status.REQUESTED,
        Status.APPROVED,
        Status.ASSIGNED,
        Status.AUTHORISED,
        Status.SCHEDULED,
        Status.IN_PROGRESS,
        Status.REPORTED,
    )

    class Meta:
        ordering = ("-requested_at", "-id")
        constraints = (
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(
                    status__in=[
                        "requested",
                        "approved",
                        "assigned",
                        "authorised",
                        "scheduled",
                        "in_progress",
                        "reported",
                    ]
                ),
                name="fieldvisit_one_open_per_case",
            ),
        )

    def __str__(self) -> str:
        return f"visit {self.pk} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    def authorisation(self) -> VisitAuthorisation | None:
        """The latest authorisation letter (revoked or not)."""
        return self.authorisations.order_by("-issued_at", "-id").first()


class VisitAuthorisation(models.Model):
    """An authorisation letter (授权书): the PDF, its checksum and the verification credential.

    ``credential_id`` is the ``verification.Credential`` behind the printed code (a plain id
    until the lead wires the foreign key). The validity and revocation are mirrored here so a
    check-in never depends on a page view of the public verifier.
    """

    visit = models.ForeignKey(FieldVisit, on_delete=models.CASCADE, related_name="authorisations")
    credential_id = models.PositiveIntegerField(null=True, blank=True)
    code_hint = models.CharField(max_length=4, blank=True, default="")
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField()
    pdf_path = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=400, blank=True, default="")

    class Meta:
        ordering = ("-issued_at", "-id")
        constraints = (
            models.CheckConstraint(
                condition=Q(valid_to__gt=models.F("valid_from")), name="visitauth_valid_window"
            ),
        )

    def __str__(self) -> str:
        return f"authorisation {self.pk} for visit {self.visit_id}"

    def valid_at(self, at: object) -> bool:
        """Unrevoked and inside its window at ``at``."""
        return self.revoked_at is None and self.valid_from <= at < self.valid_to  # type: ignore[operator]
