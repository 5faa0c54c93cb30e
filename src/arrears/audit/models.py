"""The append-only, hash-chained audit log (see ``chain.py`` for the hashing rule)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q

from arrears.audit import chain


class AuditEntry(models.Model):
    """One recorded change. ``hash`` covers every other field, ``prev_hash`` included, so an
    edit, a deletion or a reordering shows when the chain is walked.

    An entry is written *unsealed* (``seq``, ``prev_hash`` and ``hash`` empty) in the writer's
    transaction, so writers never wait for one another; the sealer (``services.seal``) gives
    each committed entry its place in the chain once, right after the commit. Chain order is
    ``seq``, not ``id``.
    """

    seq = models.PositiveBigIntegerField(unique=True, null=True, blank=True)
    at = models.DateTimeField()
    actor = models.CharField(max_length=150)
    action = models.CharField(max_length=64, db_index=True)
    subject_type = models.CharField(max_length=64)
    subject_id = models.CharField(max_length=64)
    case_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True, default="")
    config = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64, blank=True, default="")
    hash = models.CharField(max_length=64, unique=True, null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "audit entries"
        indexes = [
            # the sealer's question, "which entries have no place yet?", stays an index probe
            models.Index(fields=["id"], condition=Q(seq__isnull=True), name="audit_unsealed"),
            models.Index(fields=["subject_type", "subject_id"], name="audit_subject"),
            models.Index(fields=["actor"], name="audit_actor"),
        ]

    def __str__(self) -> str:
        place = f"#{self.seq}" if self.seq is not None else f"(unsealed id {self.id})"
        return f"{place} {self.action} {self.subject_type}:{self.subject_id}"

    @property
    def sealed(self) -> bool:
        return self.seq is not None

    def record(self) -> dict[str, Any]:
        """The entry as the chain hashes it (plus ``hash``)."""
        body: dict[str, Any] = {name: getattr(self, name) for name in chain.FIELDS}
        body["at"] = chain.iso_utc(self.at)
        body["hash"] = self.hash
        return body
