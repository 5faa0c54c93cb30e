"""The compliance officer's records: an index of the gate's decisions, review samples, reviews.

``GateLogEntry`` (and its ``GateLogRule`` rows) repeat, in plain indexed columns, what a
``contact.GateDecision`` keeps in JSON (the channel, whether it was overridden, the rules that
fired) together with what it was about (the logged contact and its collector, or the outbox
message), so the decision log filters, counts and pages by index instead of reading JSON row by
row. It is written by a ``post_save`` receiver when the gate records a decision
(``gatelog``) and filled for older decisions by this app's migration; the decision itself stays
the record.

A ``ContactReview`` is append-only (``save`` inserts only, ``delete`` refuses): a correction is
a new review that ``supersedes`` the old one, and only a review nobody superseded
(``current``) counts in the scorecard.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy


class GateLogEntry(models.Model):
    """One gate decision as the decision log filters it (see the module doc)."""

    decision = models.OneToOneField(
        "contact.GateDecision", on_delete=models.CASCADE, related_name="log_entry"
    )
    at = models.DateTimeField()
    outcome = models.CharField(max_length=6)  # allow | deny | defer
    channel = models.CharField(max_length=10, blank=True, default="")
    overridden = models.BooleanField(default=False)
    contact = models.ForeignKey(
        "collections.ContactAttempt",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    message = models.ForeignKey(
        "contact.OutboxMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="who logged the contact (empty for a message the dispatcher sent)",
    )
    case = models.ForeignKey(
        "collections.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-at", "-id")
        indexes = (
            models.Index(fields=["at", "id"], name="gatelog_at"),
            models.Index(fields=["outcome", "at"], name="gatelog_outcome_at"),
            models.Index(fields=["channel", "at"], name="gatelog_channel_at"),
            models.Index(fields=["collector", "at"], name="gatelog_collector_at"),
            models.Index(fields=["overridden", "at"], name="gatelog_overridden_at"),
        )

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.outcome} {self.channel}"


class GateLogRule(models.Model):
    """One rule that fired in a decision (a decision may fire several, or none)."""

    entry = models.ForeignKey(GateLogEntry, on_delete=models.CASCADE, related_name="fired")
    rule = models.CharField(max_length=80)

    class Meta:
        ordering = ("entry", "rule")
        indexes = (models.Index(fields=["rule", "entry"], name="gatelog_rule_entry"),)
        constraints = (models.UniqueConstraint(fields=["entry", "rule"], name="gatelog_rule_once"),)

    def __str__(self) -> str:
        return self.rule


class ReviewSample(models.Model):
    """A sample of recorded contacts drawn for one reviewer (``sampling.draw``): the inputs are
    kept so the same draw can be repeated and checked."""

    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    drawn_on = models.DateField(help_text="the day the sample was drawn (part of the seed)")
    date_from = models.DateField()
    date_to = models.DateField()
    per_collector = models.PositiveIntegerField(
        null=True, blank=True, help_text="contacts per collector (or percent)"
    )
    percent = models.PositiveSmallIntegerField(null=True, blank=True)
    seed = models.CharField(max_length=64)
    contacts = models.ManyToManyField("collections.ContactAttempt", related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = (
            models.CheckConstraint(
                condition=Q(per_collector__isnull=False, percent__isnull=True)
                | Q(per_collector__isnull=True, percent__isnull=False),
                name="sample_size_or_percent",
            ),
            models.CheckConstraint(
                condition=Q(date_to__gte=models.F("date_from")), name="sample_dates_ordered"
            ),
        )

    def __str__(self) -> str:
        return f"sample {self.pk} {self.date_from}–{self.date_to}"


class ContactReview(models.Model):
    """A reviewer's scorecard for one recorded contact (append-only; see the module doc)."""

    contact = models.ForeignKey(
        "collections.ContactAttempt", on_delete=models.PROTECT, related_name="reviews"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    sample = models.ForeignKey(
        ReviewSample, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews"
    )
    scorecard = models.CharField(max_length=40, help_text="name vN of the scorecard used")
    answers = models.JSONField(help_text="criterion → pass | fail | na")
    score = models.PositiveSmallIntegerField(help_text="0–100")
    finding = models.TextField(blank=True, default="")
    supersedes = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
        help_text="the review this one corrects",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = gettext_lazy("contact review")
        verbose_name_plural = gettext_lazy("contact reviews")
        indexes = (models.Index(fields=["contact", "created_at"], name="review_contact"),)
        constraints = (
            models.CheckConstraint(condition=Q(score__lte=100), name="review_score_at_most_100"),
        )

    def __str__(self) -> str:
        return f"review {self.pk} of contact {self.contact_id}: {self.score}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert only: a review once written is never changed (correct it with a new one)."""
        if not self._state.adding:
            raise ReviewIsFinal(f"review {self.pk} is final: correct it with a new review")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ReviewIsFinal(f"review {self.pk} is final: it is never deleted")


class ReviewIsFinal(Exception):
    """A programming error: code tried to change or delete a review (they are append-only)."""
