"""Law firms and the lawyer's letters (律师函) they issue on the lender's behalf.

A letter is a record, not a message: the amounts by component *as of its letter date* (the same
figures ``arrears explain`` shows for that date), the contracts, the issuing firm, the
verification credential and the SHA-256 of the PDF that was printed or e-mailed. The message
that carried it (``contact.OutboxMessage``) went through the gate like any other.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy


class LawFirm(models.Model):
    """A law firm the lender has instructed to write to borrowers."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    name_zh = models.CharField(max_length=200, blank=True, default="")
    licence_number = models.CharField(
        max_length=80, help_text="practice licence / registration number (执业许可证号)"
    )
    address = models.CharField(max_length=300)
    phone = models.CharField(max_length=40)
    active = models.BooleanField(default=True, help_text="off: issues no new letters")

    class Meta:
        ordering = ("code",)

    def __str__(self) -> str:
        return self.name

    def display_name(self, locale: str) -> str:
        """The firm's name as a letter in ``locale`` prints it."""
        if locale.lower().startswith("zh") and self.name_zh:
            return self.name_zh
        return self.name


class LegalLetter(models.Model):
    """One letter to one case's borrower, on one date, from one template."""

    class Template(models.TextChoices):
        LAWYER_LETTER = "lawyer_letter", gettext_lazy("Lawyer's letter")
        LEGAL_NOTICE = "legal_notice", gettext_lazy("Legal notice")

    class Status(models.TextChoices):
        ISSUED = "issued", gettext_lazy("Issued")
        WITHDRAWN = "withdrawn", gettext_lazy("Withdrawn")

    case = models.ForeignKey(
        "collections.Case", on_delete=models.PROTECT, related_name="legal_letters"
    )
    firm = models.ForeignKey(LawFirm, on_delete=models.PROTECT, related_name="letters")
    template = models.CharField(max_length=20, choices=Template.choices)
    letter_date = models.DateField(help_text="the amounts are as of the end of this day")
    locale = models.CharField(max_length=10)
    reference = models.CharField(max_length=40, unique=True)
    currency = models.CharField(max_length=3)
    principal_overdue_minor = models.BigIntegerField()
    interest_minor = models.BigIntegerField()
    penalty_minor = models.BigIntegerField()
    compound_minor = models.BigIntegerField()
    fees_minor = models.BigIntegerField(default=0)
    total_minor = models.BigIntegerField()
    loans = models.JSONField(
        default=list, help_text="per contract: ref and the same components, minor units"
    )
    credential = models.OneToOneField(
        "verification.Credential", on_delete=models.PROTECT, related_name="legal_letter"
    )
    pdf_path = models.CharField(max_length=500)
    pdf_sha256 = models.CharField(max_length=64)
    message = models.OneToOneField(
        "contact.OutboxMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="legal_letter",
    )
    channel = models.CharField(max_length=10, help_text="letter (post) or email")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ISSUED)
    issued_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_reason = models.CharField(max_length=400, blank=True, default="")

    class Meta:
        ordering = ("-letter_date", "-id")
        constraints = (
            models.UniqueConstraint(
                fields=["case", "template", "letter_date"], name="legal_letter_once_a_day"
            ),
        )

    def __str__(self) -> str:
        return f"{self.reference} ({self.template}, {self.status})"

    @property
    def contract_refs(self) -> list[str]:
        return [str(row["ref"]) for row in self.loans]
