"""Collector actions: contacts drive the case, promises and holds are validated and take effect."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from arrears.collections import services
from arrears.collections.models import Case, Collector, Hold, Promise, Team, WorkItem
from arrears.collections.workflow import evaluate_day
from arrears.daily.services import day_run
from arrears.ledger import models
from arrears.ledger import services as ledger
from tests import factories, sharing
from tests.collections.conftest import make_collector

DAY = date(2026, 3, 5)  # 18 days past the first due date: internal stage


@dataclass(frozen=True)
class Keys:
    """What a test needs to load the module's book afresh: the case and the staff by name."""

    case: int
    staff: tuple[tuple[str, int], ...]


def _build() -> Keys:
    """The internal team's four staff (boss unavailable) and one borrower's loan, run and
    evaluated on :data:`DAY`: a case opened in the internal stage."""
    team = Team.objects.create(code="internal", name="Internal team", owner="internal_team")
    staff = {
        "ann": make_collector("ann", team),
        "bob": make_collector("bob", team),
        "lead": make_collector("lead", team, role="team_lead"),
        "boss": make_collector("boss", team, role="manager", available=False),
    }
    owner = factories.borrower("B-1", phone="+8613800000001")
    factories.loan("L-1", owner, factories.product())
    day_run(as_of=DAY, engine="reference")
    evaluate_day(DAY)
    case = Case.objects.get(borrower=owner)
    return Keys(case=case.pk, staff=tuple((who, c.pk) for who, c in staff.items()))


@pytest.fixture(scope="module")
def _book(django_db_setup: None, django_db_blocker: Any) -> Iterator[Keys]:
    """The book, built once for the module (tests/sharing.py)."""
    yield from sharing.module_book(django_db_blocker, _build, lambda keys: keys)


@pytest.fixture
def staff(_book: Keys, db: None) -> dict[str, Collector]:
    """The module's staff, loaded afresh (each test in its own savepoint)."""
    found = Collector.objects.select_related("user").in_bulk([pk for _, pk in _book.staff])
    return {who: found[pk] for who, pk in _book.staff}


@pytest.fixture
def case(_book: Keys, db: None) -> Case:
    """The module's case, loaded afresh."""
    return Case.objects.get(pk=_book.case)


def _at(day: date) -> datetime:
    return datetime.combine(day, time(11), tzinfo=ZoneInfo("Asia/Shanghai"))


def test_a_case_is_opened_in_the_stage_its_dpd_asks_for(case: Case) -> None:
    assert (case.status, case.stage, case.dpd) == ("open", "internal", 18)
    assert case.collector is not None  # allocated to the internal team


def test_a_wrong_number_is_flagged_for_every_borrower_who_has_it(
    case: Case, staff: dict[str, Collector]
) -> None:
    phone = case.borrower.phones.get()
    other = factories.borrower("B-2", phone=None)
    ledger.add_phone(borrower=other, number=phone.number)
    services.log_contact(
        case,
        channel="call",
        direction="outbound",
        party="borrower",
        outcome="wrong_number",
        phone=phone,
        collector=staff["ann"].user,
        at=_at(DAY),
    )
    assert not models.Phone.objects.filter(number=phone.number, is_valid=True).exists()


def test_a_dispute_on_a_call_holds_collection(case: Case, staff: dict[str, Collector]) -> None:
    services.log_contact(
        case,
        channel="call",
        direction="inbound",
        party="borrower",
        outcome="dispute",
        note="says the loan was repaid in cash",
        at=_at(DAY),
    )
    # the complaints app takes the outcome over: a dispute is filed, and its hold (the only
    # one) lasts until it is resolved
    from arrears.complaints.models import Complaint

    complaint = Complaint.objects.get(borrower=case.borrower)
    assert (complaint.kind, complaint.channel) == ("dispute", "collector")
    hold = Hold.objects.get(borrower=case.borrower)
    assert complaint.hold == hold
    assert (hold.reason, hold.starts_on, hold.ends_on) == ("dispute", DAY, complaint.resolve_by)
    case.refresh_from_db()
    assert case.status == "on_hold"
    assert not WorkItem.objects.filter(case=case, due_on=DAY, status="pending").exists()


