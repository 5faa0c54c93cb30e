"""Logging a contact asks the compliance gate at the contact's time, in the service (issue 9).

Refused, or accepted with a recorded override, when the gate would not have allowed it (holds,
hours, frequency, parties, visitors); a callback request is the borrower's prior consent; calls
the borrower answered count as connected whatever was logged; third parties are counted per
person and only when something was communicated; viewing the gate's answer records nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.test import override_settings

from arrears.collections import services
from arrears.collections.models import Case, CaseEvent, ContactAttempt, Hold
from arrears.collections.workflow import evaluate_day
from arrears.contact import gate
from arrears.contact.models import GateDecision
from arrears.daily.services import day_run
from arrears.ledger import models
from arrears.ledger import services as ledger
from tests import factories, sharing

DAY = date(2026, 3, 5)  # a Thursday, 18 days past the first due date: the internal stage
SH = ZoneInfo("Asia/Shanghai")


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SH)


@dataclass(frozen=True)
class Keys:
    """What a test needs to load the module's book afresh."""

    case: int
    ann: int


def _build() -> Keys:
    """One borrower's loan, run and evaluated on :data:`DAY` (a case in the internal stage),
    and a collector's user."""
    owner = factories.borrower("B-1", phone="+8613800000001")
    factories.loan("L-1", owner, factories.product())
    day_run(as_of=DAY, engine="reference")
    evaluate_day(DAY)
    case = Case.objects.get(borrower=owner)
    return Keys(case=case.pk, ann=User.objects.create_user("ann").pk)


@pytest.fixture(scope="module")
def _book(django_db_setup: None, django_db_blocker: Any) -> Iterator[Keys]:
    """The book, built once for the module (tests/sharing.py)."""
    yield from sharing.module_book(django_db_blocker, _build, lambda keys: keys)


@pytest.fixture
def case(_book: Keys, db: None) -> Case:
    """The module's case, loaded afresh (each test in its own savepoint)."""
    return Case.objects.get(pk=_book.case)


@pytest.fixture
def ann(_book: Keys, db: None) -> User:
    return User.objects.get(pk=_book.ann)


def _log(case: Case, at: datetime, **fields: Any) -> ContactAttempt:
    base: dict[str, Any] = {
        "channel": "call",
        "direction": "outbound",
        "party": "borrower",
        "outcome": "no_answer",
        "at": at,
    }
    base.update(fields)
    return services.log_contact(case, **base)


def _refusal(case: Case, at: datetime, **fields: Any) -> services.CollectionsError:
    before = (ContactAttempt.objects.count(), GateDecision.objects.count())
    with pytest.raises(services.CollectionsError) as refused:
        _log(case, at, **fields)
    assert (ContactAttempt.objects.count(), GateDecision.objects.count()) == before
    assert refused.value.field == "override_reason"
    return refused.value


def _complaint(case: Case) -> Hold:
    return Hold.objects.create(
        borrower=case.borrower, reason="complaint", starts_on=DAY, ends_on=DAY + timedelta(days=9)
    )


# ------------------------------------------------------------------- item 9: in the service


@pytest.mark.parametrize(
    ("held", "hour", "direction", "code"),
    [
        (False, 11, "outbound", None),
        (True, 11, "outbound", "contact-gate-denied"),
        (True, 11, "inbound", None),  # the borrower called us: nothing to gate
        (False, 7, "outbound", "contact-gate-deferred"),  # 07:59 is before the hours
        (False, 8, "outbound", None),
        (False, 22, "outbound", "contact-gate-deferred"),  # 22:00 is the first quiet minute
        (False, 1, "inbound", None),
    ],
)
def test_an_outbound_contact_the_gate_would_not_allow_is_refused(
    case: Case, held: bool, hour: int, direction: str, code: str | None
) -> None:
    if held:
        _complaint(case)
    at = _at(DAY, hour, 59 if hour == 7 else 0)
    if code is None:
        contact = _log(case, at, direction=direction)
        assert contact.gate_outcome == ("allow" if direction == "outbound" else "")
        assert not contact.overridden
        recorded = GateDecision.objects.filter(request__contact=contact.pk)
        assert recorded.count() == (1 if direction == "outbound" else 0)
        return
    error = _refusal(case, at, direction=direction)
    assert error.code == code
    assert ("cn.holds" if held else "cn.hours") in str(error)
    if code == "contact-gate-deferred":
        next_day = DAY + timedelta(days=1) if hour >= 22 else DAY
        assert f"before {next_day.isoformat()}T08:00+08:00" in str(error)


