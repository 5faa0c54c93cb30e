"""Reads for the web pages: bucket summaries and lists from the stored daily state, queues,
and which concessions a user may see. Who may see which case is
:mod:`arrears.collections.selectors` (re-exported here for the pages)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from arrears import formfields
from arrears.collections.models import (
    Case,
    Collector,
    ContactAttempt,
    Hold,
    Promise,
    WorkItem,
)
from arrears.collections.selectors import collector_of, is_supervisor, visible_cases
from arrears.daily.models import DayRun, LoanState
from arrears.kernel.terms import DEFAULT_BUCKETS
from arrears.ledger.models import (
    Approval,
    Borrower,
    Loan,
    Phone,
    PlanInstalment,
    RepaymentPlan,
    Waiver,
)


def latest_run_date() -> date | None:
    run = DayRun.objects.filter(status__in=DayRun.FINISHED).order_by("-as_of").first()
    return run.as_of if run else None


def day_run_of(as_of: date) -> DayRun | None:
    """The run whose rows are the stored states of ``as_of``: its latest finished run."""
    return (
        DayRun.objects.filter(as_of=as_of, status__in=DayRun.FINISHED)
        .order_by("-started_at", "-id")
        .first()
    )


def bucket_summary(as_of: date) -> list[dict[str, object]]:
    """One row per bucket (in bucket order, empty buckets included) with counts and sums."""
    found = {
        row["bucket"]: row
        for row in LoanState.objects.filter(as_of=as_of)
        .values("bucket")
        .annotate(
            loans=Count("id"),
            total_due=Sum("total_due"),
            penalty=Sum("penalty_outstanding"),
            overdue_principal=Sum("overdue_principal"),
        )
    }
    known = [b.name for b in DEFAULT_BUCKETS]
    names = known + sorted(set(found) - set(known))
    return [
        found.get(
            name, {"bucket": name, "loans": 0, "total_due": 0, "penalty": 0, "overdue_principal": 0}
        )
        for name in names
    ]


def loans_in_bucket(as_of: date, bucket: str) -> QuerySet[LoanState]:
    return (
        LoanState.objects.filter(as_of=as_of, bucket=bucket)
        .select_related("loan", "loan__borrower")
        .order_by("-dpd", "-total_due", "loan__ref")
    )


# --- the collector workbench (issue 4) -----------------------------------------------------
#
# Who sees which case is decided here, once, so the queue and the case page cannot disagree:
# a page that lists a case the case page then refuses (or the reverse) is the classic leak.


def queue_collectors(user: Any) -> QuerySet[Collector]:
    """The collectors a supervisor may filter by and hand cases to (their team; all for a
    superuser). A plain collector gets none: they neither filter nor reassign."""
    if getattr(user, "is_superuser", False):
        return Collector.objects.select_related("user", "team")
    profile = collector_of(user)
    if not is_supervisor(profile):
        return Collector.objects.none()
    assert profile is not None
    return Collector.objects.filter(team_id=profile.team_id).select_related("user", "team")


def queue(
    user: Any, day: date, *, collector: str = "", filters: QueueFilters | None = None
) -> QuerySet[Case]:
    """The open cases of ``user``'s queue in work order (priority desc, then id).

    ``collector`` narrows a supervisor's view to one collector's id, or ``"none"`` for the
    unassigned cases. Each row carries ``pending_today`` (pending work due on or before
    ``day`` — yesterday's undone call is still today's work), ``last_contact_at`` and
    ``next_promise_due`` (the pending promise's date); all are subqueries, so the counts
    cannot multiply each other through a join. ``filters`` (already validated by the page)
    narrow and sort the queue; see :class:`QueueFilters`.
    """
    cases = visible_cases(user).filter(closed_on__isnull=True)
    if filters is not None:
        cases = _filtered(cases, filters, day)
    if collector == "none":
        cases = cases.filter(collector__isnull=True)
    elif collector:
        # an id that cannot exist (letters, 30 digits) is no such collector: an empty queue
        wanted = formfields.parse_id(collector)
        cases = cases.filter(collector_id=wanted) if wanted is not None else cases.none()
    pending = (
        WorkItem.objects.filter(
            case=OuterRef("pk"), status=WorkItem.Status.PENDING, due_on__lte=day
        )
        .order_by()
        .values("case")
        .annotate(n=Count("id"))
        .values("n")
    )
    last_contact = (
        ContactAttempt.objects.filter(case=OuterRef("pk")).order_by("-at", "-id").values("at")[:1]
    )
    promise_due = (
        Promise.objects.filter(case=OuterRef("pk"), status=Promise.Status.PENDING)
        .order_by("due_date", "id")
        .values("due_date")[:1]
    )
    rows = (
        cases.select_related("borrower", "collector__user")
        .prefetch_related(Prefetch("borrower__phones", queryset=Phone.objects.order_by("id")))
        .annotate(
            pending_today=Coalesce(Subquery(pending, output_field=IntegerField()), 0),
            last_contact_at=Subquery(last_contact),
            next_promise_due=Subquery(promise_due),
        )
    )
    return rows.order_by(*QUEUE_SORTS[filters.sort if filters else "priority"])


#: The queue's sort orders, each in the direction a collector works it: the highest priority,
#: the latest or the largest debt first; the longest without a contact first (never contacted
#: before all); the soonest promise first (cases without one last). ``id`` breaks ties, so
#: pages never overlap.
QUEUE_SORTS: dict[str, tuple[Any, ...]] = {
    "priority": ("-priority", "id"),
    "dpd": ("-dpd", "-priority", "id"),
    "total_due": ("-total_due_minor", "-priority", "id"),  # Case field
    "last_contact": (F("last_contact_at").asc(nulls_first=True), "-priority", "id"),
    "promise_due": (F("next_promise_due").asc(nulls_last=True), "-priority", "id"),
}


@dataclass(frozen=True)
class QueueFilters:
    """The queue's filters and sort, already validated (``arrears.web.queueview`` parses them
    from the query string). Empty means "any"."""

    bucket: str = ""
    stage: str = ""
    status: str = ""
    #: ``today``: a pending promise falls due on the business date; ``overdue``: before it.
    promise: str = ""
    dpd_min: int | None = None
    dpd_max: int | None = None
    #: At least this many days without a contact (a never-contacted case always qualifies).
    idle_days: int | None = None
    sort: str = "priority"


def _filtered(cases: QuerySet[Case], filters: QueueFilters, day: date) -> QuerySet[Case]:
    """Narrow ``cases`` by ``filters``; every condition is on the case row or an ``EXISTS`` on
    an indexed foreign key, so a filter never multiplies rows."""
    if filters.bucket:
        cases = cases.filter(bucket=filters.bucket)
    if filters.stage:
        cases = cases.filter(stage=filters.stage)
    if filters.status:
        cases = cases.filter(status=filters.status)
    if filters.dpd_min is not None:
        cases = cases.filter(dpd__gte=filters.dpd_min)
    if filters.dpd_max is not None:
        cases = cases.filter(dpd__lte=filters.dpd_max)
    if filters.promise:
        pending = Promise.objects.filter(case=OuterRef("pk"), status=Promise.Status.PENDING)
        if filters.promise == "today":
            pending = pending.filter(due_date=day)
        else:
            pending = pending.filter(due_date__lt=day)
        cases = cases.filter(Exists(pending))
    if filters.idle_days:
        # "N days without a contact": nothing since the start of the day N-1 days back
        since = day_start(day - timedelta(days=filters.idle_days - 1))
        recent = ContactAttempt.objects.filter(case=OuterRef("pk"), at__gte=since)
        cases = cases.filter(~Exists(recent))
    return cases


def day_start(day: date) -> datetime:
    """Midnight starting ``day`` in the site's time zone (the business date is a local date)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def borrower_loans(borrower_id: int) -> list[Loan]:
    """The borrower's loans, each with ``latest`` — its most recent stored daily state (or
    ``None`` before the first run)."""
    return with_latest_states(
        list(Loan.objects.filter(borrower_id=borrower_id).select_related("product"))
    )


