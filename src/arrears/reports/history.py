"""The event history as it stood at the end of a day: the readers the event reports share.

Every reader takes ``as_of`` and returns a Polars frame of what had been *recorded* by the end
of that day (``params.end_of_day``, midnight after it in the project's time zone), read with
``values()`` in one or two queries and shaped in Polars — never a query per row. A row counts
when both hold:

* what it is about happened by then (its event time or business date ≤ ``as_of``), and
* it was recorded by then. Case events carry their recording instant (``at``); placements,
  payments, work items, contact attempts, gate decisions, complaints and promises theirs
  (``created_at``) beside the time of what they record — a contact logged today may say it
  happened last week (:func:`_recorded`); a promise also by its creation event.

The same holds for what changes a row later, since a later change may be back-dated: a
payment's reversal counts by its ``reversed_at`` (:func:`reversal_known`), a placement's
recall and a promise's cancellation by the case event each writes (``placement …:recalled``,
``promise`` → ``cancelled``), a collector's team by the moves recorded in
``collections.TeamMembership`` (:func:`teams`, :func:`attribute`).

Outcomes are derived, never read from mutable status fields whose history is not kept:
a promise is kept, partly kept, broken or still pending as of D from the payments recorded by
D (the daily run's rule, ``collections.workflow.judge_promises``); a case is closed as of D by
its ``closed`` event recorded by D; a complaint's root cause counts once it was resolved by D.
What has no recorded history (a case's arm, a complaint's links) is read as it is now; see
``docs/reports.md``, "Event reports".

Names, never numbers: collectors appear by username and agencies by code; no phone number,
address or identity number is read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any

import polars as pl
from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from arrears.reports.params import end_of_day

#: Contact outcomes that reached the borrower or someone answering for the debt (本人接通):
#: ``collections.frames.REACHED``.
RIGHT_PARTY = ("rpc", "promise", "refused", "dispute", "hardship", "callback")
#: The parties whose reach is a right-party contact.
RIGHT_PARTIES = ("borrower", "co_borrower")
#: A promise's outcome as of a day.
KEPT, PARTIAL, BROKEN, CANCELLED, PENDING = (
    "kept",
    "partially_kept",
    "broken",
    "cancelled",
    "pending",
)
#: The label of a row without a collector, team or agency.
NOBODY = "—"

_PROMISE_ID = re.compile(r"^promise #(\d+)")
_RECALL_KEY = re.compile(r":placement:(\d+):recalled$")
#: Before any recorded team move: the instant a membership without ``since`` is in force from.
_EVER = datetime(1970, 1, 1, tzinfo=UTC)


def start_of_day(day: date) -> datetime:
    """The first instant of ``day`` in the project's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def _read(rows: Any, schema: dict[str, Any]) -> pl.DataFrame:
    """A ``values_list()`` queryset's rows straight from the database cursor into a frame of
    ``schema`` (its names in the queryset's order), without the ORM's per-value converters:
    at hundreds of thousands of contacts, making each date-time aware costs a third of the
    read, and Polars sets a column's zone at once. Django's SQLite connection already turns
    date-times into naive (UTC) datetimes, dates into dates and booleans into bools; PostgreSQL
    gives aware datetimes. A JSON column is text on SQLite and decoded values on PostgreSQL:
    :func:`_json_ids` and :func:`_json_scalar` take either."""
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        data = cursor.fetchall()
    if connection.vendor != "sqlite":  # Django reads jsonb as text here too
        loose = {n: (pl.String if t == JSON else t) for n, t in schema.items()}
        return pl.DataFrame(data, schema=loose, orient="row", strict=False)
    raw = {
        n: (pl.String if t == JSON else pl.Datetime("us") if isinstance(t, pl.Datetime) else t)
        for n, t in schema.items()
    }
    frame = pl.DataFrame(data, schema=raw, orient="row", strict=False)
    zoned = [
        pl.col(n).dt.replace_time_zone("UTC")
        for n, t in schema.items()
        if isinstance(t, pl.Datetime)
    ]
    return frame.with_columns(zoned) if zoned else frame


