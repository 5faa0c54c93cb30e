"""The outbox every message leaves through, and the record of every gate decision.

An ``OutboxMessage`` is created from a work item with a unique ``key`` — the contact's identity
(borrower, channel, template, day; see ``collections.workflow.contact_key``), so a second insert
of the same contact is a no-op whatever strategy version asked for it — rendered and gated *at
dispatch time* (so it states the residual as of the moment it is sent), and moves queued →
sending → sent → delivered, or to failed, suppressed (denied by the gate, or nothing is due any
more), expired (not sent while it was still worth sending: ``expires_at`` passed) or uncertain
(a dispatcher died after handing it to the provider; never re-sent automatically, so nobody is
contacted twice).
"""

from __future__ import annotations

from django.db import models

from arrears.ledger.masking import mask_address


class OutboxMessage(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        SENDING = "sending"
        SENT = "sent"
        DELIVERED = "delivered"
        FAILED = "failed"
        SUPPRESSED = "suppressed"
        EXPIRED = "expired"
        UNCERTAIN = "uncertain"

    key = models.CharField(max_length=220, unique=True)
    work_item = models.ForeignKey(
        "collections.WorkItem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    borrower = models.ForeignKey(
        "ledger.Borrower", on_delete=models.CASCADE, related_name="messages"
    )
    case = models.ForeignKey(
        "collections.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=10)
    template = models.CharField(max_length=80)
    locale = models.CharField(max_length=10)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    status_reason = models.TextField(blank=True, default="")
    not_before = models.DateTimeField(help_text="earliest send time (gate deferral, backoff)")
    due_on = models.DateField(
        null=True, blank=True, help_text="the business day the contact was asked for"
    )
    expires_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="not sent after this instant (ARREARS_MESSAGE_VALID_DAYS); empty: no limit",
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_owner = models.CharField(max_length=64, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    handed_at = models.DateTimeField(
        null=True, blank=True, help_text="when it was handed to the channel (crash forensics)"
    )
    to_address = models.CharField(max_length=400, blank=True, default="")
    subject = models.CharField(max_length=300, blank=True, default="")
    body = models.TextField(blank=True, default="")
    verification_code = models.CharField(
        max_length=24, blank=True, default="", help_text="as printed (a credential code: 19)"
    )
    amount_due_minor = models.BigIntegerField(null=True, blank=True)
    provider_ref = models.CharField(max_length=400, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("not_before", "id")
        indexes = (
            models.Index(fields=["status", "not_before"], name="outbox_status_due"),
            models.Index(fields=["borrower", "status"], name="outbox_borrower_status"),
            models.Index(fields=["provider_ref"], name="outbox_provider_ref"),
        )

    def __str__(self) -> str:
        return f"{self.channel}:{self.template} ({self.status})"

    @property
    def masked_address(self) -> str:
        """The address as lists and pages show it: enough to recognise, not to contact."""
        return mask_address(self.channel, self.to_address)


class GateDecision(models.Model):
    """One answer of the compliance gate, kept with the request it answered."""

    message = models.ForeignKey(
        OutboxMessage, null=True, blank=True, on_delete=models.CASCADE, related_name="decisions"
    )
    at = models.DateTimeField()
    outcome = models.CharField(max_length=6)  # allow | deny | defer
    pack = models.CharField(max_length=80)
    rules = models.JSONField(default=list, blank=True)
    next_allowed = models.DateTimeField(null=True, blank=True)
    request = models.JSONField(default=dict)
    #: When the row was recorded (``at`` is the instant asked about, a logged contact's own
    #: time); empty on a row from before this column that the audit chain gave no instant
    #: for (``reports.history`` then reads it by its own time).
    created_at = models.DateTimeField(auto_now_add=True, null=True, blank=True)

    class Meta:
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.outcome} ({self.pack})"


class ContactPreference(models.Model):
    """What the borrower asked of us: channels not to use, stop altogether, not at work, the
    hours and channel they prefer, and whether their emergency contacts may be called.

    The gate reads it for every message and call; it never widens what a hold or the pack
    forbids, only narrows it: a contact outside the preferred hours is deferred to the next
    preferred time, and with ``no_emergency_contacts`` nobody but the borrower (and a
    co-borrower) is contacted about the debt. Changes are kept (``history``) because a dispute
    may turn on when a request came.
    """

    borrower = models.OneToOneField(
        "ledger.Borrower", on_delete=models.CASCADE, related_name="contact_preference"
    )
    opt_outs = models.JSONField(default=list, blank=True, help_text="channels not to use")
    cease = models.BooleanField(default=False, help_text="asked us to stop contacting them")
    not_at_work = models.BooleanField(default=False, help_text="no contact at work")
    preferred_channel = models.CharField(
        max_length=10, blank=True, default="", help_text="the channel they would rather we use"
    )
    preferred_from = models.TimeField(
        null=True, blank=True, help_text="start of the preferred hours (their local time)"
    )
    preferred_until = models.TimeField(
        null=True, blank=True, help_text="end of the preferred hours (exclusive)"
    )
    no_emergency_contacts = models.BooleanField(
        default=False,
        help_text="revoked contact with their emergency contacts and other third parties",
    )
    history = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = (
            models.CheckConstraint(
                condition=models.Q(preferred_from__isnull=True, preferred_until__isnull=True)
                | models.Q(preferred_from__lt=models.F("preferred_until")),
                name="contact_preference_hours",
            ),
        )

    def __str__(self) -> str:
        return f"preferences of {self.borrower_id}"
