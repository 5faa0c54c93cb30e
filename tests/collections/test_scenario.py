"""120 simulated days of a small book through the whole workflow (issue 4's scenario).

Six borrowers with one loan each, due on the 15th from 2026-02-15, behave differently: one
pays on time, one cures after a few days, one keeps a promise, one breaks two promises, one
never pays, one complains (a hold). Each simulated day records that day's payments, runs the
ledger (reference engine) and the workflow, then lets the collectors act on their queue.

The 120 days run once for the module (``tests/sharing.py``: in a transaction rolled back after
the module); the tests only read what the run left and what it saw on the way. The run reads
its frames with ``IN`` lists, as a small book does, and every frame read that
``frames.LARGE_IN`` steers is made a second time reading the whole book and filtering in
Polars, as a big book does: the two must be equal read by read, so a run with ``LARGE_IN`` 0
would tell the same story (it ran 120 days more, twice a CI run, to say so).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from arrears.collections import frames, services, strategies
from arrears.collections.models import Case, CaseEvent, Collector, Promise, WorkItem
from arrears.collections.workflow import evaluate_day
from arrears.daily.services import day_run
from arrears.ledger import models
from arrears.ledger import services as ledger
from tests import factories, sharing
from tests.collections.conftest import make_internal_team, make_staff

FIRST = date(2026, 2, 1)
DAYS = 120
SHANGHAI = ZoneInfo("Asia/Shanghai")
V2_FROM = date(2026, 4, 1)
#: The day the workflow is run a second time, to show a re-run changes nothing.
RERUN_ON = date(2026, 3, 20)
#: The frame reads ``frames.LARGE_IN`` steers (an ``IN`` list, or the whole book filtered here).
STEERED = ("case_frame", "active_holds")


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


def _instalment(loan: models.Loan, seq: int) -> int:
    row = loan.instalments[seq - 1]
    return row.total


class Book:
    """The borrowers and the payments each will make, by value date."""

    def __init__(self) -> None:
        product = factories.product()
        self.loans: dict[str, models.Loan] = {}
        for n, name in enumerate(["payer", "quick", "keeper", "breaker", "never", "complainer"]):
            owner = factories.borrower(f"B-{name}", phone=f"+86138000000{n:02d}")
            self.loans[name] = factories.loan(f"L-{name}", owner, product)
        self.payments: dict[date, list[tuple[str, int]]] = {}
        for seq in range(1, 5):  # the payer pays every instalment on its due date
            due = self.loans["payer"].instalments[seq - 1].due_date
            self.pay(due, "payer", _instalment(self.loans["payer"], seq))
        self.pay(date(2026, 2, 19), "quick", _instalment(self.loans["quick"], 1) + 2_000)
        for seq in range(2, 5):
            due = self.loans["quick"].instalments[seq - 1].due_date
            self.pay(due, "quick", _instalment(self.loans["quick"], seq))
        self.pay(date(2026, 3, 9), "keeper", 102_000)
        for seq in range(2, 5):
            due = self.loans["keeper"].instalments[seq - 1].due_date
            self.pay(due, "keeper", _instalment(self.loans["keeper"], seq))

    def pay(self, day: date, who: str, amount: int) -> None:
        self.payments.setdefault(day, []).append((who, amount))

    def record(self, day: date) -> None:
        for n, (who, amount) in enumerate(self.payments.get(day, [])):
            ledger.record_payment(
                loan=self.loans[who],
                ref=f"P-{who}-{day.isoformat()}-{n}",
                value_date=day,
                amount_minor=amount,
                currency="CNY",
            )

    def case(self, who: str) -> Case:
        return Case.objects.filter(borrower=self.loans[who].borrower).latest("id")


def _collector_actions(book: Book, day: date, ann: Collector) -> None:
    """What the collectors do on ``day``, scripted."""
    if day == date(2026, 3, 7):  # the keeper answers and promises
        case = book.case("keeper")
        contact = services.log_contact(
            case,
            channel="call",
            direction="outbound",
            party="borrower",
            outcome="promise",
            collector=ann.user,
            at=_at(day),
        )
        services.make_promise(
            case, amount_minor=100_000, due_date=date(2026, 3, 10), user=ann.user, contact=contact
        )
    if day in (date(2026, 3, 5), date(2026, 3, 10)):  # the breaker promises twice
        case = book.case("breaker")
        services.log_contact(
            case,
            channel="call",
            direction="outbound",
            party="borrower",
            outcome="promise",
            collector=ann.user,
            at=_at(day),
        )
        services.make_promise(
            case, amount_minor=120_000, due_date=day + timedelta(days=2), user=ann.user
        )
    if day == date(2026, 3, 1):  # the complainer complains: a month's hold
        services.place_hold(
            book.loans["complainer"].borrower_id,
            reason="complaint",
            starts_on=day,
            ends_on=date(2026, 3, 31),
            note="says the calls are too frequent",
            user=ann.user,
            today=day,
        )
    if day == V2_FROM - timedelta(days=1):  # publish v2 at the end of 31 March
        text = strategies.default_source().replace("version: 1", "version: 2", 1)
        text = text.replace("cadence: {first: 1, every: 3, until: 15}", "cadence: {first: 1}")
        strategies.publish(text, source_name="v2.yaml", note="SMS only on day 1")


@dataclass(frozen=True)
class Read:
    """One steered frame read of the run, made both ways."""

    name: str
    as_of: date
    borrowers: int
    #: Whether the whole book filtered in Polars read exactly what the ``IN`` lists read.
    same: bool


@dataclass
class Story:
    """What the run left (the loans' ids: the rows are read afresh by each test) and what it
    saw on the way."""

    loans: dict[str, int]
    #: The summary line of each day the workflow skipped instead of evaluating it.
    skipped: list[str] = field(default_factory=list)
    evaluated: list[date] = field(default_factory=list)
    #: v2 published on 31 March, the day evaluated again: (its strategy, work created, work
    #: items added).
    v2_again: tuple[str, int, int] | None = None
    #: 20 March evaluated again: (work created, cases opened, events added, items added).
    rerun: tuple[int, int, int, int] | None = None
    #: Whether evaluating the day before 20 March, after it, was skipped.
    past_skipped: bool | None = None
    reads: list[Read] = field(default_factory=list)


def _same(one: object, other: object) -> bool:
    if isinstance(one, pl.DataFrame):
        return isinstance(other, pl.DataFrame) and one.equals(other)
    return [row.pk for row in one] == [row.pk for row in other]  # type: ignore[attr-defined]


def _both_ways(name: str, read: Callable[..., Any], reads: list[Read]) -> Callable[..., Any]:
    """``read`` as the run calls it, with ``frames.LARGE_IN`` as it is; made again with it 0
    (every list "large": the whole book read and filtered in Polars) and the two compared. A
    read the other one makes from inside is made once, as it is (its caller's is compared)."""
    inside: list[str] = []

    def both(as_of: date, borrowers: list[int], *args: Any, **kwargs: Any) -> Any:
        if inside:
            return read(as_of, borrowers, *args, **kwargs)
        inside.append(name)
        large_in = frames.LARGE_IN
        try:
            got = read(as_of, borrowers, *args, **kwargs)
            frames.LARGE_IN = 0
            whole = read(as_of, borrowers, *args, **kwargs)
        finally:
            frames.LARGE_IN = large_in
            inside.pop()
        reads.append(Read(name, as_of, len(borrowers), _same(got, whole)))
        return got

    return both


@contextmanager
def _steered_reads_both_ways(reads: list[Read]) -> Iterator[None]:
    """Every steered read, wherever the project reaches it from, made both ways for the
    block: in ``frames`` and in each module that imported it by name — also one first
    imported inside the block (it took the compared read from ``frames``), so each is put
    back after it."""
    originals = {name: getattr(frames, name) for name in STEERED}
    compared = {name: _both_ways(name, read, reads) for name, read in originals.items()}

    def put(wanted: dict[str, Any], instead: dict[str, Any]) -> None:
        for module in list(sys.modules.values()):
            if not getattr(module, "__name__", "").startswith("arrears."):
                continue
            for name in STEERED:
                if getattr(module, name, None) is instead[name]:
                    setattr(module, name, wanted[name])

    put(compared, originals)
    try:
        yield
    finally:
        put(originals, compared)


def _live(book: Book, ann: Collector, story: Story) -> None:
    """The 120 days, and the re-runs of two of them."""
    day = FIRST
    for _ in range(DAYS):
        book.record(day)
        day_run(as_of=day, engine="reference")
        summary = evaluate_day(day)
        if summary.skipped:
            story.skipped.append(summary.line())
        else:
            story.evaluated.append(day)
        _collector_actions(book, day, ann)
        if day == V2_FROM - timedelta(days=1):  # v2 was just published: the day is done
            items = WorkItem.objects.count()
            again = evaluate_day(day)
            story.v2_again = (again.strategy, again.work_created, WorkItem.objects.count() - items)
        if day == RERUN_ON:  # re-running a day creates no new work or events
            events, items = CaseEvent.objects.count(), WorkItem.objects.count()
            again = evaluate_day(day)
            story.rerun = (
                again.work_created,
                again.opened,
                CaseEvent.objects.count() - events,
                WorkItem.objects.count() - items,
            )
            story.past_skipped = bool(evaluate_day(day - timedelta(days=1)).skipped)
        day += timedelta(days=1)


def _build() -> Story:
    ann = make_staff(make_internal_team())["ann"]
    book = Book()
    story = Story(loans={name: loan.pk for name, loan in book.loans.items()})
    with _steered_reads_both_ways(story.reads):
        _live(book, ann, story)
    return story


@pytest.fixture(scope="module")
def _lived(django_db_setup: None, django_db_blocker: Any) -> Iterator[Story]:
    """The 120 days, run once for the module (tests/sharing.py)."""
    yield from sharing.module_book(django_db_blocker, _build, lambda story: story)


@pytest.fixture
def story(_lived: Story, db: None) -> Story:
    return _lived


def loan(story: Story, who: str) -> models.Loan:
    return models.Loan.objects.select_related("borrower").get(pk=story.loans[who])


def case(story: Story, who: str) -> Case:
    return Case.objects.filter(borrower=loan(story, who).borrower).latest("id")


@pytest.mark.slow
def test_a_hundred_and_twenty_days(story: Story) -> None:
    assert story.skipped == [] and len(story.evaluated) == DAYS
    # v2 was published at the end of 31 March: evaluating the day again uses it, adds nothing
    assert story.v2_again == ("default v2", 0, 0)
    # re-running a day creates no new work or events; the past is not redone
    assert story.rerun == (0, 0, 0, 0)
    assert story.past_skipped is True

    # The payer never had a case, only the courtesy SMS three days before each due date.
    payer = loan(story, "payer").borrower
    assert not Case.objects.filter(borrower=payer).exists()
    pre_due = WorkItem.objects.filter(borrower=payer, stage="pre_due")
    assert sorted(w.due_on for w in pre_due) == [date(2026, m, 12) for m in (2, 3, 4, 5)]

    # Everyone who missed 15 February entered reminders at DPD 1, caused by the strategy.
    for who in ("quick", "keeper", "breaker", "never", "complainer"):
        first = loan(story, who).borrower.cases.earliest("id")
        assert first.opened_on == date(2026, 2, 16)
        entry = first.events.filter(kind="stage").earliest("on")
        assert (entry.on, entry.to_value) == (date(2026, 2, 16), "reminder")
        assert entry.strategy == "default v1"
        assert "because dpd >= 1 AND dpd <= 15" in entry.cause

    # The quick payer cured on the day of the payment; the case is resolved as cured.
    quick = case(story, "quick")
    assert (quick.status, quick.resolution, quick.closed_on) == (
        "resolved",
        "cured",
        date(2026, 2, 19),
    )
    sms = WorkItem.objects.filter(case=quick, channel="sms").order_by("due_on")
    assert [w.due_on for w in sms] == [date(2026, 2, 16)]  # cadence day 1; day 4 was after cure
    voice = WorkItem.objects.get(case=quick, channel="voice")
    assert voice.due_on == date(2026, 2, 18) and "cadence day 3" in voice.reason

    # The keeper moved to the internal queue at DPD 16, promised, paid, and cured.
    keeper = case(story, "keeper")
    stages = list(keeper.events.filter(kind="stage").values_list("on", "to_value"))
    assert stages == [(date(2026, 2, 16), "reminder"), (date(2026, 3, 3), "internal")]
    promise = Promise.objects.get(case=keeper)
    assert (promise.status, promise.resolved_on) == ("kept", date(2026, 3, 9))
    assert keeper.events.filter(kind="status", to_value="promised").exists()
    assert (keeper.status, keeper.resolution) == ("resolved", "cured")

    # Internal-stage cases were allocated (分案) to available collectors, never to the absent.
    handed = CaseEvent.objects.filter(kind="assigned")
    assert handed.filter(case=keeper, on=date(2026, 3, 3)).exists()
    assert set(handed.values_list("to_value", flat=True)) <= {"ann", "bob", "lead", ""}
    assert handed.filter(case=case(story, "breaker"), on=date(2026, 3, 13), to_value="").exists()
    calls = WorkItem.objects.filter(case=keeper, channel="call_task")
    assert calls.exists() and all(c.collector is not None for c in calls)

    # The breaker broke two promises and was escalated to the external agency for it. Each
    # promise was judged the day after its due date (the borrower had the whole day to pay).
    breaker = case(story, "breaker")
    broken = Promise.objects.filter(case=breaker, status="broken").order_by("resolved_on")
    assert [(p.due_date, p.resolved_on) for p in broken] == [
        (date(2026, 3, 7), date(2026, 3, 8)),
        (date(2026, 3, 12), date(2026, 3, 13)),
    ]
    external = breaker.events.get(kind="stage", to_value="external")
    assert external.on == date(2026, 3, 13)
    assert "broken_promises >= 2" in external.cause and external.strategy == "default v1"
    assert WorkItem.objects.filter(case=breaker, channel="placement").count() == 1
    # while a promise was pending, reminders and calls were suppressed, never dropped
    quiet = WorkItem.objects.filter(case=breaker, status="suppressed")
    assert quiet.exists() and all("promise" in w.status_reason for w in quiet)

    # The one who never pays reached external at DPD 61 on the amount condition.
    never = case(story, "never")
    external = never.events.get(kind="stage", to_value="external")
    assert external.on == date(2026, 4, 17)
    assert "dpd >= 61 AND total_due >= 50000" in external.cause
    assert never.status == "placed"

    # The complainer's hold stopped every treatment for March, then collection resumed.
    complainer = case(story, "complainer")
    march = WorkItem.objects.filter(
        case=complainer, due_on__gte=date(2026, 3, 1), due_on__lte=date(2026, 3, 31)
    )
    assert march.exists() and not march.exclude(status="suppressed").exists()
    assert all("complaint" in w.status_reason for w in march)
    assert complainer.events.filter(kind="status", to_value="on_hold").exists()
    assert WorkItem.objects.filter(
        case=complainer, due_on__gt=date(2026, 3, 31), status="pending"
    ).exists()

    # The strategy change took effect from the next run, and every item says which version.
    assert not WorkItem.objects.filter(due_on__lt=V2_FROM, strategy="default v2").exists()
    assert not WorkItem.objects.filter(due_on__gte=V2_FROM, strategy="default v1").exists()
    assert WorkItem.objects.filter(due_on__gte=V2_FROM, strategy="default v2").exists()

    # Every event of the run names its cause; every work item its version and condition.
    assert not CaseEvent.objects.filter(cause="").exists()
    for item in WorkItem.objects.all():
        assert item.strategy in item.reason and "because" in item.reason


@pytest.mark.slow
def test_the_whole_book_read_reads_what_the_in_lists_read(story: Story) -> None:
    # With LARGE_IN 0 every frame reads the whole book and filters in Polars, as a big book
    # does: both ways must tell the same story. Every steered read of the run was made both
    # ways, on every day, and read the same rows.
    assert [read for read in story.reads if not read.same] == []
    every_day = {FIRST + timedelta(days=n) for n in range(DAYS)}
    assert {read.as_of for read in story.reads if read.name == "case_frame"} == every_day
    assert {read.name for read in story.reads if read.borrowers} == set(STEERED)