#: A JSON column in a :func:`_read` schema (read as its JSON text).
JSON = pl.Object


def _json_ids(column: pl.Series) -> pl.Series:
    """The ``id`` of each object in each list of a JSON column read by :func:`_read`."""
    return column.str.json_decode(pl.List(pl.Struct({"id": pl.String}))).list.eval(
        pl.element().struct.field("id")
    )


def _local_day(column: str) -> pl.Expr:
    """An aware (UTC) datetime column as the project's local date."""
    return pl.col(column).dt.convert_time_zone(settings.TIME_ZONE).dt.date()


def _recorded(as_of: date) -> Q:
    """Rows recorded (``created_at``) before the end of ``as_of``. A row from before the
    column, that the audit chain gave no instant for (the migrations that added it took the
    ``<model>.created`` entry's), has none and is read by its own time."""
    return Q(created_at__isnull=True) | Q(created_at__lt=end_of_day(as_of))


def _drop_late(frame: pl.DataFrame, column: str, late: list[int]) -> pl.DataFrame:
    if not late:
        return frame
    return frame.filter(~pl.col(column).is_in(late))


# ------------------------------------------------------------------------------------------
# cases, case events, assignments, placements


EVENT_SCHEMA = {
    "case_id": pl.Int64,
    "on": pl.Date,
    "at": pl.Datetime("us", "UTC"),
    "kind": pl.String,
    "from_value": pl.String,
    "to_value": pl.String,
}


def case_events(as_of: date, kinds: Iterable[str] | None = None) -> pl.DataFrame:
    """Case events dated by ``as_of`` and recorded by its end, in order."""
    from arrears.collections.models import CaseEvent

    rows = CaseEvent.objects.filter(on__lte=as_of, at__lt=end_of_day(as_of))
    if kinds is not None:
        rows = rows.filter(kind__in=list(kinds))
    return _read(rows.order_by("on", "id").values_list(*EVENT_SCHEMA), EVENT_SCHEMA)


CASE_SCHEMA = {
    "case_id": pl.Int64,
    "borrower_id": pl.Int64,
    "currency": pl.String,
    "variant": pl.String,
    "opened_on": pl.Date,
    "resolution": pl.String,
}


def cases(as_of: date) -> pl.DataFrame:
    """Every case opened by ``as_of`` (its ``opened`` event, when it has one, recorded by
    then), with ``closed_on``/``closed_as`` from its ``closed`` event recorded by then (null:
    open as of ``as_of``) and the resolution (``cured``/``paid``) of a case closed by then."""
    from arrears.collections.models import Case, CaseEvent

    cut = end_of_day(as_of)
    found = _read(
        Case.objects.filter(opened_on__lte=as_of).values_list(
            "id", "borrower_id", "currency", "variant", "opened_on", "resolution"
        ),
        CASE_SCHEMA,
    )
    late_opened = list(
        CaseEvent.objects.filter(kind=CaseEvent.Kind.OPENED, at__gte=cut).values_list(
            "case_id", flat=True
        )
    )
    found = _drop_late(found, "case_id", late_opened)
    closed = (
        case_events(as_of, [CaseEvent.Kind.CLOSED])
        .group_by("case_id")
        .agg(pl.col("on").last().alias("closed_on"), pl.col("to_value").last().alias("closed_as"))
    )
    return found.join(closed, on="case_id", how="left").with_columns(
        pl.when(pl.col("closed_on").is_null())
        .then(pl.lit(""))
        .otherwise(pl.col("resolution"))
        .alias("resolution")
    )


def open_cases(as_of: date, first: date, last: date) -> pl.DataFrame:
    """The cases open at some time from ``first`` to ``last``, as known at the end of
    ``as_of`` (:func:`cases`)."""
    return cases(as_of).filter(
        (pl.col("opened_on") <= last)
        & (pl.col("closed_on").is_null() | (pl.col("closed_on") >= first))
    )


