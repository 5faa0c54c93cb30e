"""A credential: the record behind a verification code printed on a document.

A borrower holding a lawyer's letter, a visitor's authorisation or a message can ask "is this
genuine?" with the code alone. The code itself is never stored — only its SHA-256 — so a copy of
the database cannot be used to forge a lookup, and a code is shown exactly once, to the document
that carries it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy


class Credential(models.Model):
    """What one verification code vouches for: a kind of document, who holds it, who issued
    it, what it authorises, and from when to when. Revoking it ends it at once."""

    class Kind(models.TextChoices):
        LAWYER_LETTER = "lawyer_letter", gettext_lazy("Lawyer's letter")
        VISIT_AUTHORISATION = "visit_authorisation", gettext_lazy("Field visit authorisation")
        AGENCY_NOTICE = "agency_notice", gettext_lazy("Agency placement notice")
        MESSAGE = "message", gettext_lazy("Message from the lender")

    class Issuer(models.TextChoices):
        LENDER = "lender", gettext_lazy("Lender")
        AGENCY = "agency", gettext_lazy("Collection agency")
        LAW_FIRM = "law_firm", gettext_lazy("Law firm")

    code_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the code")
    code_hint = models.CharField(max_length=4, help_text="last four characters, for staff")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    holder = models.CharField(
        max_length=200, help_text="who carries the document, as the document names them (masked)"
    )
    issuer_kind = models.CharField(max_length=10, choices=Issuer.choices)
    issuer_name = models.CharField(max_length=200)
    authorises_en = models.CharField(max_length=400)
    authorises_zh = models.CharField(max_length=400)
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField()
    case = models.ForeignKey(
        "collections.Case",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="credentials",
        help_text="internal link; never shown to someone who only holds the code",
    )
    document_ref = models.CharField(max_length=200, blank=True, default="")
    issued_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_reason = models.CharField(max_length=400, blank=True, default="")

    class Meta:
        ordering = ("-issued_at", "-id")
        constraints = (
            models.CheckConstraint(
                condition=models.Q(valid_to__gt=models.F("valid_from")),
                name="credential_valid_window",
            ),
        )

    def __str__(self) -> str:
        return f"{self.kind} …{self.code_hint} ({self.issuer_name})"