def test_an_override_is_recorded_on_the_contact_the_decision_and_the_timeline(
    case: Case, ann: User
) -> None:
    hold = _complaint(case)
    contact = _log(
        case, _at(DAY, 23, 10), collector=ann, outcome="rpc", override_reason="  asked by legal  "
    )
    assert (contact.overridden, contact.override_reason, contact.gate_outcome) == (
        True,
        "asked by legal",
        "deny",
    )
    assert contact.gate_rules == ["cn.hours", "cn.holds"]  # every reason, in pack order
    decision = GateDecision.objects.get(request__contact=contact.pk)
    assert (decision.outcome, decision.at) == ("deny", _at(DAY, 23, 10))
    assert decision.request["overridden"] is True and decision.request["logged_by"] == "ann"
    assert f"until {hold.ends_on.isoformat()}" in decision.rules[1]["message"]
    assert set(gate.overridden()) == {decision}
    event = CaseEvent.objects.get(case=case, kind="contact")
    assert event.from_value == "gate deny" and "overridden: asked by legal" in event.cause
    assert list(ContactAttempt.objects.filter(overridden=True)) == [contact]


def test_an_override_reason_on_an_allowed_contact_marks_nothing(case: Case) -> None:
    contact = _log(case, _at(DAY, 11), override_reason="just in case")
    assert (contact.overridden, contact.override_reason) == (False, "")
    assert GateDecision.objects.get(request__contact=contact.pk).request["overridden"] is False


def test_a_back_dated_log_is_judged_at_the_contacts_time(case: Case) -> None:
    """A call at 21:50 logged after 22:00 was allowed when it was made."""
    contact = _log(case, _at(DAY, 21, 50))
    assert contact.gate_outcome == "allow"


# ----------------------------------------------------------------- item 11: viewing is free


def test_asking_the_gate_about_a_call_records_nothing(case: Case) -> None:
    for hour in (3, 11, 23):
        gate.check_call(case.borrower, case.pk, _at(DAY, hour))
    assert not GateDecision.objects.exists()


# ------------------------------------------------------------------ item 13: prior consent


def test_a_callback_request_records_who_consented_when_and_to_which_window(
    case: Case,
) -> None:
    asked = _log(
        case,
        _at(DAY, 11),
        outcome="callback",
        callback_on=DAY + timedelta(days=1),
        callback_from=time(22, 0),
        callback_until=time(23, 0),
    )
    tomorrow = DAY + timedelta(days=1)
    assert (asked.consent_by, asked.at) == ("borrower", _at(DAY, 11))
    assert (asked.consent_starts, asked.consent_ends) == (_at(tomorrow, 22), _at(tomorrow, 23))
    # at 22:30 the next day the borrower's call needs no override; at 23:00 it does
    assert gate.check_call(case.borrower, case.pk, _at(tomorrow, 22, 30)).allowed
    call = _log(case, _at(tomorrow, 22, 30), outcome="rpc")
    assert (call.gate_outcome, call.overridden) == ("allow", False)
    assert _refusal(case, _at(tomorrow, 23, 0)).code == "contact-gate-deferred"


def test_consent_is_honoured_only_for_the_person_who_gave_it(case: Case) -> None:
    tomorrow = DAY + timedelta(days=1)
    _log(
        case,
        _at(DAY, 11),
        outcome="callback",
        callback_on=tomorrow,
        callback_from=time(22, 0),
        callback_until=time(23, 0),
    )
    friend = ledger.add_phone(
        borrower=case.borrower, number="+8613900000009", source=models.Phone.Source.THIRD_PARTY
    )
    refused = _refusal(
        case, _at(tomorrow, 22, 30), party="emergency_contact", phone=friend, outcome="third_party"
    )
    assert "cn.hours" in str(refused)