def with_latest_states(loans: list[Loan]) -> list[Loan]:
    """``loans``, each given ``latest``: its most recent stored daily state, or ``None``."""
    states = latest_states(loans)
    for loan in loans:
        loan.latest = states.get(loan.pk)
    return loans


def latest_states(loans: list[Loan], up_to: date | None = None) -> dict[int, LoanState]:
    """Each loan's most recent stored daily state (on or before ``up_to``, if given), by loan
    id; a loan with none is absent. One query for all the loans (a state is unique per loan
    and day), not one a loan."""
    if not loans:
        return {}
    rows = LoanState.objects.filter(loan_id__in=[loan.pk for loan in loans])
    if up_to is not None:
        rows = rows.filter(as_of__lte=up_to)
    newest = rows.filter(loan_id=OuterRef("loan_id")).order_by("-as_of").values("as_of")[:1]
    return {state.loan_id: state for state in rows.filter(as_of=Subquery(newest))}


# --- concessions: waivers and repayment plans (issue W2) -----------------------------------
#
# A concession is visible exactly when its borrower has a case the user may open, so the
# approvals page can never list an item whose case page would then answer 404.


def is_approver(user: Any) -> bool:
    """Who may open the approvals page: team leads, managers and superusers. Whether a given
    approval is within their limits is the service's decision, not the page's."""
    return bool(getattr(user, "is_superuser", False) or is_supervisor(collector_of(user)))