def assignments(as_of: date) -> pl.DataFrame:
    """Who held each case from when: its ``assigned`` events recorded by the end of
    ``as_of`` (``collector`` the username, empty when it went back to the pool)."""
    from arrears.collections.models import CaseEvent

    return (
        case_events(as_of, [CaseEvent.Kind.ASSIGNED])
        .select("case_id", "on", "at", pl.col("to_value").alias("collector"))
        .sort("case_id", "on", "at")
    )


def holder_on(frame: pl.DataFrame, held: pl.DataFrame, day: str = "day") -> pl.DataFrame:
    """``frame`` (``case_id`` and a date column ``day``) with ``holder``: the collector who
    held the case at the end of that day by ``held`` (:func:`assignments`), ``""`` if nobody."""
    last = held.group_by("case_id", "on", maintain_order=True).agg(pl.col("collector").last())
    out = (
        frame.with_row_index("_row")
        .sort(day)
        .join_asof(
            last.sort("on"),
            left_on=day,
            right_on="on",
            by="case_id",
            strategy="backward",
            check_sortedness=False,
        )
        .sort("_row")
        .drop("_row", "on")
    )
    return out.rename({"collector": "holder"}).with_columns(pl.col("holder").fill_null(""))


TEAM_SCHEMA = {"username": pl.String, "team": pl.String, "since": pl.Datetime("us", "UTC")}


def teams(as_of: date) -> pl.DataFrame:
    """Each collector's team (code) from ``since`` on: the moves recorded
    (``collections.TeamMembership``) by the end of ``as_of``, in order, ``since`` of a team
    held from before any record filled with the distant past. A collector with no move recorded
    by then (created later) gets their first recorded team from the distant past, and one with
    no recorded move at all (written around ``Collector.save``) their current team: the only
    two readings of the present, neither changing once a collector exists."""
    from arrears.collections.models import Collector, TeamMembership

    cut = end_of_day(as_of)
    moves = _read(
        TeamMembership.objects.order_by("collector_id", "id").values_list(
            "collector__user__username", "team__code", "since"
        ),
        TEAM_SCHEMA,
    ).with_columns(pl.col("since").fill_null(_EVER))
    utc_cut = pl.lit(cut).dt.convert_time_zone("UTC")
    known = moves.filter(pl.col("since") < utc_cut)
    first = (
        moves.group_by("username", maintain_order=True)
        .first()
        .join(known.select("username").unique(), on="username", how="anti")
        .with_columns(pl.lit(_EVER).dt.convert_time_zone("UTC").alias("since"))
    )
    current = _read(
        Collector.objects.filter(memberships__isnull=True).values_list(
            "user__username", "team__code"
        ),
        {"username": pl.String, "team": pl.String},
    ).with_columns(pl.lit(_EVER).dt.convert_time_zone("UTC").alias("since"))
    return pl.concat([known, first, current.select(*TEAM_SCHEMA)]).sort("username", "since")


def team_on(
    frame: pl.DataFrame, moves: pl.DataFrame, as_of: date, *, day: str, person: str
) -> pl.Series:
    """The team (code) of the collector ``person`` of each row of ``frame`` at the end of its
    ``day`` (at most ``as_of``) by ``moves`` (:func:`teams`); :data:`NOBODY` where none."""
    midnight = (pl.min_horizontal(pl.col(day), pl.lit(as_of)) + pl.duration(days=1)).cast(
        pl.Datetime("us")
    )
    rows = frame.select(pl.col(person).alias("username"), pl.col(day)).with_columns(
        midnight.dt.replace_time_zone(settings.TIME_ZONE, ambiguous="earliest")
        .dt.convert_time_zone("UTC")
        .alias("_until"),
    )
    found = (
        rows.with_row_index("_row")
        .sort("_until")
        .join_asof(
            moves.sort("since"),
            left_on="_until",
            right_on="since",
            by="username",
            strategy="backward",
            allow_exact_matches=False,
            check_sortedness=False,
        )
        .sort("_row")
    )
    return found["team"].fill_null(NOBODY)


PLACEMENT_SCHEMA = {
    "placement_id": pl.Int64,
    "case_id": pl.Int64,
    "agency": pl.String,
    "placed_on": pl.Date,
    "ends_on": pl.Date,
    "recalled_on": pl.Date,
}


