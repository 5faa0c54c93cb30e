"""Integrations, their keys, the idempotency record of their writes, and the rate-limit windows.

An :class:`Integration` is one system of the lender (the core banking system, a payment
gateway) with its own keys (:class:`IntegrationToken`, stored as SHA-256, scoped). Writes that
an integration may retry carry its reference; :class:`IdempotentRequest` keeps, per integration
and kind, the reference, the digest of the request and the response first given, under a
unique constraint, so a retry — even one racing the first attempt — is answered from the record
and never applied twice. :class:`RateWindow` counts a key's requests per fixed minute in the
database, so the limit holds across every server process.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Integration(models.Model):
    """A system of the lender that uses the API (named by whoever creates its keys)."""

    name = models.CharField(max_length=80, unique=True)
    active = models.BooleanField(default=True, help_text="off: every key of it is refused")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="the service account its writes are recorded under",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class IntegrationToken(models.Model):
    """One API key of an integration: shown once, kept as its SHA-256 and last four chars."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    key_hint = models.CharField(max_length=4)
    scopes = models.JSONField(default=list)
    rate_limit = models.PositiveIntegerField(default=600, help_text="requests per minute")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.integration.name} …{self.key_hint}"


class IdempotentRequest(models.Model):
    """The first answer to an integration's write under its reference (replayed on retry)."""

    integration = models.ForeignKey(Integration, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, help_text="payment, reversal, loan")
    reference = models.CharField(max_length=64)
    digest = models.CharField(max_length=64, help_text="SHA-256 of the canonical request")
    status = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=("integration", "kind", "reference"), name="api_idempotent_ref"
            ),
        )

    def __str__(self) -> str:
        return f"{self.kind} {self.reference} ({self.status})"


class RateWindow(models.Model):
    """How many requests a key made in one fixed minute (``window`` = epoch minute)."""

    token = models.ForeignKey(IntegrationToken, on_delete=models.CASCADE, related_name="+")
    window = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = (models.UniqueConstraint(fields=("token", "window"), name="api_rate_window"),)

    def __str__(self) -> str:
        return f"{self.token_id}@{self.window}: {self.count}"
