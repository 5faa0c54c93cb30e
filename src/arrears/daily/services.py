"""The daily run: compute every loan's state for a date with an engine and store it.

Results for a date are replaced atomically (delete + insert in one transaction), so running the
same date twice leaves identical rows and reports that nothing changed. A loan whose data the
kernel rejects is reported in the run's ``errors`` and skipped; it never blocks the others.

A rerun of a date that already has a completed run with the same configuration recomputes only
the loans whose ledger revision (``ledger.Loan.revision``, bumped by database triggers on every
write to the loan's rows) differs from the one stored with their state, plus loans with no
stored state (new, or failing) and loans gone from the day; every other row stays. Anything
that cannot be vouched for — another configuration, no completed run, the reference engine,
missing triggers, ``full=True`` or ``ARREARS_FULL_DAY_RUN=1`` — is a full run.

Only one run of a date at a time (issue 14: two PostgreSQL runs of one date raced into a
``UniqueViolation`` on the day's states and left a run ``running``). ``day_lock`` holds a lock
per date for the whole run — a PostgreSQL session advisory lock on a connection of its own, or
on SQLite an ``flock`` on a file next to the database — so a second run of the date is refused
at once with ``DayRunBusy`` ("already running"), or waits with ``wait=True``. Both locks die with
the process that holds them, which is how a dead run is told from a live one: a ``running``
record found while holding the date's lock belongs to a process that is gone, so the new run
marks it ``abandoned`` and completes the day (the rerun is the resume).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

import polars as pl
from django.db import DatabaseError, connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

import arrears
from arrears import __version__, errorcodes
from arrears.daily.engines import ENGINES, STATE_COLUMNS, Errors
from arrears.daily.models import DayRun, LoanState
from arrears.daily.store import day_figures, replace_day
from arrears.engine.names import COMPILED, canonical
from arrears.kernel.errors import ArrearsError
from arrears.ledger.frames import consistent_read, read_revisions
from arrears.ledger.models import Loan, Product

#: The environment variable that makes every run a full one (as ``run-day --full``).
FULL_ENV = "ARREARS_FULL_DAY_RUN"
#: Failing loans ``run-day`` lists one per line (all of them are stored with the run).
MAX_ERRORS_SHOWN = 20
#: Above this share of stale loans a rerun is a full run (as cheap, and simpler).
RERUN_MAX_SHARE = 0.25
#: Loans per engine call when a rerun recomputes a subset (an ``IN (…)`` list per table read).
RERUN_BATCH = 5_000
#: The triggers of ``ledger/migrations/0004_loan_revision`` (and 0009's, of the schedules,
#: which took the instalments' place) that keep ``Loan.revision`` honest, per vendor. A rerun
#: trusts stored states only while all are there (a SQLite table rebuild by a later migration
#: would drop them silently). A schedule has no insert trigger: it is inserted with its loan,
#: and a loan without one cannot be computed, so it has no stored state to outdate (a failing
#: loan is recomputed by every rerun).
_CHILDREN = ("payment", "waiver", "repaymentplan", "planinstalment")
_SCHEDULE = "ledger_schedule_rev"
REVISION_TRIGGERS = {
    "sqlite": frozenset(
        [f"ledger_{t}_rev_{op}" for t in _CHILDREN for op in ("ins", "upd", "del")]
        + [f"{_SCHEDULE}_{op}" for op in ("upd", "del")]
        + ["ledger_loan_rev_upd", "ledger_product_rev_upd"]
    ),
    "postgresql": frozenset(
        [f"ledger_{t}_rev_{op}" for t in _CHILDREN for op in ("ins", "upd", "del", "truncate")]
        + [f"{_SCHEDULE}_{op}" for op in ("upd", "del", "truncate")]
        + ["ledger_loan_rev", "ledger_product_rev"]
    ),
}


#: The advisory-lock namespace of day runs (``'ARRE'``); the second key is the date's ordinal.
_LOCK_SPACE = 0x41525245

errorcodes.define(
    {
        "day-run-busy": "a run of %(as_of)s is already running (%(holder)s); "
        "wait for it to finish, or run the date again afterwards",
    }
)


class DayRunBusy(ArrearsError):
    """Another process is running the same date now."""

    code = "day-run-busy"


@contextmanager
def day_lock(as_of: date, *, wait: bool = False) -> Iterator[None]:
    """Hold the lock of ``as_of`` for the block; ``DayRunBusy`` when another process holds it
    (or, with ``wait``, block until it is free). Released when the block ends or the process
    dies — never left behind by a killed run."""
    if connection.vendor == "postgresql":
        with _advisory_lock(as_of, wait):
            yield
    else:
        with _file_lock(as_of, wait):
            yield


@contextmanager
def _advisory_lock(as_of: date, wait: bool) -> Iterator[None]:
    """A session advisory lock on a connection of its own: the run's own connection commits,
    may be closed and reopened, and a transaction-scoped lock would end with each transaction."""
    connection.ensure_connection()
    own = connection.get_new_connection(connection.get_connection_params())
    try:
        own.autocommit = True
        with own.cursor() as cursor:
            key = (_LOCK_SPACE, as_of.toordinal())
            if wait:
                cursor.execute("SELECT pg_advisory_lock(%s, %s)", key)
            else:
                cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
                (held,) = cursor.fetchone()
                if not held:
                    raise errorcodes.refuse(
                        DayRunBusy, "day-run-busy", as_of=as_of, holder=_holder(as_of)
                    )
            try:
                yield
            finally:
                # the lock's connection gone (the server ended it) took the lock with it
                with suppress(connection.Database.Error):
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)
    finally:
        own.close()


@contextmanager
def _file_lock(as_of: date, wait: bool) -> Iterator[None]:
    """An ``flock`` on ``<database>.dayrun-<date>.lock`` (SQLite: one host). SQLite's write lock
    alone serialises the day's replacement but not the runs: both would compute, and the
    second could wait past the busy timeout ("database is locked") or mark the first
    abandoned while it still runs."""
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or "mode=memory" in name:
        yield  # an in-memory database (tests): no other process can open it
        return
    path = Path(name).with_name(f"{Path(name).name}.dayrun-{as_of.isoformat()}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            handle.seek(0)
            raise errorcodes.refuse(
                DayRunBusy, "day-run-busy", as_of=as_of, holder=handle.read().strip() or "?"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _holder(as_of: date) -> str:
    """Who holds the date's advisory lock, as PostgreSQL sees it (its server process and the
    client's address and start), for the "already running" message."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.pid, coalesce(host(a.client_addr), 'local'), a.backend_start "
            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = %s",
            [_LOCK_SPACE, as_of.toordinal()],
        )
        row = cursor.fetchone()
    if row is None:
        return "?"
    pid, host, started = row
    return f"server process {pid} for {host}, connected {started:%Y-%m-%d %H:%M:%S}"


