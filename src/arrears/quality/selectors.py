"""What the compliance pages read: the decision log, contact history and the scorecards.

Every query here is bounded and indexed: the decision log filters its own index
(``GateLogEntry``: outcome, channel, collector, overridden, each with the time; the rules in
``GateLogRule`` by rule), and a page of rows is one query with its joins. Access is checked by
the views with ``quality.access`` before any of this is read.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import CharField, Count, F, Q, QuerySet, Value
from django.db.models.functions import Cast

from arrears.collections.models import ContactAttempt
from arrears.contact.models import OutboxMessage
from arrears.ledger.models import Borrower
from arrears.quality import scorecard
from arrears.quality.models import ContactReview, GateLogEntry, GateLogRule
from arrears.quality.services import day_bounds


def _range(rows: QuerySet[Any], column: str, since: date | None, until: date | None) -> Any:
    if since is not None:
        rows = rows.filter(**{f"{column}__gte": day_bounds(since, since)[0]})
    if until is not None:
        rows = rows.filter(**{f"{column}__lt": day_bounds(until, until)[1]})
    return rows


def _users(username: str) -> QuerySet[Any]:
    return get_user_model().objects.filter(username=username).values("pk")


# ------------------------------------------------------------------------- the decision log


def _decision_filters(given: dict[str, Any], prefix: str = "") -> Q:
    """The log's filters as one condition on ``GateLogEntry`` (``prefix`` reaches it from a
    related model: ``entry__`` from ``GateLogRule``)."""
    where = Q()
    if given.get("outcome"):
        where &= Q(**{f"{prefix}outcome": given["outcome"]})
    if given.get("override") in ("yes", "no"):
        where &= Q(**{f"{prefix}overridden": given["override"] == "yes"})
    if given.get("rule"):
        where &= Q(**{f"{prefix}fired__rule": given["rule"]})
    if given.get("collector"):
        where &= Q(**{f"{prefix}collector_id__in": _users(given["collector"])})
    if given.get("channel"):
        where &= Q(**{f"{prefix}channel": given["channel"]})
    if given.get("date_from"):
        where &= Q(**{f"{prefix}at__gte": day_bounds(given["date_from"], given["date_from"])[0]})
    if given.get("date_to"):
        where &= Q(**{f"{prefix}at__lt": day_bounds(given["date_to"], given["date_to"])[1]})
    return where


def decision_log(given: dict[str, Any]) -> QuerySet[GateLogEntry]:
    """The decisions matching the filters (``forms.DecisionFilter``'s cleaned data), newest
    first, with everything a row shows joined in."""
    return (
        GateLogEntry.objects.filter(_decision_filters(given))
        .select_related("decision", "contact__phone", "message", "collector", "case__borrower")
        .order_by("-at", "-id")
    )


def rule_counts(given: dict[str, Any]) -> list[tuple[str, int]]:
    """How often each rule fired among the decisions matching the filters, most frequent
    first: one grouped query over the rules joined to their decisions (not an ``IN`` over the
    decisions' ids, which PostgreSQL reads in full; without filters, the rules alone)."""
    counted = (
        GateLogRule.objects.filter(_decision_filters(given, "entry__"))
        .values_list("rule")
        .annotate(n=Count("id"))
        .order_by("-n", "rule")
    )
    return [(str(rule), int(n)) for rule, n in counted]


def override_reason(entry: GateLogEntry) -> str:
    """The reason a collector gave for contacting against the gate ('' when none)."""
    if entry.contact is not None and entry.contact.override_reason:
        return str(entry.contact.override_reason)
    request = entry.decision.request if isinstance(entry.decision.request, dict) else {}
    return str(request.get("override_reason") or "")


# ------------------------------------------------------------------------ contact history

#: The columns both halves of the contact history select, in this order.
HISTORY_COLUMNS = ("h_kind", "h_id", "h_at", "h_channel", "h_result", "h_case", "h_who", "h_to")


def contact_history(given: dict[str, Any]) -> Any:
    """Logged contacts and sent messages matching the filters, newest first, as one query
    (a UNION ALL of the two, so a page is one slice of it) yielding ``HISTORY_COLUMNS``."""
    contacts = ContactAttempt.objects.all()
    messages = OutboxMessage.objects.filter(
        status__in=(OutboxMessage.Status.SENT, OutboxMessage.Status.DELIVERED),
        sent_at__isnull=False,
    )
    if given.get("loan"):
        contacts = contacts.filter(case__borrower__loans__ref=given["loan"])
        messages = messages.filter(borrower__loans__ref=given["loan"])
    if given.get("borrower"):
        text = given["borrower"]
        contacts = contacts.filter(case__borrower__in=_borrowers(text))
        messages = messages.filter(borrower__in=_borrowers(text))
    if given.get("collector"):
        contacts = contacts.filter(collector_id__in=_users(given["collector"]))
        messages = messages.none()  # a message is sent by the dispatcher, not a collector
    if given.get("channel"):
        contacts = contacts.filter(channel=given["channel"])
        messages = messages.filter(channel=given["channel"])
    result = given.get("outcome")
    if result in ("sent", "delivered"):
        contacts = contacts.none()
        messages = messages.filter(status=result)
    elif result:
        contacts = contacts.filter(outcome=result)
        messages = messages.none()
    contacts = _range(contacts, "at", given.get("date_from"), given.get("date_to"))
    messages = _range(messages, "sent_at", given.get("date_from"), given.get("date_to"))
    text = CharField()
    left = (
        contacts.order_by()
        .annotate(
            h_kind=Value("contact", output_field=text),
            h_id=F("id"),
            h_at=F("at"),
            h_channel=F("channel"),
            h_result=F("outcome"),
            h_case=F("case_id"),
            h_who=Cast("collector__username", text),
            h_to=Cast("phone__number", text),
        )
        .values_list(*HISTORY_COLUMNS)
    )
    right = (
        messages.order_by()
        .annotate(
            h_kind=Value("message", output_field=text),
            h_id=F("id"),
            h_at=F("sent_at"),
            h_channel=F("channel"),
            h_result=F("status"),
            h_case=F("case_id"),
            h_who=Value(None, output_field=text),
            h_to=F("to_address"),
        )
        .values_list(*HISTORY_COLUMNS)
    )
    return left.union(right, all=True).order_by("-h_at", "-h_id")


def _borrowers(text: str) -> QuerySet[Any]:
    """Borrowers by exact ref or by a part of the name."""
    return Borrower.objects.filter(Q(ref=text) | Q(name__icontains=text)).values("pk")


# --------------------------------------------------------------------------- the scorecard


@dataclass
class CollectorCard:
    """One collector's current reviews in a period."""

    collector_id: int | None
    username: str
    count: int = 0
    total: int = 0
    failed: Counter[str] = field(default_factory=Counter)

    @property
    def average(self) -> Decimal:
        """The mean score to one decimal, rounded half up (exact: integer sums, Decimal)."""
        if not self.count:
            return Decimal("0.0")
        return (Decimal(self.total) / Decimal(self.count)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )

    def failed_criteria(self) -> list[tuple[Any, int]]:
        """(criterion label, times failed), in scorecard order, failed ones only."""
        return [(c.label, self.failed[c.key]) for c in scorecard.CRITERIA if self.failed[c.key]]


def current_reviews() -> QuerySet[ContactReview]:
    """Reviews no later review corrected (the ones that count)."""
    return ContactReview.objects.filter(superseded_by__isnull=True)


def collector_scorecards(since: date | None, until: date | None) -> list[CollectorCard]:
    """Per collector: count, average and failed criteria of the current reviews of their
    contacts made in the period, lowest average first (one query, streamed)."""
    rows = _range(current_reviews(), "contact__at", since, until).values_list(
        "contact__collector_id", "contact__collector__username", "score", "answers"
    )
    cards: dict[int | None, CollectorCard] = {}
    for collector_id, username, points, answers in rows.iterator(chunk_size=2000):
        card = cards.get(collector_id)
        if card is None:
            card = cards[collector_id] = CollectorCard(collector_id, username or "")
        card.count += 1
        card.total += int(points)
        card.failed.update(scorecard.failed(answers or {}))
    return sorted(cards.values(), key=lambda c: (c.average, c.username))


def latest_reviews(contact_ids: list[int]) -> dict[int, ContactReview]:
    """The current review of each of ``contact_ids`` that has one (one query)."""
    found: dict[int, ContactReview] = {}
    for review in current_reviews().filter(contact_id__in=contact_ids).order_by("id"):
        found[review.contact_id] = review
    return found