def placements(as_of: date) -> pl.DataFrame:
    """Placements made by ``as_of`` and recorded by its end; ``recalled_on`` only when the
    recall was on or before ``as_of`` and recorded by its end (its ``placement`` case event,
    ``agencies.placement.recall_now``'s): a later recall, or one back-dated but recorded
    later, leaves the case placed as of then."""
    from arrears.agencies.models import Placement
    from arrears.collections.models import CaseEvent

    cut = end_of_day(as_of)
    rows = Placement.objects.filter(placed_on__lte=as_of, created_at__lt=cut)
    found = pl.DataFrame(
        list(
            rows.values_list("id", "case_id", "agency__code", "placed_on", "ends_on", "recalled_on")
        ),
        schema=PLACEMENT_SCHEMA,
        orient="row",
    )
    late = [
        int(match.group(1))
        for key in CaseEvent.objects.filter(
            kind=CaseEvent.Kind.PLACEMENT, key__endswith=":recalled", at__gte=cut
        ).values_list("key", flat=True)
        if (match := _RECALL_KEY.search(key or ""))
    ]
    known = (pl.col("recalled_on") <= as_of) & ~pl.col("placement_id").is_in(late)
    return found.with_columns(pl.when(known).then(pl.col("recalled_on")).alias("recalled_on"))


def agency_on(frame: pl.DataFrame, placed: pl.DataFrame, day: str = "day") -> pl.DataFrame:
    """``frame`` (``case_id``, date ``day``) with ``placed_with``: the agency the case was
    placed with on that day (placed on or before it, term not over, not recalled by then),
    ``""`` if none. At most one placement of a case is live at once."""
    live = (
        frame.with_row_index("_row")
        .select("_row", "case_id", day)
        .join(placed, on="case_id", how="inner")
        .filter(
            (pl.col("placed_on") <= pl.col(day))
            & (pl.col(day) <= pl.col("ends_on"))
            & (pl.col("recalled_on").is_null() | (pl.col(day) < pl.col("recalled_on")))
        )
        .group_by("_row")
        .agg(pl.col("agency").last().alias("placed_with"))
    )
    return (
        frame.with_row_index("_row")
        .join(live, on="_row", how="left")
        .sort("_row")
        .drop("_row")
        .with_columns(pl.col("placed_with").fill_null(""))
    )


# ------------------------------------------------------------------------------------------
# payments and promises


PAYMENT_SCHEMA = {
    "borrower_id": pl.Int64,
    "value_date": pl.Date,
    "amount": pl.Int64,
    "currency": pl.String,
}


def reversal_known(as_of: date) -> Q:
    """A payment (or waiver) reversed on or before ``as_of`` by a reversal recorded by the end
    of ``as_of``: ``reversed_at`` before the cut-off. A reversal without ``reversed_at`` (one
    recorded before the column existed that the audit chain did not give an instant for) is
    read as recorded at the start of its ``reversed_on``, as it always was."""
    return Q(reversed_on__lte=as_of) & (
        Q(reversed_at__isnull=True) | Q(reversed_at__lt=end_of_day(as_of))
    )


def payments(as_of: date, first: date | None = None) -> pl.DataFrame:
    """Payments with value dates from ``first`` to ``as_of``, recorded by the end of
    ``as_of`` and not reversed by then (:func:`reversal_known`), per borrower."""
    from arrears.ledger.models import Payment

    rows = Payment.objects.filter(value_date__lte=as_of, created_at__lt=end_of_day(as_of))
    if first is not None:
        rows = rows.filter(value_date__gte=first)
    rows = rows.exclude(reversal_known(as_of))
    return pl.DataFrame(
        list(rows.values_list("loan__borrower_id", "value_date", "amount_minor", "currency")),
        schema=PAYMENT_SCHEMA,
        orient="row",
    )


PROMISE_SCHEMA = {
    "promise_id": pl.Int64,
    "case_id": pl.Int64,
    "borrower_id": pl.Int64,
    "currency": pl.String,
    "amount": pl.Int64,
    "tolerance": pl.Int64,
    "made_on": pl.Date,
    "due_date": pl.Date,
    "status": pl.String,
    "resolved_on": pl.Date,
    "made_by": pl.String,
    "agency": pl.String,
}


