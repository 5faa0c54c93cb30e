"""The visit workflow end to end, and every control on it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from arrears.collections.models import CaseEvent, ContactAttempt, Promise, WorkItem
from arrears.contact.models import OutboxMessage
from arrears.fieldwork import credentials, services
from arrears.fieldwork.models import FieldVisit
from arrears.fieldwork.services import FieldworkError
from tests import sharing
from tests.fieldwork.book import FieldKeys, build_field
from tests.fieldwork.conftest import Field

S = FieldVisit.Status


@pytest.fixture(scope="module")
def _field(django_db_setup: None, django_db_blocker: Any) -> Iterator[FieldKeys]:
    """The conftest's book, built once for the module (tests/sharing.py)."""
    yield from sharing.module_book(django_db_blocker, build_field, FieldKeys.of)


@pytest.fixture
def field(_field: FieldKeys, db: None) -> Field:
    """The module's book, loaded afresh (each test in its own savepoint)."""
    return _field.load()


def _at(field: Field, days: int, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(
        datetime.combine(field.today + timedelta(days=days), datetime.min.time())
    ) + timedelta(hours=hour, minutes=minute)


def _authorised(field: Field, agents: tuple[str, ...] = ("fay", "gus")) -> FieldVisit:
    field.break_promises()
    s = field.staff
    visit = services.request_visit(field.case, by=s["ann"], reason="unreachable for months")
    services.approve(visit, by=s["lead"])
    services.assign(visit, [field.agents[a] for a in agents], by=s["lead"])
    services.authorise(visit, by=s["lead"])
    visit.refresh_from_db()
    return visit


def test_an_ineligible_case_is_refused_naming_the_condition(field: Field) -> None:
    with pytest.raises(FieldworkError) as refused:
        services.request_visit(field.case, by=field.staff["ann"], reason="please")
    assert refused.value.code == "visit-ineligible"
    assert "unreachable_or_broken_promises" in str(refused.value)
    assert not FieldVisit.objects.exists()


def test_only_someone_working_the_case_requests(field: Field) -> None:
    field.break_promises()
    with pytest.raises(FieldworkError) as refused:
        services.request_visit(field.case, by=field.staff["olga"], reason="x")
    assert refused.value.code == "visit-not-working-case"


def test_the_full_workflow_end_to_end(field: Field, _frozen_clock: time_machine.Traveller) -> None:
    s = field.staff
    asked = WorkItem.objects.create(
        key="strategy-visit-request",
        case=field.case,
        borrower_id=field.case.borrower_id,
        due_on=field.today,
        stage="field_visit",
        treatment=0,
        channel="visit_request",
        template="field_visit_request",
        owner="field_team",
        reason="test",
        strategy="default v1",
        variant="champion",
    )
    visit = _authorised(field)
    assert visit.status == S.AUTHORISED
    authorisation = visit.authorisation()
    assert authorisation is not None and authorisation.sha256
    when = _at(field, 1, 10)
    services.schedule(visit, at=when, place="借款人住址", by=s["lead"])
    services.schedule(visit, at=when, place="借款人住址", by=s["lead"])  # a double submit
    notice = OutboxMessage.objects.get(template="field_visit_request")
    assert notice.key == services.notice_key(visit, when) and notice.expires_at == when
    _frozen_clock.move_to(_at(field, 1, 10, 5))
    visit.refresh_from_db()
    services.check_in(visit, by=s["fay"], lat="31.230416", lon="121.473701")
    services.check_out(visit, by=s["gus"])
    visit.refresh_from_db()
    services.report(
        visit,
        by=s["fay"],
        outcome="promise",
        notes="会面，承诺下周还款",
        evidence=["audio/visit-1.m4a", "photo/door.jpg"],
        promise_amount_minor=500_000,
        promise_due=field.today + timedelta(days=8),
    )
    visit = services.close(FieldVisit.objects.get(pk=visit.pk), by=s["boss"])
    assert visit.status == S.CLOSED
    contact = ContactAttempt.objects.get(channel="visit")
    assert contact.visitors == ["fay", "gus"] and contact.outcome == "promise"
    assert contact.at == visit.checked_in_at and contact.gate_outcome == "allow"
    assert Promise.objects.get(pk=visit.promise_id).contact_id == contact.pk
    asked.refresh_from_db()
    assert asked.status == WorkItem.Status.DONE and contact.work_item_id == asked.pk
    assert visit.evidence == ["audio/visit-1.m4a", "photo/door.jpg"]
    events = list(
        CaseEvent.objects.filter(kind="visit").order_by("id").values_list("to_value", flat=True)
    )
    assert events == [
        "requested", "approved", "assigned", "authorised", "scheduled",
        "in_progress", "checked_out", "reported", "closed",
    ]  # fmt: skip
    authorisation.refresh_from_db()
    assert authorisation.revoked_at is not None  # closing ends the letter's use


def test_the_requester_never_approves(field: Field) -> None:
    field.break_promises()
    lead = field.staff["lead"]
    visit = services.request_visit(field.case, by=lead, reason="I work this one too")
    with pytest.raises(FieldworkError) as refused:
        services.approve(visit, by=lead)
    assert refused.value.code == "visit-own-request"
    with pytest.raises(FieldworkError) as refused:
        services.approve(visit, by=field.staff["ann"])  # a plain collector
    assert refused.value.code == "visit-not-supervisor"
    services.approve(visit, by=field.staff["boss"])


def test_one_open_visit_per_case(field: Field) -> None:
    field.break_promises()
    services.request_visit(field.case, by=field.staff["ann"], reason="first")
    with pytest.raises(FieldworkError) as refused:
        services.request_visit(field.case, by=field.staff["ann"], reason="second")
    assert refused.value.code == "visit-already-open"


def test_one_visitor_is_refused_citing_the_rule(field: Field) -> None:
    visit = _authorised(field, agents=("fay",))
    with pytest.raises(FieldworkError) as refused:
        services.schedule(visit, at=_at(field, 1, 10), place="home", by=field.staff["lead"])
    assert refused.value.code == "visit-gate-refused"
    assert "cn.visit-two-collectors" in str(refused.value)


def test_a_visit_at_23h_is_refused_citing_the_rule(field: Field) -> None:
    visit = _authorised(field)
    with pytest.raises(FieldworkError) as refused:
        services.schedule(visit, at=_at(field, 1, 23), place="home", by=field.staff["lead"])
    assert refused.value.code == "visit-gate-refused"
    assert "cn.hours" in str(refused.value)
    assert not OutboxMessage.objects.exists()


def test_check_in_needs_an_authorisation(field: Field) -> None:
    field.break_promises()
    s = field.staff
    visit = services.request_visit(field.case, by=s["ann"], reason="r")
    services.approve(visit, by=s["lead"])
    services.assign(visit, [field.agents["fay"], field.agents["gus"]], by=s["lead"])
    with pytest.raises(FieldworkError) as refused:
        services.check_in(visit, by=s["fay"])
    assert refused.value.code == "visit-no-authorisation"


def test_check_in_refused_after_revocation_and_on_another_day(
    field: Field, _frozen_clock: time_machine.Traveller
) -> None:
    s = field.staff
    visit = _authorised(field)
    services.schedule(visit, at=_at(field, 1, 10), place="home", by=s["lead"])
    visit.refresh_from_db()
    with pytest.raises(FieldworkError) as refused:
        services.check_in(visit, by=s["fay"])  # today, the appointment is tomorrow
    assert refused.value.code == "visit-wrong-day"
    with pytest.raises(FieldworkError) as refused:
        services.check_in(visit, by=s["ann"])  # not an assigned agent
    assert refused.value.code == "visit-not-assigned-agent"
    authorisation = visit.authorisation()
    assert authorisation is not None and authorisation.credential_id is not None
    credentials.revoke(authorisation.credential_id, by=s["boss"], reason="lost", at=timezone.now())
    _frozen_clock.move_to(_at(field, 1, 10))
    with pytest.raises(FieldworkError) as refused:
        services.check_in(visit, by=s["fay"])
    assert refused.value.code == "visit-no-authorisation"


def test_cancel_revokes_and_withdraws_the_notice(field: Field) -> None:
    s = field.staff
    visit = _authorised(field)
    services.schedule(visit, at=_at(field, 1, 10), place="home", by=s["lead"])
    visit = services.cancel(visit, by=s["ann"], reason="borrower paid")
    assert visit.status == S.CANCELLED
    authorisation = visit.authorisation()
    assert authorisation is not None and authorisation.revoked_at is not None
    assert authorisation.credential_id is not None
    assert not credentials.valid(authorisation.credential_id, timezone.now())
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.SUPPRESSED


def test_a_report_is_required_to_close(field: Field, _frozen_clock: time_machine.Traveller) -> None:
    s = field.staff
    visit = _authorised(field)
    services.schedule(visit, at=_at(field, 1, 10), place="home", by=s["lead"])
    with pytest.raises(FieldworkError) as refused:
        services.close(visit, by=s["boss"])
    assert refused.value.code == "visit-report-required"
    _frozen_clock.move_to(_at(field, 1, 10, 1))
    visit = services.check_in(visit, by=s["fay"])
    with pytest.raises(FieldworkError) as refused:
        services.report(visit, by=s["fay"], outcome="not_home")
    assert refused.value.code == "visit-not-checked-out"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"outcome": "robbed"}, "visit-outcome"),
        ({"outcome": "not_home", "notes": "x" * 4001}, "visit-notes-too-long"),
        ({"outcome": "not_home", "evidence": ["f"] * 21}, "visit-evidence"),
        ({"outcome": "not_home", "evidence": ["f" * 301]}, "visit-evidence"),
        ({"outcome": "promise", "promise_amount_minor": 100}, "visit-promise-incomplete"),
    ],
)
def test_hostile_reports_are_bounded(
    field: Field, _frozen_clock: time_machine.Traveller, kwargs: dict[str, Any], code: str
) -> None:
    s = field.staff
    visit = _authorised(field)
    services.schedule(visit, at=_at(field, 1, 10), place="home", by=s["lead"])
    _frozen_clock.move_to(_at(field, 1, 10, 1))
    visit = services.check_in(visit, by=s["fay"])
    with pytest.raises(FieldworkError) as refused:
        services.report(visit, by=s["fay"], **kwargs)
    assert refused.value.code == code