@cache
def code_digest() -> str:
    """A digest of the code the stored rows come from (the kernel, the engine, the daily run and
    its store, the ledger's readers): a rerun trusts stored states only from the same code, even
    when a developer changed it without a version bump."""
    root = Path(arrears.__file__).resolve().parent
    files = sorted(
        [*(root / "kernel").rglob("*.py"), *(root / "engine").rglob("*.py")]
        + [root / "daily" / name for name in ("engines.py", "services.py", "store.py")]
        + [root / "ledger" / name for name in ("frames.py", "selectors.py", "models.py")]
    )
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def run_config(loans: QuerySet[Loan], engine: str) -> dict[str, object]:
    """The versions a run's numbers depend on, recorded with the run so any figure can be
    traced to the code and the product rules that made it (and so a rerun knows whether the
    stored states came from the same ones)."""
    products = sorted(
        f"{code} v{version}"
        for code, version in Product.objects.filter(loans__in=loans)
        .values_list("code", "version")
        .distinct()
    )
    return {"arrears": __version__, "code": code_digest(), "engine": engine, "products": products}


def revision_triggers_present() -> bool:
    """Whether the database has every trigger that bumps ``Loan.revision``."""
    expected = REVISION_TRIGGERS.get(connection.vendor)
    if expected is None:
        return False
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D'"
            )
        present = {str(name) for (name,) in cursor.fetchall()}
    return expected <= present


def fault_point(stage: str) -> None:
    """A place where tests stop a real run: with ``ARREARS_FAULT_PAUSE=<stage>`` the run
    touches ``ARREARS_FAULT_FILE`` and waits there to be killed (crash-safety tests) — or, with
    ``ARREARS_FAULT_RESUME_FILE`` set, until that file exists, and then goes on (the fault
    tests take the database away meanwhile)."""
    if os.environ.get("ARREARS_FAULT_PAUSE") != stage:
        return
    Path(os.environ["ARREARS_FAULT_FILE"]).touch()
    resume = os.environ.get("ARREARS_FAULT_RESUME_FILE")
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and not (resume and Path(resume).exists()):
        time.sleep(0.05 if resume else 1)