def promises(as_of: date) -> pl.DataFrame:
    """Promises made by ``as_of`` and recorded by its end, each with ``deadline`` (due date
    plus the grace), ``paid`` (the borrower's payments in the promise's currency from the day
    it was made to the deadline, as known on ``as_of``) and ``outcome`` as of ``as_of``:
    ``cancelled`` (replaced by a newer promise by ``as_of``, before its deadline, and the
    replacement's ``cancelled`` case event recorded by the end of ``as_of``), else
    ``kept`` once paid reaches the amount less the tolerance, ``pending`` up to the deadline,
    then ``partially_kept`` or ``broken`` —
    ``collections.workflow.judge_promises``'s rule."""
    from arrears.collections.models import CaseEvent, Promise
    from arrears.collections.workflow import promise_grace_days

    cut = end_of_day(as_of)
    rows = Promise.objects.filter(_recorded(as_of), made_on__lte=as_of).values_list(
        "id",
        "case_id",
        "case__borrower_id",
        "case__currency",
        "amount_minor",
        "tolerance_minor",
        "made_on",
        "due_date",
        "status",
        "resolved_on",
        "made_by__username",
        "agency__code",
    )
    found = pl.DataFrame(list(rows), schema=PROMISE_SCHEMA, orient="row")
    created_late: list[int] = []
    cancelled_late: list[int] = []
    for before, cause in CaseEvent.objects.filter(
        Q(from_value="") | Q(to_value=CANCELLED), kind=CaseEvent.Kind.PROMISE, at__gte=cut
    ).values_list("from_value", "cause"):
        if match := _PROMISE_ID.match(cause):
            late = created_late if before == "" else cancelled_late
            late.append(int(match.group(1)))
    found = _drop_late(found, "promise_id", created_late)
    grace = promise_grace_days()
    found = found.with_columns(
        (pl.col("due_date") + pl.duration(days=grace)).alias("deadline"),
        pl.col("made_by").fill_null(""),
        pl.col("agency").fill_null(""),
    )
    if found.is_empty():
        return found.with_columns(
            pl.lit(0, pl.Int64).alias("paid"), pl.lit("", pl.String).alias("outcome")
        )
    first = found["made_on"].min()
    assert isinstance(first, date)
    cash = payments(as_of, first)
    paid = (
        found.select("promise_id", "borrower_id", "currency", "made_on", "deadline")
        .join(cash, on=["borrower_id", "currency"], how="inner")
        .filter(
            (pl.col("value_date") >= pl.col("made_on"))
            & (pl.col("value_date") <= pl.col("deadline"))
        )
        .group_by("promise_id")
        .agg(pl.col("amount").sum().alias("paid"))
    )
    found = found.join(paid, on="promise_id", how="left").with_columns(
        pl.col("paid").fill_null(0).cast(pl.Int64)
    )
    # replaced by a newer promise while it still ran; one replaced after its deadline (no
    # daily run had judged it) is judged like any other
    cancelled = (
        (pl.col("status") == CANCELLED)
        & (pl.col("resolved_on") <= pl.min_horizontal(pl.lit(as_of), pl.col("deadline")))
        & ~pl.col("promise_id").is_in(cancelled_late)
    )
    kept = pl.col("paid") >= pl.col("amount") - pl.col("tolerance")
    outcome = (
        pl.when(cancelled)
        .then(pl.lit(CANCELLED))
        .when(kept)
        .then(pl.lit(KEPT))
        .when(pl.col("deadline") >= as_of)
        .then(pl.lit(PENDING))
        .when(pl.col("paid") > 0)
        .then(pl.lit(PARTIAL))
        .otherwise(pl.lit(BROKEN))
    )
    return found.with_columns(outcome.alias("outcome")).drop("status", "resolved_on")


# ------------------------------------------------------------------------------------------
# contacts, gate decisions, complaints