def visible_waivers(user: Any) -> QuerySet[Waiver]:
    """Every waiver on the loans of borrowers whose cases ``user`` may open (all for a
    superuser, including borrowers without a case)."""
    rows = Waiver.objects.select_related("loan", "requested_by")
    if getattr(user, "is_superuser", False):
        return rows
    return rows.filter(loan__borrower_id__in=visible_cases(user).values("borrower_id"))


def visible_plans(user: Any) -> QuerySet[RepaymentPlan]:
    """Every repayment plan on the loans of borrowers whose cases ``user`` may open."""
    rows = RepaymentPlan.objects.select_related("loan", "proposed_by").prefetch_related(
        Prefetch("instalments", queryset=PlanInstalment.objects.order_by("seq"))
    )
    if getattr(user, "is_superuser", False):
        return rows
    return rows.filter(loan__borrower_id__in=visible_cases(user).values("borrower_id"))


def case_of_borrowers(user: Any, borrower_ids: set[int]) -> dict[int, int]:
    """For each borrower, the case ``user`` should be sent to: the open one if there is one,
    else the latest closed one. Borrowers without a visible case are left out."""
    found: dict[int, int] = {}
    rows = (
        visible_cases(user)
        .filter(borrower_id__in=borrower_ids)
        .order_by("borrower_id", "-opened_on", "-id")
        .values_list("borrower_id", "id", "closed_on")
    )
    for borrower_id, case_id, closed_on in rows:
        if closed_on is None:
            found[borrower_id] = case_id  # the open case wins (there is at most one)
        else:
            found.setdefault(borrower_id, case_id)
    return found


# --- the workbench search (issue 13) ---------------------------------------------------------
#
# Every term is an indexed lookup: a reference or a name by prefix (a btree range, which both
# SQLite and PostgreSQL answer from the index), a phone or ID suffix through the database-kept
# four-character tails (``Phone.number_tail``, ``Borrower.national_id_tail``, both indexed),
# where the full suffix is then checked on the few rows the tail matched.

#: Results per kind; a search is a way in, not a report.
SEARCH_LIMIT = 50
#: Digits (or an ID's trailing X) a suffix search needs: the tails are four characters.
SUFFIX_MIN = 4


@dataclass(frozen=True)
class SearchTerms:
    """What one typed query is compared with: ``text`` with refs and names, ``digits`` (the
    query without spaces, dashes, brackets and ``+``) with phone suffixes and ``id_suffix`` (upper
    case) with national-ID suffixes, each only when it is long enough to mean one."""

    text: str
    digits: str = ""
    id_suffix: str = ""

    @classmethod
    def of(cls, query: str) -> SearchTerms:
        text = query.strip()
        # NFKC: the full-width digits a Chinese input method types are the ASCII ones
        compact = "".join(
            ch for ch in unicodedata.normalize("NFKC", text) if ch not in " -()+\u3000"
        )
        digits = compact if compact.isascii() and compact.isdigit() else ""
        digits = digits if len(digits) >= SUFFIX_MIN else ""
        upper = compact.upper()
        id_like = (
            upper.isascii()
            and len(upper) >= SUFFIX_MIN
            and upper[:-1].isdigit()
            and (upper[-1].isdigit() or upper[-1] == "X")
        )
        return cls(text=text, digits=digits, id_suffix=upper if id_like else "")


def _prefix(field: str, text: str) -> Q:
    """``field`` starts with ``text``, in the form the backend's index answers.

    PostgreSQL: ``LIKE 'text%'``, which the ``varchar_pattern_ops`` indexes answer (Django adds
    one to every unique or indexed text column; ``Borrower.name`` has its own) under any
    collation. SQLite's ``LIKE`` is case-blind and reads the whole table, so there the prefix
    is also a btree range (``>= text`` and ``< text + U+10FFFF``), with the ``LIKE`` kept to
    stay exact; that range is only safe on SQLite's binary order, hence the two forms."""
    starts = Q(**{f"{field}__startswith": text})
    if connection.vendor != "sqlite":
        return starts
    return Q(**{f"{field}__gte": text, f"{field}__lt": text + "\U0010ffff"}) & starts