@dataclass
class RunSummary:
    as_of: date
    loans: int = 0
    delinquent: int = 0
    changed: int = 0
    per_bucket: dict[str, int] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    #: Loans computed by this run; ``None`` for a full run (every loan), a count for a rerun
    #: that recomputed only the loans whose ledger rows changed.
    recomputed: int | None = None

    @property
    def status(self) -> str:
        """``completed``, or ``completed_with_errors`` when any loan was reported and skipped."""
        if self.errors:
            return DayRun.Status.COMPLETED_WITH_ERRORS
        return DayRun.Status.COMPLETED

    def line(self) -> str:
        """The run's summary line; with errors, a line per failing loan after it (reference,
        code and message), so ``run-day`` names every loan it skipped."""
        buckets = " ".join(f"{k}={v}" for k, v in sorted(self.per_bucket.items()))
        rerun = "" if self.recomputed is None else f", rerun: {self.recomputed} recomputed"
        text = (
            f"{self.as_of}: {self.loans} loans, {self.delinquent} delinquent, "
            f"{self.changed} changed, {len(self.errors)} errors [{buckets}] "
            f"in {self.seconds:.2f}s{rerun}"
        )
        if not self.errors:
            return text
        shown = self.errors[:MAX_ERRORS_SHOWN]
        lines = [f"{text}; completed with errors, {len(self.errors)} loan(s) skipped:"]
        lines += [f"  loan {e['loan']}: [{e['code']}] {e['message']}" for e in shown]
        if len(self.errors) > len(shown):
            lines.append(f"  … and {len(self.errors) - len(shown)} more (see the day run)")
        return "\n".join(lines)


def _may_rerun(engine: str, full: bool) -> bool:
    """Whether this run may keep stored states at all: not forced full, the compiled engine,
    and every revision trigger in place."""
    if full or os.environ.get(FULL_ENV, "") not in {"", "0"} or engine != COMPILED:
        return False
    return revision_triggers_present()


def _same_config(as_of: date, config: dict[str, object]) -> bool:
    """Whether the latest completed run of ``as_of`` — the one whose rows are stored (a run
    marks itself completed in the transaction that replaces them) — had ``config``."""
    last = DayRun.objects.filter(as_of=as_of, status__in=DayRun.FINISHED).order_by("-pk")
    return last.values_list("config", flat=True).first() == config


def _stale_and_gone(loans: QuerySet[Loan], as_of: date) -> tuple[pl.DataFrame, list[int]]:
    """The loans of ``loans`` without a stored state of ``as_of`` at their current revision
    (changed, new, failing, or stored with no revision), as ``loan_id`` and ``revision``; and
    the loans with a stored state of the day that are no longer among ``loans``. Both found
    by the database (anti-joins on the states' ``(loan, as_of)`` index), so only the few
    changed rows leave it."""
    kept = LoanState.objects.filter(loan=OuterRef("pk"), as_of=as_of, revision=OuterRef("revision"))
    stale = read_revisions(loans.exclude(Exists(kept)))
    gone = (
        LoanState.objects.filter(as_of=as_of)
        .exclude(Exists(loans.filter(pk=OuterRef("loan_id"))))
        .values_list("loan_id", flat=True)
    )
    return stale, list(gone)


def _compute(
    loans: QuerySet[Loan],
    as_of: date,
    engine: str,
    progress: Callable[[int, int], None] | None,
    rerun: bool,
    config: dict[str, object],
) -> tuple[pl.DataFrame, Errors, list[int] | None]:
    """The states (with the ledger revision each came from) and errors of the loans to compute,
    and the loans whose stored rows they replace (``None``: every row of the day).

    Revisions, the previous run's configuration, the stored revisions and the ledger frames
    are read in one consistent transaction, so a stored revision is exactly the one of the
    rows its state was computed from."""
    with consistent_read():
        stale: pl.DataFrame | None = None
        only: list[int] | None = None
        if rerun and _same_config(as_of, config):
            stale, gone = _stale_and_gone(loans, as_of)
            if len(stale) > RERUN_MAX_SHARE * loans.count():
                stale = None
            else:
                only = sorted({*stale["loan_id"].to_list(), *gone})
        if stale is None:
            current = read_revisions(loans)
            states, errors = ENGINES[engine](loans, as_of, progress)
        else:
            current = stale
            ids = stale["loan_id"].to_list()
            parts: list[pl.DataFrame] = [pl.DataFrame(schema=STATE_COLUMNS)]
            errors = []
            for offset in range(0, len(ids), RERUN_BATCH):
                batch = ids[offset : offset + RERUN_BATCH]
                part, part_errors = ENGINES[engine](Loan.objects.filter(id__in=batch), as_of, None)
                parts.append(part)
                errors.extend(part_errors)
                if progress:
                    progress(min(offset + RERUN_BATCH, len(ids)), len(ids))
            states = pl.concat(parts).sort("loan_id")
    return states.join(current, on="loan_id", how="left"), errors, only


