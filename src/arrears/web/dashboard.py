"""The team dashboard's figures, read from stored tables in a few bulk queries.

Everything here is a read of what the daily run and the services already stored: cases (their
stage and bucket as the last workflow evaluation left them), contact attempts, promises,
payments, and the daily run's loan states. Nothing is recomputed with the kernel, so the page
costs the same for a team of ten cases or ten thousand: one aggregate query per figure, never
one per case or per collector (``tests/web/test_team.py`` bounds the count). Money stays in
integer minor units; a share of a target is computed in integers too (basis points, rounded
down) and only formatted on the page.

A team's cases are the ones its lead sees (:func:`~arrears.collections.selectors.visible_cases`
of a supervisor): those assigned to its collectors and the unassigned ones waiting in the
stage owner's queue the team works. :func:`teams_for` says which teams a user may pick: their
own for a team lead or a manager (a manager supervises their team; there is no hierarchy of
teams in the model), every team for a superuser, none for anyone else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from arrears.collections.frames import REACHED
from arrears.collections.models import Case, Collector, ContactAttempt, Promise, Team
from arrears.collections.selectors import collector_of, is_supervisor
from arrears.daily.models import DayRun, LoanState
from arrears.kernel.terms import DEFAULT_BUCKETS
from arrears.ledger.models import Payment

#: The window of the "last 30 days" promise figures, and how far back roll rates look.
WINDOW_DAYS = 30
#: Buckets in their order of lateness; a bucket the terms do not name sorts after them.
BUCKET_ORDER = [bucket.name for bucket in DEFAULT_BUCKETS]


def teams_for(user: Any) -> QuerySet[Team]:
    """The teams whose dashboard ``user`` may open: every team for a superuser, their own for
    a team lead or manager, none for anyone else (the view answers 403)."""
    if getattr(user, "is_superuser", False):
        return Team.objects.order_by("code")
    profile = collector_of(user)
    if not is_supervisor(profile):
        return Team.objects.none()
    assert profile is not None
    return Team.objects.filter(pk=profile.team_id)


def team_cases(team: Team) -> QuerySet[Case]:
    """Every case (open or closed) of ``team``: the same rule as a supervisor's
    ``visible_cases``, for any team (so a superuser's picker shows what that lead sees)."""
    return Case.objects.filter(
        Q(collector__team_id=team.pk) | Q(collector__isnull=True, owner=team.owner)
    )


def bucket_key(name: str) -> tuple[int, str]:
    """Sort key of a bucket name: the terms' order, unknown names after them, blank last."""
    if name in BUCKET_ORDER:
        return (BUCKET_ORDER.index(name), name)
    return (len(BUCKET_ORDER) + (1 if not name else 0), name)


def basis_points(part: int, whole: int) -> int | None:
    """``part`` of ``whole`` in hundredths of a percent, rounded down (integers only)."""
    if whole <= 0:
        return None
    return part * 10_000 // whole


@dataclass
class QueueFigures:
    """Open cases by stage (rows) and bucket (columns)."""

    stages: list[str]
    buckets: list[str]
    counts: dict[tuple[str, str], int]
    total: int

    def row(self, stage: str) -> list[int]:
        return [self.counts.get((stage, bucket), 0) for bucket in self.buckets]

    def column_totals(self) -> list[int]:
        return [sum(self.counts.get((s, b), 0) for s in self.stages) for b in self.buckets]


@dataclass
class ContactRow:
    """One collector's contact attempts logged today, and how many reached the borrower."""

    collector: Collector
    attempts: int
    right_party: int


@dataclass
class PromiseFigures:
    """Promises made, kept, partially kept and broken on ``day`` and in the window."""

    made: int = 0
    kept: int = 0
    partial: int = 0
    broken: int = 0


@dataclass
class Collected:
    """Payments on the team's borrowers' loans from the first of the month to ``day``, per
    currency, against the team's monthly target (in the target's currency)."""

    month_start: date
    target_minor: int
    currency: str
    collected_minor: int
    others: dict[str, int] = field(default_factory=dict)

    @property
    def share_bp(self) -> int | None:
        return basis_points(self.collected_minor, self.target_minor)


@dataclass
class RollRates:
    """How loans moved between buckets from ``start`` to ``end`` (two daily runs' states).

    ``moves[(from, to)]`` counts loans; ``to`` is ``""`` for a loan the later run has no
    state for. A roll forward is a move to a later bucket; its rate is per starting bucket.
    """

    start: date | None
    end: date | None
    buckets: list[str] = field(default_factory=list)
    moves: dict[tuple[str, str], int] = field(default_factory=dict)

    def started(self, bucket: str) -> int:
        return sum(n for (frm, _), n in self.moves.items() if frm == bucket)

    def rolled_forward(self, bucket: str) -> int:
        return sum(
            n
            for (frm, to), n in self.moves.items()
            if frm == bucket and to and bucket_key(to) > bucket_key(frm)
        )

    def cured(self, bucket: str) -> int:
        return sum(
            n
            for (frm, to), n in self.moves.items()
            if frm == bucket and to and bucket_key(to) < bucket_key(frm)
        )

    def rate_bp(self, bucket: str) -> int | None:
        return basis_points(self.rolled_forward(bucket), self.started(bucket))


@dataclass
class Dashboard:
    """Every figure of one team's dashboard on one business day."""

    team: Team
    day: date
    run_as_of: date | None
    queue: QueueFigures
    contacts: list[ContactRow]
    promises_today: PromiseFigures
    promises_window: PromiseFigures
    collected: Collected
    roll: RollRates


def latest_run() -> date | None:
    """The as-of date of the latest finished daily run, with or without errors (what the
    stored figures reflect)."""
    found: date | None = (
        DayRun.objects.filter(status__in=DayRun.FINISHED)
        .order_by("-as_of")
        .values_list("as_of", flat=True)
        .first()
    )
    return found


def queue_figures(cases: QuerySet[Case]) -> QueueFigures:
    rows = (
        cases.filter(closed_on__isnull=True)
        .order_by()
        .values_list("stage", "bucket")
        .annotate(n=Count("id"))
    )
    counts = {(stage, bucket): n for stage, bucket, n in rows}
    stages = sorted({stage for stage, _ in counts})
    buckets = sorted({bucket for _, bucket in counts}, key=bucket_key)
    return QueueFigures(stages, buckets, counts, sum(counts.values()))


def contacts_today(team: Team, day: date) -> list[ContactRow]:
    """Each collector of ``team`` (every one, also those with no attempt) with the attempts
    they logged on ``day`` (local time) and how many reached the borrower (``frames.REACHED``
    outcomes, as the strategy counts a right-party contact)."""
    collectors = list(
        Collector.objects.filter(team=team).select_related("user").order_by("user__username")
    )
    zone = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    rows = (
        ContactAttempt.objects.filter(
            collector_id__in=[c.user_id for c in collectors],
            at__gte=start,
            at__lt=start + timedelta(days=1),
        )
        .order_by()
        .values("collector_id")
        .annotate(attempts=Count("id"), right_party=Count("id", filter=Q(outcome__in=REACHED)))
    )
    found = {row["collector_id"]: row for row in rows}
    return [
        ContactRow(
            c,
            found.get(c.user_id, {}).get("attempts", 0),
            found.get(c.user_id, {}).get("right_party", 0),
        )
        for c in collectors
    ]


def promise_figures(cases: QuerySet[Case], day: date) -> tuple[PromiseFigures, PromiseFigures]:
    """Promises made on the day (``made_on``) and resolved on it (``resolved_on``: kept,
    partially kept, broken), and the same over the :data:`WINDOW_DAYS` ending on it."""
    since = day - timedelta(days=WINDOW_DAYS - 1)
    statuses = {
        "kept": Promise.Status.KEPT,
        "partial": Promise.Status.PARTIAL,
        "broken": Promise.Status.BROKEN,
    }
    aggregates: dict[str, Any] = {
        "made_day": Count("id", filter=Q(made_on=day)),
        "made_window": Count("id", filter=Q(made_on__gte=since, made_on__lte=day)),
    }
    for name, status in statuses.items():
        aggregates[f"{name}_day"] = Count("id", filter=Q(status=status, resolved_on=day))
        aggregates[f"{name}_window"] = Count(
            "id", filter=Q(status=status, resolved_on__gte=since, resolved_on__lte=day)
        )
    totals = Promise.objects.filter(case_id__in=cases.values("pk")).aggregate(**aggregates)

    def figures_of(when: str) -> PromiseFigures:
        return PromiseFigures(
            made=totals[f"made_{when}"],
            kept=totals[f"kept_{when}"],
            partial=totals[f"partial_{when}"],
            broken=totals[f"broken_{when}"],
        )

    return figures_of("day"), figures_of("window")


def collected(team: Team, cases: QuerySet[Case], day: date) -> Collected:
    """Payments with a value date from the first of ``day``'s month to ``day`` on the loans
    of the team's borrowers (cases open at some time in the month), less those reversed on
    or before ``day``."""
    month_start = day.replace(day=1)
    borrowers = cases.filter(Q(closed_on__isnull=True) | Q(closed_on__gte=month_start)).values(
        "borrower_id"
    )
    rows = (
        Payment.objects.filter(
            loan__borrower_id__in=borrowers, value_date__gte=month_start, value_date__lte=day
        )
        .exclude(reversed_on__lte=day)
        .order_by()
        .values_list("currency")
        .annotate(total=Sum("amount_minor"))
    )
    totals = {currency: int(total or 0) for currency, total in rows}
    currency = team.target_currency
    return Collected(
        month_start=month_start,
        target_minor=team.monthly_target_minor,
        currency=currency,
        collected_minor=totals.pop(currency, 0),
        others=totals,
    )


def roll_rates(cases: QuerySet[Case], end: date | None) -> RollRates:
    """Bucket to bucket moves of the team's loans between the latest completed run (``end``)
    and the latest one at least :data:`WINDOW_DAYS` before it, from the stored states."""
    if end is None:
        return RollRates(None, None)
    start = (
        DayRun.objects.filter(
            status__in=DayRun.FINISHED, as_of__lte=end - timedelta(days=WINDOW_DAYS)
        )
        .order_by("-as_of")
        .values_list("as_of", flat=True)
        .first()
    )
    if start is None:
        return RollRates(None, end)
    borrowers = cases.filter(Q(closed_on__isnull=True) | Q(closed_on__gte=start)).values(
        "borrower_id"
    )
    later = LoanState.objects.filter(loan_id=OuterRef("loan_id"), as_of=end).values("bucket")[:1]
    rows = (
        LoanState.objects.filter(as_of=start, loan__borrower_id__in=borrowers)
        .annotate(to_bucket=Subquery(later))
        .order_by()
        .values_list("bucket", "to_bucket")
        .annotate(n=Count("id"))
    )
    moves = {(frm, to or ""): n for frm, to, n in rows}
    buckets = sorted({b for pair in moves for b in pair if b}, key=bucket_key)
    return RollRates(start, end, buckets, moves)


def dashboard(team: Team, day: date) -> Dashboard:
    """Every figure of ``team``'s dashboard on business date ``day`` (about ten queries)."""
    cases = team_cases(team)
    run_as_of = latest_run()
    today, window = promise_figures(cases, day)
    return Dashboard(
        team=team,
        day=day,
        run_as_of=run_as_of,
        queue=queue_figures(cases),
        contacts=contacts_today(team, day),
        promises_today=today,
        promises_window=window,
        collected=collected(team, cases, day),
        roll=roll_rates(cases, run_as_of),
    )
