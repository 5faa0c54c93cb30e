"""Versioned message templates: drafts, one active version per (code, locale, channel), retired.

A version that has been active is a record of what borrowers were sent, so its text never
changes: a change is a new draft with the next version number, activated in its turn (which
retires the previous one). The database enforces both rules that matter — version numbers are
unique per (code, locale, channel), and at most one version is active (a partial unique index) —
so two people activating at once cannot leave two active texts.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from arrears.notices import context as ctx
from arrears.notices.render import Template


class MessageTemplate(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        ACTIVE = "active", "active"
        RETIRED = "retired", "retired"

    code = models.CharField(max_length=80, help_text="template id, as the strategy names it")
    locale = models.CharField(max_length=10, choices=[(lo, lo) for lo in ctx.LOCALES])
    channel = models.CharField(max_length=12, choices=[(c, c) for c in ctx.CHANNELS])
    version = models.PositiveIntegerField()
    subject = models.CharField(
        max_length=200, blank=True, default="", help_text="email and letter title; empty for SMS"
    )
    body = models.TextField(help_text="${variable} inserts a value; $$ is a dollar sign")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="empty for the shipped catalogue",
    )
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("code", "locale", "channel", "-version")
        constraints = [
            models.UniqueConstraint(
                fields=("code", "locale", "channel", "version"),
                name="notices_template_version_unique",
            ),
            models.UniqueConstraint(
                fields=("code", "locale", "channel"),
                condition=Q(status="active"),
                name="notices_one_active_template",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.locale}/{self.channel} v{self.version} ({self.status})"

    def as_template(self) -> Template:
        """The row as a plain value for the pure renderer and checker."""
        return Template(self.code, self.locale, self.channel, self.subject, self.body)