def test_a_callback_without_times_consents_to_office_hours_only(case: Case) -> None:
    tomorrow = DAY + timedelta(days=1)
    asked = _log(case, _at(DAY, 11), outcome="callback", callback_on=tomorrow)
    assert (asked.consent_starts, asked.consent_ends) == (_at(tomorrow, 9), _at(tomorrow, 18))
    assert not gate.check_call(case.borrower, case.pk, _at(tomorrow, 7, 30)).allowed


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({}, "contact-callback-date", "callback_on"),
        ({"callback_on": DAY - timedelta(days=1)}, "contact-callback-date", "callback_on"),
        (
            {"callback_on": DAY, "callback_from": time(20), "callback_until": time(19)},
            "contact-callback-window",
            "callback_until",
        ),
        (
            {"callback_on": DAY, "callback_until": time(10)},
            "contact-callback-passed",
            "callback_until",
        ),
    ],
)
def test_a_bad_callback_window_is_refused(
    case: Case, fields: dict[str, Any], code: str, field: str
) -> None:
    with pytest.raises(services.CollectionsError) as refused:
        _log(case, _at(DAY, 11), outcome="callback", **fields)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert not ContactAttempt.objects.exists()


def test_a_call_inside_a_consented_window_is_recorded_as_consented(case: Case) -> None:
    tomorrow = DAY + timedelta(days=1)
    _log(
        case,
        _at(DAY, 11),
        outcome="callback",
        callback_on=tomorrow,
        callback_from=time(10, 0),
        callback_until=time(11, 0),
    )
    _log(case, _at(tomorrow, 10, 15), outcome="rpc")
    _log(case, _at(tomorrow, 12, 0), outcome="no_answer")
    records = gate.history(case.borrower, _at(tomorrow, 13))
    assert [(r.at, r.consented) for r in records] == [
        (_at(DAY, 11), False),
        (_at(tomorrow, 10, 15), True),
        (_at(tomorrow, 12), False),
    ]


# --------------------------------------------------- item 14: connected calls, as answered


@pytest.mark.parametrize(
    ("outcomes", "refused"),
    [
        (["rpc", "promise", "refused"], True),
        (["hung_up", "hung_up", "hung_up"], True),  # answered, then hung up: connected
        (["callback", "hardship", "hung_up"], True),
        (["no_answer"] * 3, False),
        (["third_party"] * 3, False),  # someone else answered the borrower's phone
        (["wrong_number", "hung_up", "refused"], False),
    ],
)
def test_cn_counts_the_calls_the_borrower_answered_whatever_was_logged(
    case: Case, outcomes: list[str], refused: bool
) -> None:
    for n, outcome in enumerate(outcomes):
        extra = {"callback_on": DAY + timedelta(days=2)} if outcome == "callback" else {}
        _log(case, _at(DAY, 9 + n), outcome=outcome, **extra)
    fourth = _at(DAY, 15)
    if refused:
        error = _refusal(case, fourth)
        assert "cn.connected-calls-daily" in str(error)
    else:
        assert _log(case, fourth).gate_outcome == "allow"


# ------------------------------------------- item 12: third parties under Reg F, per person


@override_settings(ARREARS_POLICY_PACK="us-regf")
def test_reg_f_third_parties_count_communications_not_unanswered_attempts(case: Case) -> None:
    friend = ledger.add_phone(
        borrower=case.borrower, number="+8613900000009", source=models.Phone.Source.THIRD_PARTY
    )
    other = ledger.add_phone(
        borrower=case.borrower, number="+8613900000008", source=models.Phone.Source.THIRD_PARTY
    )
    _log(case, _at(DAY, 9), outcome="no_answer")  # the borrower does not answer: unreachable
    locate: dict[str, Any] = {"party": "third_party", "phone": friend}
    _log(case, _at(DAY, 10), outcome="no_answer", **locate)
    rang = _log(case, _at(DAY, 11), outcome="third_party", **locate)  # they answered
    assert rang.gate_outcome == "allow"  # the unanswered call before it was no communication
    error = _refusal(case, _at(DAY, 12), outcome="third_party", **locate)
    assert "regf.third-party-once" in str(error)
    # a different third party is a different person
    assert _log(case, _at(DAY, 12), party="third_party", phone=other).gate_outcome == "allow"


# ------------------------------------------------------------ item 15: two at the door


def test_a_visit_needs_two_collectors_the_logger_being_one(case: Case, ann: User) -> None:
    alone = _refusal(case, _at(DAY, 10), channel="visit", collector=ann, outcome="rpc")
    assert "cn.visit-two-collectors" in str(alone)
    visit = _log(
        case, _at(DAY, 10), channel="visit", collector=ann, outcome="rpc", visitors=["bob", " "]
    )
    assert (visit.visitors, visit.gate_outcome) == (["ann", "bob"], "allow")
    request = GateDecision.objects.get(request__contact=visit.pk).request
    assert request["channel"] == "visit"