CONTACT_SCHEMA = {
    "contact_id": pl.Int64,
    "case_id": pl.Int64,
    "at": pl.Datetime("us", "UTC"),
    "channel": pl.String,
    "direction": pl.String,
    "party": pl.String,
    "outcome": pl.String,
    "collector": pl.String,
    "agency": pl.String,
    "gate_outcome": pl.String,
    "overridden": pl.Boolean,
}


def contacts(
    as_of: date, first: date, last: date, *, overridden_only: bool = False
) -> pl.DataFrame:
    """Contact attempts made on local days ``first``..``last`` and recorded by the end of
    ``as_of``, with ``day`` (local) and ``right_party`` (reached the borrower or a
    co-borrower: :data:`RIGHT_PARTY` outcomes); ``overridden_only``: only those logged against
    the gate."""
    from arrears.collections.models import ContactAttempt

    rows = ContactAttempt.objects.filter(
        _recorded(as_of),
        at__gte=start_of_day(first),
        at__lt=min(end_of_day(last), end_of_day(as_of)),
    )
    if overridden_only:
        rows = rows.filter(overridden=True)
    rows = rows.values_list(
        "id",
        "case_id",
        "at",
        "channel",
        "direction",
        "party",
        "outcome",
        "collector__username",
        "agency__code",
        "gate_outcome",
        "overridden",
    )
    found = _read(rows, CONTACT_SCHEMA)
    return found.with_columns(
        _local_day("at").alias("day"),
        pl.col("collector").fill_null(""),
        pl.col("agency").fill_null(""),
        (pl.col("outcome").is_in(RIGHT_PARTY) & pl.col("party").is_in(RIGHT_PARTIES)).alias(
            "right_party"
        ),
    )


GATE_SCHEMA = {
    "decision_id": pl.Int64,
    "at": pl.Datetime("us", "UTC"),
    "outcome": pl.String,
    "pack": pl.String,
    "message_id": pl.Int64,
    "channel": pl.String,
    "overridden": pl.Boolean,
    "rules": pl.List(pl.String),
}


GATE_READ = GATE_SCHEMA | {"channel": JSON, "overridden": JSON, "rules": JSON}


def _json_scalar(column: pl.Series) -> pl.Series:
    """A JSON key's value read by :func:`_read` as text: bare on SQLite (``JSON_EXTRACT``:
    ``voice``, ``1``), JSON on PostgreSQL (``"voice"``, ``true``)."""
    return column.str.strip_chars('"')


def gate_decisions(as_of: date, first: date, last: date) -> pl.DataFrame:
    """The gate's answers given on local days ``first``..``last`` and recorded by the end of
    ``as_of``: ``outcome`` (allow, defer, deny), ``channel``, the ids of the rules that fired
    (``rules``), ``overridden`` (a contact logged against the gate) and ``source`` (``outbox``
    for a message's dispatch, ``contact`` for a logged contact)."""
    from arrears.contact.models import GateDecision

    rows = GateDecision.objects.filter(
        _recorded(as_of),
        at__gte=start_of_day(first),
        at__lt=min(end_of_day(last), end_of_day(as_of)),
    ).values_list(
        "id",
        "at",
        "outcome",
        "pack",
        "message_id",
        "request__channel",
        "request__overridden",
        "rules",
    )
    found = _read(rows, GATE_READ)
    found = found.with_columns(
        _json_scalar(found["channel"]).fill_null("").alias("channel"),
        _json_scalar(found["overridden"]).is_in(["1", "true", "True"]).alias("overridden"),
        _json_ids(found["rules"]).alias("rules"),
    ).select(*GATE_SCHEMA)
    return found.with_columns(
        _local_day("at").alias("day"),
        pl.when(pl.col("message_id").is_null())
        .then(pl.lit("contact"))
        .otherwise(pl.lit("outbox"))
        .alias("source"),
    )


COMPLAINT_SCHEMA = {
    "complaint_id": pl.Int64,
    "case_id": pl.Int64,
    "received_at": pl.Datetime("us", "UTC"),
    "kind": pl.String,
    "category": pl.String,
    "root_cause": pl.String,
    "resolved_at": pl.Datetime("us", "UTC"),
    "upheld": pl.Boolean,
}


