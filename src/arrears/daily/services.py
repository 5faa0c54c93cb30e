"""The daily run: compute every loan's state for a date with an engine and store it.

Results for a date are replaced atomically (delete + insert in one transaction), so running the
same date twice leaves identical rows and reports that nothing changed. A loan whose data the
kernel rejects is reported in the run's ``errors`` and skipped; it never blocks the others.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from arrears import __version__
from arrears.daily.engines import ENGINES
from arrears.daily.models import DayRun
from arrears.daily.store import replace_day
from arrears.engine.names import COMPILED, canonical
from arrears.ledger.models import Loan, Product


def run_config(loans: QuerySet[Loan], engine: str) -> dict[str, object]:
    """The versions a run's numbers depend on, recorded with the run so any figure can be
    traced to the code and the product rules that made it."""
    products = sorted(
        f"{code} v{version}"
        for code, version in Product.objects.filter(loans__in=loans)
        .values_list("code", "version")
        .distinct()
    )
    return {"arrears": __version__, "engine": engine, "products": products}


def fault_point(stage: str) -> None:
    """A place where tests stop a real run: with ``ARREARS_FAULT_PAUSE=<stage>`` the run
    touches ``ARREARS_FAULT_FILE`` and waits there to be killed (crash-safety tests)."""
    if os.environ.get("ARREARS_FAULT_PAUSE") != stage:
        return
    Path(os.environ["ARREARS_FAULT_FILE"]).touch()
    time.sleep(600)


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


def day_run(
    *, as_of: date, engine: str = COMPILED, progress: Callable[[int, int], None] | None = None
) -> RunSummary:
    """Compute and store every loan's state at the end of ``as_of`` with ``engine``.

    The run is recorded first (status ``running``) and marked completed only after the day's
    rows are replaced in one transaction: a run killed midway leaves the previous rows intact
    and a ``running`` record, and running the day again completes it.
    """
    engine = canonical(engine)  # an old name (``polars``) is recorded as the current one
    started = time.perf_counter()
    loans = Loan.objects.filter(start_date__lte=as_of)
    run = DayRun.objects.create(as_of=as_of, engine=engine, config=run_config(loans, engine))
    states, errors = ENGINES[engine](loans, as_of, progress)
    fault_point("computed")
    summary = RunSummary(as_of=as_of, errors=errors)
    summary.loans = len(states)
    summary.delinquent = int((states["dpd"] > 0).sum()) if len(states) else 0
    summary.per_bucket = dict(states.group_by("bucket").len().iter_rows()) if len(states) else {}
    with transaction.atomic():
        summary.changed = replace_day(as_of, states)
        summary.seconds = time.perf_counter() - started
        DayRun.objects.filter(pk=run.pk).update(
            status=DayRun.Status.COMPLETED,
            loans=summary.loans,
            delinquent=summary.delinquent,
            changed=summary.changed,
            errors=summary.errors,
            finished_at=timezone.now(),
        )
        DayRun.objects.filter(as_of=as_of, status=DayRun.Status.RUNNING, pk__lt=run.pk).update(
            status=DayRun.Status.ABANDONED
        )
    return summary