def day_run(
    *,
    as_of: date,
    engine: str = COMPILED,
    progress: Callable[[int, int], None] | None = None,
    full: bool = False,
    wait: bool = False,
) -> RunSummary:
    """Run ``as_of`` holding its lock (see ``day_lock``): ``DayRunBusy`` when another process
    is running the date, unless ``wait``. Runs of it left ``running`` by a dead process are
    marked ``abandoned`` first; this run completes the day."""
    with day_lock(as_of, wait=wait):
        DayRun.objects.filter(as_of=as_of, status=DayRun.Status.RUNNING).update(
            status=DayRun.Status.ABANDONED
        )
        return _day_run(as_of=as_of, engine=engine, progress=progress, full=full)


def _day_run(
    *,
    as_of: date,
    engine: str,
    progress: Callable[[int, int], None] | None,
    full: bool,
) -> RunSummary:
    """Compute and store every loan's state at the end of ``as_of`` with ``engine``.

    The run is recorded first (status ``running``) and marked completed (``completed with
    errors`` when a loan failed: reported in ``errors``, skipped, everyone else stored) only
    after the day's rows are replaced in one transaction: a run killed midway leaves the
    previous rows intact and a ``running`` record, and running the day again completes it.

    Rerunning a day whose latest completed run had the same configuration recomputes only the
    loans whose ledger rows changed since (see the module docstring); the summary still
    counts the whole day, from the stored rows. ``full`` (or ``ARREARS_FULL_DAY_RUN=1``)
    recomputes every loan.
    """
    engine = canonical(engine)  # an old name (``polars``) is recorded as the current one
    started = time.perf_counter()
    loans = Loan.objects.filter(start_date__lte=as_of)
    config = run_config(loans, engine)
    rerun = _may_rerun(engine, full)
    run = DayRun.objects.create(as_of=as_of, engine=engine, config=config)
    try:
        return _compute_and_store(run, loans, as_of, engine, progress, rerun, config, started)
    except Exception:
        # not one loan's failure (those are isolated in the engines): the run itself failed —
        # the database gone, say — and says so rather than staying ``running``
        _mark_failed(run.pk)
        raise


def _mark_failed(pk: int) -> None:
    """Mark the run ``failed``. When the error was the connection itself, once more on a new
    one; if the database is still away, the record stays ``running`` and the next run of the
    date (holding its lock) marks it ``abandoned``."""

    def mark() -> None:
        DayRun.objects.filter(pk=pk, status=DayRun.Status.RUNNING).update(
            status=DayRun.Status.FAILED, finished_at=timezone.now()
        )

    try:
        mark()
    except DatabaseError:
        if connection.in_atomic_block:  # a caller's transaction: not ours to reopen
            return
        connection.close()
        with suppress(DatabaseError):
            mark()


def _compute_and_store(
    run: DayRun,
    loans: QuerySet[Loan],
    as_of: date,
    engine: str,
    progress: Callable[[int, int], None] | None,
    rerun: bool,
    config: dict[str, object],
    started: float,
) -> RunSummary:
    states, errors, only = _compute(loans, as_of, engine, progress, rerun, config)
    fault_point("computed")
    summary = RunSummary(as_of=as_of, errors=errors)
    computed = len(states) + len(errors)
    if only is not None:
        summary.recomputed = computed
    with transaction.atomic():
        summary.changed = replace_day(as_of, states, only)
        if only is None:
            summary.loans = len(states)
            summary.delinquent = int((states["dpd"] > 0).sum()) if len(states) else 0
            summary.per_bucket = (
                dict(states.group_by("bucket").len().iter_rows()) if len(states) else {}
            )
        else:
            summary.loans, summary.delinquent, summary.per_bucket = day_figures(as_of)
        summary.seconds = time.perf_counter() - started
        DayRun.objects.filter(pk=run.pk).update(
            status=summary.status,
            loans=summary.loans,
            delinquent=summary.delinquent,
            changed=summary.changed,
            errors=summary.errors,
            recomputed=computed,
            finished_at=timezone.now(),
        )
        DayRun.objects.filter(as_of=as_of, status=DayRun.Status.RUNNING, pk__lt=run.pk).update(
            status=DayRun.Status.ABANDONED
        )
    return summary