def complaints(as_of: date, first: date, last: date) -> pl.DataFrame:
    """Complaints and disputes received on local days ``first``..``last`` and recorded by the
    end of ``as_of``; ``root_cause`` and ``upheld`` only when resolved by then (else ``""``
    and null), and the collectors (usernames) and agencies (codes) each names."""
    from arrears.complaints.models import Complaint

    cut = end_of_day(as_of)
    rows = Complaint.objects.filter(
        _recorded(as_of),
        received_at__gte=start_of_day(first),
        received_at__lt=min(end_of_day(last), cut),
    )
    found = pl.DataFrame(
        list(
            rows.values_list(
                "id",
                "case_id",
                "received_at",
                "kind",
                "category",
                "root_cause",
                "resolved_at",
                "upheld",
            )
        ),
        schema=COMPLAINT_SCHEMA,
        orient="row",
    )
    ids = found["complaint_id"].to_list()
    people = _links(Complaint.collectors.through, "user__username", ids, "collectors")
    firms = _links(Complaint.agencies.through, "agency__code", ids, "agencies")
    utc_cut = pl.lit(cut).dt.convert_time_zone("UTC")
    resolved = pl.col("resolved_at").is_not_null() & (pl.col("resolved_at") < utc_cut)
    return (
        found.join(people, on="complaint_id", how="left")
        .join(firms, on="complaint_id", how="left")
        .with_columns(
            _local_day("received_at").alias("day"),
            pl.when(resolved).then(pl.col("root_cause")).otherwise(pl.lit("")).alias("root_cause"),
            pl.when(resolved).then(pl.col("upheld")).alias("upheld"),
            pl.col("collectors").fill_null([]),
            pl.col("agencies").fill_null([]),
        )
        .drop("resolved_at")
    )


def _links(through: Any, name: str, ids: list[int], alias: str) -> pl.DataFrame:
    schema = {"complaint_id": pl.Int64, alias: pl.String}
    if not ids:
        return pl.DataFrame(schema=schema).group_by("complaint_id").agg(pl.col(alias))
    rows = through.objects.filter(complaint_id__in=ids).values_list("complaint_id", name)
    return (
        pl.DataFrame(list(rows), schema=schema, orient="row")
        .group_by("complaint_id")
        .agg(pl.col(alias).sort())
    )


def work_items(as_of: date) -> pl.DataFrame:
    """Work items created by the end of ``as_of`` (due by then), per case."""
    from arrears.collections.models import WorkItem

    rows = WorkItem.objects.filter(
        due_on__lte=as_of, created_at__lt=end_of_day(as_of), case__isnull=False
    ).values_list("case_id", "due_on")
    return pl.DataFrame(list(rows), schema={"case_id": pl.Int64, "due_on": pl.Date}, orient="row")


def attribute(frame: pl.DataFrame, as_of: date, *, day: str, person: str) -> pl.DataFrame:
    """``frame`` (``case_id``, a date column ``day``, a username column ``person``) with who
    answers for each row: ``collector`` (``person``, else the collector who held the case at
    the end of ``day``), their ``team`` at the end of ``day`` (:func:`team_on`) and
    ``agency`` (the row's own ``agency`` when it has one, else the agency the case was placed
    with on ``day``); :data:`NOBODY` where there is none."""
    held = holder_on(frame.select("case_id", day), assignments(as_of), day=day)["holder"]
    placed = agency_on(frame.select("case_id", day), placements(as_of), day=day)["placed_with"]
    own_agency = pl.col("agency") if "agency" in frame.columns else pl.lit("")
    out = frame.with_columns(
        pl.when(pl.col(person) != "")
        .then(pl.col(person))
        .otherwise(held)
        .replace("", NOBODY)
        .alias("collector"),
        pl.when(own_agency.fill_null("") != "")
        .then(own_agency)
        .otherwise(placed)
        .replace("", NOBODY)
        .alias("agency"),
    )
    team = team_on(out, teams(as_of), as_of, day=day, person="collector")
    return out.with_columns(team.alias("team"))