def test_an_unknown_outcome_is_refused_and_nothing_is_written(case: Case) -> None:
    with pytest.raises(services.CollectionsError, match="outcome: 'maybe'"):
        services.log_contact(
            case, channel="call", direction="outbound", party="borrower", outcome="maybe"
        )
    assert not case.contacts.exists()


def test_a_promise_pays_off_at_once_when_the_payment_arrives(
    case: Case, django_capture_on_commit_callbacks: Any
) -> None:
    promise = services.make_promise(case, amount_minor=90_000, due_date=DAY + timedelta(3))
    case.refresh_from_db()
    assert case.status == "promised"
    with django_capture_on_commit_callbacks(execute=True):
        ledger.record_payment(
            loan=models.Loan.objects.get(ref="L-1"),
            ref="PAY-1",
            value_date=DAY,
            amount_minor=90_000,
            currency="CNY",
        )
    promise.refresh_from_db()
    assert promise.status == "kept"  # judged on the payment, not at the next daily run


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"amount_minor": 0, "due_date": DAY}, "amount: must be positive"),
        ({"amount_minor": 100, "due_date": DAY - timedelta(1)}, "before the promise date"),
        ({"amount_minor": 100, "due_date": DAY + timedelta(32)}, "at most 31 days"),
        ({"amount_minor": 100, "due_date": DAY, "tolerance_minor": 100}, "tolerance"),
    ],
)
def test_bad_promises_are_refused(case: Case, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(services.CollectionsError, match=message):
        services.make_promise(case, **kwargs)  # type: ignore[arg-type]
    assert not Promise.objects.exists()


def test_a_new_promise_replaces_the_pending_one(case: Case) -> None:
    first = services.make_promise(case, amount_minor=50_000, due_date=DAY + timedelta(5))
    services.make_promise(case, amount_minor=60_000, due_date=DAY + timedelta(6))
    first.refresh_from_db()
    assert first.status == "cancelled"
    assert case.promises.filter(status="pending").count() == 1


@pytest.mark.parametrize(
    ("starts", "ends", "message"),
    [
        (DAY - timedelta(8), DAY + timedelta(5), "more than 7 days before"),
        (DAY, DAY - timedelta(1), "is before starts_on"),
        (DAY, DAY + timedelta(181), "at most 180 days"),
    ],
)
def test_hold_dates_are_checked(case: Case, starts: date, ends: date, message: str) -> None:
    with pytest.raises(services.CollectionsError, match=message):
        services.place_hold(
            case.borrower_id, reason="hardship", starts_on=starts, ends_on=ends, today=DAY
        )
    assert not Hold.objects.exists()


def test_a_back_dated_hold_counts_from_its_start_and_expires_by_itself(case: Case) -> None:
    hold = services.place_hold(
        case.borrower_id,
        reason="complaint",
        starts_on=DAY - timedelta(7),
        ends_on=DAY + timedelta(2),
        today=DAY,
    )
    assert hold.active_on(DAY - timedelta(7)) and hold.active_on(DAY + timedelta(2))
    assert not hold.active_on(DAY + timedelta(3))  # auto-expiry: no one has to lift it
    for offset in (1, 2, 3):
        day = DAY + timedelta(offset)
        day_run(as_of=day, engine="reference")
        evaluate_day(day)
    case.refresh_from_db()
    assert case.status == "open"
    assert WorkItem.objects.filter(case=case, due_on=DAY + timedelta(3), status="pending")


def test_a_hold_on_named_channels_only_stops_those(case: Case) -> None:
    services.place_hold(
        case.borrower_id,
        reason="hardship",
        starts_on=DAY,
        ends_on=DAY + timedelta(10),
        channels=["sms"],
        today=DAY,
    )
    day = DAY + timedelta(1)
    day_run(as_of=day, engine="reference")
    evaluate_day(day)
    calls = WorkItem.objects.get(case=case, due_on=day, channel="call_task")
    assert calls.status == "pending"  # only SMS was held


def test_only_a_supervisor_reassigns_and_only_to_someone_available(
    case: Case, staff: dict[str, Collector]
) -> None:
    with pytest.raises(services.CollectionsError, match="only a team lead or a manager"):
        services.reassign(case, staff["bob"], by=staff["ann"].user, today=DAY)
    with pytest.raises(services.CollectionsError, match="not available"):
        services.reassign(case, staff["boss"], by=staff["lead"].user, today=DAY)
    services.reassign(case, staff["bob"], by=staff["lead"].user, today=DAY)
    case.refresh_from_db()
    assert (case.collector, case.assigned_on) == (staff["bob"], DAY)
    assert case.events.filter(kind="assigned", to_value="bob", actor=staff["lead"].user).exists()


def test_a_callback_request_queues_a_call_for_that_day(case: Case) -> None:
    with pytest.raises(services.CollectionsError, match="callback_on"):
        services.log_contact(
            case,
            channel="call",
            direction="outbound",
            party="borrower",
            outcome="callback",
            at=_at(DAY),
        )
    services.log_contact(
        case,
        channel="call",
        direction="outbound",
        party="borrower",
        outcome="callback",
        at=_at(DAY),
        callback_on=DAY + timedelta(2),
    )
    task = WorkItem.objects.get(case=case, template="callback")
    assert (task.due_on, task.channel, task.status) == (DAY + timedelta(2), "call_task", "pending")
    assert task.collector == case.collector


def test_only_a_manager_writes_a_case_off_and_the_work_stops(
    case: Case, staff: dict[str, Collector]
) -> None:
    with pytest.raises(services.CollectionsError, match="only a collections manager"):
        services.write_off(case, by=staff["lead"].user, reason="uncollectable", today=DAY)
    services.write_off(case, by=staff["boss"].user, reason="deceased, no estate", today=DAY)
    case.refresh_from_db()
    assert (case.status, case.closed_on) == ("written_off", DAY)
    assert not WorkItem.objects.filter(case=case, status="pending").exists()
    day_run(as_of=DAY + timedelta(1), engine="reference")
    evaluate_day(DAY + timedelta(1))  # still delinquent, but the ladder does not start again
    assert not Case.objects.filter(borrower=case.borrower, closed_on__isnull=True).exists()


def test_a_case_is_not_reassigned_to_another_stages_team(
    case: Case, staff: dict[str, Collector]
) -> None:
    agency = Team.objects.create(code="agency", name="Agency", owner="agency_placement")
    outsider = make_collector("outsider", agency)
    with pytest.raises(services.CollectionsError, match="works agency_placement"):
        services.reassign(case, outsider, by=staff["lead"].user, today=DAY)


# --- the daily workflow: contacts, promises, plans, causes (issue 9) ---------------------------


def _run(day: date) -> None:
    day_run(as_of=day, engine="reference")
    evaluate_day(day)


def test_the_contact_key_is_what_reaches_the_person() -> None:
    from arrears.collections.workflow import contact_key

    key = contact_key(7, "sms", "overdue_reminder", date(2026, 2, 16))
    assert key == "borrower7:sms:overdue_reminder:2026-02-16"


def test_a_new_strategy_version_rerunning_the_day_creates_no_work(case: Case) -> None:
    from arrears.collections import strategies

    items = list(WorkItem.objects.values_list("key", "strategy"))
    assert items and {strategy for _, strategy in items} == {"default v1"}
    text = strategies.default_source().replace("version: 1", "version: 2", 1)
    text = text.replace("entry: dpd >= 16 OR broken_promises >= 1", "entry: dpd >= 16")
    strategies.publish(text, source_name="v2.yaml", note="a condition, not a treatment")
    again = evaluate_day(DAY)
    assert (again.strategy, again.work_created) == ("default v2", 0)
    assert list(WorkItem.objects.values_list("key", "strategy")) == items


def test_a_promise_due_today_is_not_broken_by_todays_run(case: Case) -> None:
    due = DAY + timedelta(2)
    promise = services.make_promise(case, amount_minor=90_000, due_date=due)
    for day in (DAY + timedelta(1), due):
        _run(day)
        promise.refresh_from_db()
        assert promise.status == "pending", day  # the borrower still has the day to pay
    _run(due + timedelta(1))
    promise.refresh_from_db()
    assert (promise.status, promise.resolved_on) == ("broken", due + timedelta(1))
    event = case.events.get(kind="promise", to_value="broken")
    assert event.cause == (
        f"promise #{promise.pk} of CN¥900.00 due {due}: paid CN¥0.00 (tolerance CN¥0.00)"
    )


def test_a_payment_on_the_due_date_keeps_the_promise(case: Case) -> None:
    due = DAY + timedelta(2)
    promise = services.make_promise(case, amount_minor=90_000, due_date=due)
    _run(DAY + timedelta(1))
    _run(due)
    ledger.record_payment(  # paid late in the evening, recorded after the day's run
        loan=models.Loan.objects.get(ref="L-1"),
        ref="PAY-LATE",
        value_date=due,
        amount_minor=90_000,
        currency="CNY",
    )
    _run(due + timedelta(1))
    promise.refresh_from_db()
    assert promise.status == "kept"


def test_a_grace_setting_gives_a_promise_more_days(case: Case, settings: Any) -> None:
    settings.ARREARS_PROMISE_GRACE_DAYS = 2
    due = DAY + timedelta(1)
    promise = services.make_promise(case, amount_minor=90_000, due_date=due)
    for offset in (1, 2, 3):
        _run(DAY + timedelta(offset))
        promise.refresh_from_db()
        assert promise.status == "pending", offset
    _run(DAY + timedelta(4))
    promise.refresh_from_db()
    assert (promise.status, promise.resolved_on) == ("broken", DAY + timedelta(4))
    assert "+ 2 day(s) grace" in case.events.get(kind="promise", to_value="broken").cause


def test_case_events_show_money_with_its_currency(case: Case, staff: dict[str, Collector]) -> None:
    from arrears.daily.models import LoanState

    state = LoanState.objects.get(loan__ref="L-1", as_of=DAY)
    opened = case.events.get(kind="opened")
    assert opened.on == DAY
    total = f"{state.total_due // 100:,}.{state.total_due % 100:02d}"
    assert opened.cause.endswith(f"total due CN¥{total}"), opened.cause

    from arrears.collections import concessions

    promise = services.make_promise(case, amount_minor=90_000, due_date=DAY + timedelta(3))
    made = case.events.get(kind="promise", to_value="pending")
    assert made.cause == f"promise #{promise.pk}: CN¥900.00 by {DAY + timedelta(3)}"
    waiver = concessions.request_waiver(
        models.Loan.objects.get(ref="L-1"),
        component="penalty",
        amount_minor=500,
        reason="hardship",
        user=staff["ann"].user,
        effective_on=DAY,
    )
    asked = case.events.get(kind="waiver")
    assert asked.cause == f"waiver {waiver.ref}: penalty CN¥5.00 (hardship)"


def test_a_case_in_a_plan_stays_with_its_collector_and_in_the_leads_queue(
    case: Case, staff: dict[str, Collector]
) -> None:
    from arrears.collections import concessions
    from arrears.web import selectors

    loan = models.Loan.objects.get(ref="L-1")
    owed = concessions.ledger_state(loan, DAY).total_due
    plan = concessions.propose_plan(
        loan,
        user=staff["ann"].user,
        effective_on=DAY,
        instalments=[(DAY + timedelta(5), 50_000), (DAY + timedelta(36), owed - 50_000)],
    )
    concessions.approve_plan(plan, staff["lead"].user)
    negotiator = Case.objects.get(pk=case.pk).collector
    assert negotiator is not None
    # inside the plan's grace (dpd 1..3 on the plan) and three days before an original due
    # date: the ladder alone would move the case to the reminder stage and release it
    for offset in range(1, 9):
        _run(DAY + timedelta(offset))
        now = Case.objects.get(pk=case.pk)
        assert (now.status, now.stage, now.owner) == ("in_plan", "internal", "internal_team")
        assert now.collector == negotiator, offset
    assert not WorkItem.objects.filter(case=case, due_on__gt=DAY).exists()
    day = DAY + timedelta(8)
    assert case.pk in {c.pk for c in selectors.queue(negotiator.user, day)}
    assert case.pk in {c.pk for c in selectors.queue(staff["lead"].user, day)}
