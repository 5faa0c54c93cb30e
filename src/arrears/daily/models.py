"""The persisted result of the daily run: one row per loan and date, plus a record per run.

Rows are derived data — recomputable at any time from the ledger with the kernel — and are
stored so that lists, queues and reports read them without replaying every loan.
"""

from __future__ import annotations

from django.db import models


class DayRun(models.Model):
    """One run of the daily job for one as-of date (idempotency and audit of the run itself)."""

    class Status(models.TextChoices):
        RUNNING = "running"
        COMPLETED = "completed"
        #: every loan computed and stored but those in ``errors`` (reported and skipped)
        COMPLETED_WITH_ERRORS = "completed_with_errors", "Completed with errors"
        FAILED = "failed"
        ABANDONED = "abandoned"  # never finished (killed); a later run completed the date

    as_of = models.DateField()
    engine = models.CharField(max_length=20)
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.RUNNING)
    loans = models.PositiveIntegerField(default=0)
    delinquent = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    #: Loans the run computed (states plus errors): every loan of a full run; on a rerun of a
    #: completed day only those whose ledger revision moved since, the new, failing and gone
    #: ones (null on runs recorded before it was counted).
    recomputed = models.PositiveIntegerField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True)
    #: What produced the numbers: code version, engine, and the product versions in force.
    config = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-as_of", "-started_at"]

    #: The statuses of a run whose rows are stored (the day's latest such run is its result).
    FINISHED = (Status.COMPLETED, Status.COMPLETED_WITH_ERRORS)

    def __str__(self) -> str:
        return f"run {self.as_of} ({self.engine}, {self.status})"


class LoanState(models.Model):
    """A loan's state at the end of ``as_of``: the stored figures of the loan-state contract
    (:data:`arrears.kernel.contract.STORED`, same names; amounts in minor units of the loan's
    currency; each figure's meaning is declared there, not repeated here, so no migration
    follows a wording change). ``tests/kernel/test_contract.py`` checks the fields against it."""

    loan = models.ForeignKey("ledger.Loan", on_delete=models.CASCADE, related_name="states")
    as_of = models.DateField()
    dpd = models.PositiveIntegerField()
    bucket = models.CharField(max_length=16)
    overdue_principal = models.BigIntegerField()
    overdue_interest = models.BigIntegerField()
    penalty_outstanding = models.BigIntegerField()
    compound_outstanding = models.BigIntegerField()
    total_due = models.BigIntegerField()
    principal_outstanding = models.BigIntegerField()
    payoff = models.BigIntegerField()
    credit = models.BigIntegerField()
    next_due_on = models.DateField(null=True, blank=True)
    #: The loan's ``ledger.Loan.revision`` the row was computed from (read in the same
    #: consistent transaction as the ledger rows); not a figure of the state. Null when unknown
    #: (a mid-day replacement), which makes the next rerun of the day recompute the loan.
    revision = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["loan", "as_of"], name="daily_loanstate_loan_as_of")
        ]
        indexes = [models.Index(fields=["as_of", "bucket"], name="daily_state_asof_bucket")]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.as_of} {self.bucket}"


class BucketChange(models.Model):
    """A loan moved from one bucket to another on ``as_of`` (history, never overwritten)."""

    loan = models.ForeignKey("ledger.Loan", on_delete=models.CASCADE, related_name="bucket_changes")
    as_of = models.DateField()
    from_bucket = models.CharField(max_length=16)
    to_bucket = models.CharField(max_length=16)
    cause = models.CharField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["loan", "as_of"], name="daily_bucketchange_loan_as_of")
        ]
        ordering = ["as_of"]
