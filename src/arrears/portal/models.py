"""What the portal keeps: one row per one-time code asked for, one row per sign-in event.

The code itself is never stored, only an HMAC of it under the project's secret key and a
per-challenge salt, so neither a copy of the database nor the outbox record (which keeps the
message with the code blanked) lets anyone sign in. Rate limits and the lockout are counted
from these rows, in the database, so they hold across every web process.
"""

from __future__ import annotations

from django.db import models


class SignInChallenge(models.Model):
    """A one-time code sent (or, for a loan number we do not know, pretended to be sent: the
    page must not tell a stranger which loan numbers exist) for one loan number."""

    class Status(models.TextChoices):
        SENT = "sent"
        NOT_SENT = "not_sent"  # the gate or the channel did not send it
        USED = "used"
        EXHAUSTED = "exhausted"  # too many wrong tries

    typed_ref = models.CharField(max_length=64, help_text="the loan number as typed (normalised)")
    loan = models.ForeignKey(
        "ledger.Loan", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    salt = models.CharField(max_length=32, unique=True)
    code_hmac = models.CharField(max_length=64)
    client = models.CharField(max_length=64, help_text="hash of the client address")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    tries = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENT)
    message = models.ForeignKey(
        "contact.OutboxMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = (
            models.Index(fields=["typed_ref", "created_at"], name="portal_challenge_ref"),
            models.Index(fields=["client", "created_at"], name="portal_challenge_client"),
        )

    def __str__(self) -> str:
        return f"sign-in code for {self.typed_ref} ({self.status})"


class SignInEvent(models.Model):
    """One thing that happened at the portal's door: a code asked for, a wrong code, a
    sign-in, a lockout, a refusal by a rate limit. Kept for the borrower's history and for
    disputes ("someone tried to get into my account")."""

    class Kind(models.TextChoices):
        CODE_SENT = "code_sent"
        CODE_WRONG = "code_wrong"
        SIGNED_IN = "signed_in"
        SIGNED_OUT = "signed_out"
        LOCKED = "locked"
        LIMITED = "limited"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    typed_ref = models.CharField(max_length=64)
    loan = models.ForeignKey(
        "ledger.Loan", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    client = models.CharField(max_length=64)
    at = models.DateTimeField()
    detail = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ("at", "id")
        indexes = (
            models.Index(fields=["typed_ref", "kind", "at"], name="portal_event_ref"),
            models.Index(fields=["client", "kind", "at"], name="portal_event_client"),
        )

    def __str__(self) -> str:
        return f"{self.kind} {self.typed_ref} {self.at:%Y-%m-%d %H:%M}"


class ApiToken(models.Model):
    """A bearer token the mobile app holds after signing in (``/api/v1/my/``): the same
    borrower, the same lifetime as a web session; only its SHA-256 is stored."""

    digest = models.CharField(max_length=64, unique=True)
    borrower = models.ForeignKey("ledger.Borrower", on_delete=models.CASCADE, related_name="+")
    loan = models.ForeignKey("ledger.Loan", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"portal token of borrower {self.borrower_id}"
