"""The append-only, hash-chained audit log (see ``chain.py`` for the hashing rule)."""

from __future__ import annotations

from typing import Any

from django.db import models

from arrears.audit import chain


class AuditEntry(models.Model):
    """One recorded change. ``hash`` covers every other field, ``prev_hash`` included, so an
    edit, a deletion or a reordering shows when the chain is walked."""

    seq = models.PositiveBigIntegerField(unique=True)
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
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.subject_type}:{self.subject_id}"

    def record(self) -> dict[str, Any]:
        """The entry as the chain hashes it (plus ``hash``)."""
        body: dict[str, Any] = {name: getattr(self, name) for name in chain.FIELDS}
        body["at"] = chain.iso_utc(self.at)
        body["hash"] = self.hash
        return body


class AuditHead(models.Model):
    """One row locked (select_for_update) by every append, so two writers never fork the chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
