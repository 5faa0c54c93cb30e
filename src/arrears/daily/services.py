"""The daily run with the reference engine: replay every loan with the kernel, store the state.

Results for a date are replaced atomically (delete + insert in one transaction), so running the
same date twice leaves identical rows and reports that nothing changed. A loan whose data the
kernel rejects is reported in the run's ``errors`` and skipped; it never blocks the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from arrears.daily.models import BucketChange, DayRun, LoanState
from arrears.kernel.errors import ArrearsError
from arrears.kernel.state import LoanState as KernelState
from arrears.kernel.state import state
from arrears.ledger import selectors
from arrears.ledger.models import Loan

STATE_FIELDS = (
    "dpd",
    "bucket",
    "overdue_principal_minor",
    "overdue_interest_minor",
    "penalty_minor",
    "compound_minor",
    "total_due_minor",
    "principal_outstanding_minor",
    "payoff_minor",
    "credit_minor",
)


@dataclass
class RunSummary:
    as_of: date
    loans: int = 0
    delinquent: int = 0
    changed: int = 0
    per_bucket: dict[str, int] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        buckets = " ".join(f"{k}={v}" for k, v in sorted(self.per_bucket.items()))
        return (
            f"{self.as_of}: {self.loans} loans, {self.delinquent} delinquent, "
            f"{self.changed} changed, {len(self.errors)} errors [{buckets}] "
            f"in {self.seconds:.2f}s"
        )


def _row(loan_id: int, s: KernelState) -> LoanState:
    return LoanState(
        loan_id=loan_id,
        as_of=s.as_of,
        dpd=s.dpd,
        bucket=s.bucket,
        overdue_principal_minor=s.overdue_principal,
        overdue_interest_minor=s.overdue_interest,
        penalty_minor=s.penalty_outstanding,
        compound_minor=s.compound_outstanding,
        total_due_minor=s.total_due,
        principal_outstanding_minor=s.principal_outstanding,
        payoff_minor=s.payoff,
        credit_minor=s.credit,
    )


def _key(row: LoanState) -> tuple[object, ...]:
    return (row.loan_id, *(getattr(row, name) for name in STATE_FIELDS))


def day_run(*, as_of: date, progress: Callable[[int, int], None] | None = None) -> RunSummary:
    """Compute and store every loan's state at the end of ``as_of`` (reference engine)."""
    started = time.perf_counter()
    summary = RunSummary(as_of=as_of)
    run = DayRun.objects.create(as_of=as_of, engine="reference")
    loans = Loan.objects.filter(start_date__lte=as_of)
    total = loans.count()
    rows: list[LoanState] = []
    changes: list[BucketChange] = []
    for done, entry in enumerate(selectors.portfolio_entries(loans), start=1):
        if progress:
            progress(done, total)
        terms, payments = entry.terms, entry.payments
        try:
            if entry.error is not None:
                raise entry.error
            assert terms is not None
            current = state(terms, payments, as_of)
            yesterday = as_of - timedelta(days=1)
            previous = "M0" if yesterday < terms.start else state(terms, payments, yesterday).bucket
        except ArrearsError as error:
            summary.errors.append({"loan": entry.ref, "code": error.code, "message": str(error)})
            continue
        loan_id = entry.loan_id
        rows.append(_row(loan_id, current))
        if current.bucket != previous:
            order = {b.name: i for i, b in enumerate(terms.product.buckets)}
            worse = order[current.bucket] > order.get(previous, 0)
            changes.append(
                BucketChange(
                    loan_id=loan_id,
                    as_of=as_of,
                    from_bucket=previous,
                    to_bucket=current.bucket,
                    cause="ageing" if worse else "payment",
                )
            )
        summary.per_bucket[current.bucket] = summary.per_bucket.get(current.bucket, 0) + 1
        summary.delinquent += current.dpd > 0
    summary.loans = len(rows)
    with transaction.atomic():
        before = {_key(r) for r in LoanState.objects.filter(as_of=as_of)}
        summary.changed = len({_key(r) for r in rows} ^ before)
        LoanState.objects.filter(as_of=as_of).delete()
        LoanState.objects.bulk_create(rows, batch_size=2000)
        BucketChange.objects.filter(as_of=as_of).delete()
        BucketChange.objects.bulk_create(changes, batch_size=2000)
        summary.seconds = time.perf_counter() - started
        DayRun.objects.filter(pk=run.pk).update(
            status=DayRun.Status.COMPLETED,
            loans=summary.loans,
            delinquent=summary.delinquent,
            changed=summary.changed,
            errors=summary.errors,
            finished_at=timezone.now(),
        )
    return summary