def matching_borrower_ids(terms: SearchTerms, *, loan_refs: bool = True) -> QuerySet[Any]:
    """The ids of borrowers whose ref or name starts with the text, whose phone or national ID
    ends with the digits, or (``loan_refs``) who have a loan whose ref starts with the text.

    A ``UNION`` of one indexed lookup per term, used as a subquery: an ``OR`` of the same terms
    would make PostgreSQL give up the indexes for a scan of the borrowers (a hashed ``IN``
    inside an ``OR`` cannot use one)."""
    parts: list[QuerySet[Any]] = [
        Borrower.objects.filter(_prefix("ref", terms.text)).values_list("pk").order_by(),
        Borrower.objects.filter(_prefix("name", terms.text)).values_list("pk").order_by(),
    ]
    if loan_refs:
        parts.append(
            Loan.objects.filter(_prefix("ref", terms.text)).values_list("borrower_id").order_by()
        )
    if terms.digits:
        parts.append(
            Phone.objects.filter(
                number_tail=terms.digits[-SUFFIX_MIN:], number__endswith=terms.digits
            )
            .values_list("borrower_id")
            .order_by()
        )
    if terms.id_suffix:
        parts.append(
            Borrower.objects.filter(
                national_id_tail=terms.id_suffix[-SUFFIX_MIN:],
                national_id__endswith=terms.id_suffix,
            )
            .values_list("pk")
            .order_by()
        )
    return parts[0].union(*parts[1:]).order_by()


def search_cases(user: Any, terms: SearchTerms) -> QuerySet[Case]:
    """The cases ``user`` may open whose borrower matches (see :func:`matching_borrower_ids`):
    open cases first, then by priority."""
    return (
        visible_cases(user)
        .filter(borrower_id__in=matching_borrower_ids(terms))
        .select_related("borrower", "collector__user")
        .prefetch_related(Prefetch("borrower__phones", queryset=Phone.objects.order_by("id")))
        .order_by(F("closed_on").desc(nulls_first=True), "-priority", "id")
    )


def may_search_loans(user: Any) -> bool:
    """Back-office staff who may read the ledger also find loans without a case (the explain
    page is theirs); a collector finds cases only."""
    return bool(
        getattr(user, "is_superuser", False)
        or (getattr(user, "is_staff", False) and user.has_perm("ledger.view_loan"))
    )


def search_loans(user: Any, terms: SearchTerms) -> QuerySet[Loan]:
    """Loans whose ref starts with the text or whose borrower matches (none for a user who may
    not search loans)."""
    if not may_search_loans(user):
        return Loan.objects.none()
    by_ref = Loan.objects.filter(_prefix("ref", terms.text)).values_list("pk").order_by()
    by_borrower = (
        Loan.objects.filter(borrower_id__in=matching_borrower_ids(terms, loan_refs=False))
        .values_list("pk")
        .order_by()
    )
    return (
        Loan.objects.filter(pk__in=by_ref.union(by_borrower).order_by())
        .select_related("borrower")
        .prefetch_related(Prefetch("borrower__phones", queryset=Phone.objects.order_by("id")))
        .order_by("ref")
    )


# --- "today" (issue 13) ----------------------------------------------------------------------


def today_lists(user: Any, day: date) -> dict[str, Any]:
    """What falls on ``day`` for the open cases ``user`` may open: callbacks the borrower asked
    for (a contact whose consent window starts that day), pending promises due, instalments of
    approved repayment plans due, and holds whose last day it is (not released)."""
    cases = visible_cases(user).filter(closed_on__isnull=True)
    borrowers = cases.values("borrower_id")
    start, end = day_start(day), day_start(day + timedelta(days=1))
    return {
        "callbacks": ContactAttempt.objects.filter(
            case__in=cases, consent_starts__gte=start, consent_starts__lt=end
        )
        .select_related("case__borrower", "phone", "collector")
        .order_by("consent_starts", "id")[: SEARCH_LIMIT * 4],
        "promises": Promise.objects.filter(
            case__in=cases, status=Promise.Status.PENDING, due_date=day
        )
        .select_related("case__borrower")
        .order_by("case_id", "id")[: SEARCH_LIMIT * 4],
        "instalments": PlanInstalment.objects.filter(
            due_date=day,
            plan__status=Approval.APPROVED,
            plan__loan__borrower_id__in=borrowers,
        )
        .select_related("plan__loan__borrower")
        .order_by("plan__loan__ref", "seq")[: SEARCH_LIMIT * 4],
        "holds": Hold.objects.filter(
            ends_on=day, released_on__isnull=True, borrower_id__in=borrowers
        )
        .select_related("borrower", "loan")
        .order_by("borrower__ref", "id")[: SEARCH_LIMIT * 4],
    }