def test_location_is_bounded() -> None:
    with pytest.raises(FieldworkError):
        services._coordinates("91", "0")
    with pytest.raises(FieldworkError):
        services._coordinates("nan", "0")
    assert services._coordinates(None, None) == (None, None)


def test_a_missed_appointment_is_recorded_once(field: Field) -> None:
    from arrears.fieldwork.daily import missed_appointments

    visit = _authorised(field)
    services.schedule(visit, at=_at(field, 1, 10), place="home", by=field.staff["lead"])
    assert "0 missed" in missed_appointments(field.today + timedelta(days=1))
    assert "1 missed" in missed_appointments(field.today + timedelta(days=2))
    assert "0 missed" in missed_appointments(field.today + timedelta(days=2))
    assert CaseEvent.objects.filter(to_value="missed").count() == 1
    visit.refresh_from_db()
    assert visit.status == S.SCHEDULED


def test_stale_copies_cannot_undo_a_decision(field: Field) -> None:
    """Two tabs hold the same requested visit: the second decision is refused, one event."""
    field.break_promises()
    s = field.staff
    visit = services.request_visit(field.case, by=s["ann"], reason="r")
    tab_a, tab_b = FieldVisit.objects.get(pk=visit.pk), FieldVisit.objects.get(pk=visit.pk)
    services.reject(tab_a, by=s["lead"], note="not yet")
    with pytest.raises(FieldworkError) as refused:
        services.approve(tab_b, by=s["boss"])
    assert refused.value.code == "visit-wrong-state"
    visit.refresh_from_db()
    assert visit.status == S.REJECTED and visit.decided_by == s["lead"]
    assert (
        CaseEvent.objects.filter(kind="visit", to_value__in=["approved", "rejected"]).count() == 1
    )
