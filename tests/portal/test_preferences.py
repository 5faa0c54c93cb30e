"""My contact preferences: saved through ``set_preferences`` (source portal, history kept)
and enforced by the gate — preferred hours defer, opt-outs and "not at work" deny, revoked
emergency contacts deny every third-party contact."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from arrears.collections import services
from arrears.collections.models import ContactAttempt
from arrears.contact import gate
from arrears.contact.models import ContactPreference, GateDecision, OutboxMessage
from arrears.contact.render import render_message
from arrears.contact.services import ContactError, set_preferences
from arrears.kernel.errors import ArrearsError
from arrears.ledger.models import Phone
from arrears.policy import Decision
from tests.portal.conftest import Book
from tests.portal.helpers import token

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def book(shared_book: Book) -> Book:
    """Every test here starts from the portal's book as built: built once for the module."""
    return shared_book


def _at(book: Book, hour: int, days: int = 0) -> datetime:
    return datetime.combine(book.today + timedelta(days=days), time(hour), tzinfo=SH)


def _save(client: Client, **fields: object) -> object:
    data = {"preferred_channel": "", "preferred_from": "", "preferred_until": ""}
    data.update(fields)  # type: ignore[arg-type]
    return client.post("/my/preferences/", data)


def test_the_page_saves_through_the_service_with_history(book: Book, client: Client):
    book.sign_in(client)
    response = _save(
        client,
        preferred_channel="sms",
        preferred_from="18:00",
        preferred_until="20:30",
        opt_outs=["email"],
        not_at_work="1",
        no_emergency_contacts="1",
    )
    assert response.status_code == 302 and response["Location"].endswith("?saved=1")
    stored = ContactPreference.objects.get(borrower=book.borrower)
    assert stored.preferred_channel == "sms"
    assert (stored.preferred_from, stored.preferred_until) == (time(18), time(20, 30))
    assert stored.opt_outs == ["email"] and stored.not_at_work and stored.no_emergency_contacts
    assert stored.history[-1]["source"] == "portal"
    assert stored.history[-1]["preferred_hours"] == ["18:00", "20:30"]
    page = client.get("/my/preferences/?saved=1").content.decode()
    assert 'id="saved"' in page and 'value="18:00"' in page
    assert not ContactPreference.objects.filter(borrower=book.other).exists()


def test_a_refusal_recorded_by_staff_for_a_channel_the_portal_does_not_offer_is_kept(
    book: Book, client: Client
):
    set_preferences(book.borrower, opt_outs=["letter"], source="letter of 2026-11-30")
    book.sign_in(client)
    _save(client, opt_outs=["in_app"])
    stored = ContactPreference.objects.get(borrower=book.borrower)
    assert stored.opt_outs == ["in_app", "letter"]
    assert [h["source"] for h in stored.history] == ["letter of 2026-11-30", "portal"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"preferred_from": "07:00", "preferred_until": "09:00"}, "preferred_from"),
        ({"preferred_from": "21:00", "preferred_until": "23:00"}, "preferred_from"),
        ({"preferred_from": "19:00", "preferred_until": "18:00"}, "preferred_until"),
        ({"preferred_from": "19:00", "preferred_until": "19:30"}, "preferred_until"),
        ({"preferred_from": "19:00"}, "preferred_from"),
        ({"preferred_from": "7pm", "preferred_until": "9pm"}, "preferred_from"),
        ({"opt_outs": ["sms", "voice"]}, "opt_outs"),
        ({"preferred_channel": "pigeon"}, "preferred_channel"),
        ({"preferred_channel": "email", "opt_outs": ["email"]}, "preferred_channel"),
    ],
)
def test_bad_choices_are_refused_with_the_field_named(
    book: Book, client: Client, fields: dict[str, object], field: str
):
    book.sign_in(client)
    response = _save(client, **fields)
    page = response.content.decode()
    assert response.status_code == 400 and 'id="preferences-error"' in page
    assert f'id="{field}"' in page or field == "opt_outs"
    assert not ContactPreference.objects.filter(borrower=book.borrower).exists()


def test_preferred_hours_defer_a_message_to_the_next_preferred_time(book: Book):
    message = OutboxMessage.objects.create(
        key="test:reminder",
        borrower=book.borrower,
        case=book.case,
        channel="sms",
        template="overdue_reminder",
        locale="en",
        not_before=_at(book, 10, days=1),
        to_address="+8613900000021",
    )

    def check(at: datetime):
        rendered = render_message(message, at)
        assert not isinstance(rendered, str), rendered
        return gate.check(message, at, rendered.text_for_gate, rendered.facts)

    assert check(_at(book, 10, days=1)).allowed
    set_preferences(book.borrower, preferred_hours=(time(18), time(20)), source="portal")
    deferred = check(_at(book, 10, days=1))
    assert deferred.outcome == "defer" and deferred.next_allowed == _at(book, 18, days=1)
    assert deferred.rule_ids() == (gate.PREFERRED_HOURS,)
    assert check(_at(book, 19, days=1)).allowed
    late = check(_at(book, 20, days=1) + timedelta(minutes=30))
    assert late.outcome == "defer" and late.next_allowed == _at(book, 18, days=2)
    # the pack's own deferral (quiet hours at 23:00) is pushed on to the preferred start
    night = check(_at(book, 23, days=1))
    assert night.outcome == "defer" and night.next_allowed == _at(book, 18, days=2)
    stored = GateDecision.objects.filter(message=message).last()
    assert stored is not None and gate.PREFERRED_HOURS in [r["id"] for r in stored.rules]


def test_a_sign_in_code_is_never_held_back_by_preferred_hours(book: Book):
    set_preferences(book.borrower, preferred_hours=(time(18), time(20)), source="portal")
    message = OutboxMessage(
        key="test:code",
        borrower=book.borrower,
        channel="sms",
        template="portal_sign_in_code",
        locale="en",
        not_before=_at(book, 10, days=1),
    )
    request = gate.request_for(message, _at(book, 10, days=1), "code 123456", {})
    allowed = Decision("allow", (), None, "cn", 2, _at(book, 10, days=1))
    preference = ContactPreference.objects.get(borrower=book.borrower)
    assert gate.apply_preferences(allowed, request, preference, SH, _at(book, 10, days=1)).allowed


def test_preferred_hours_defer_a_collectors_call_and_the_log_refuses_it(book: Book):
    set_preferences(book.borrower, preferred_hours=(time(18), time(20)), source="portal")
    at_ten = _at(book, 10, days=1)
    decision = gate.check_call(book.borrower, book.case.pk, at_ten)
    assert decision.outcome == "defer" and decision.next_allowed == _at(book, 18, days=1)
    with pytest.raises(ArrearsError) as refused:
        services.log_contact(
            book.case,
            channel="call",
            direction="outbound",
            party="borrower",
            outcome="no_answer",
            at=at_ten,
        )
    assert refused.value.code == "contact-gate-deferred"
    assert gate.check_call(book.borrower, book.case.pk, _at(book, 19, days=1)).allowed


def test_an_opt_out_denies_that_channel_only(book: Book):
    set_preferences(book.borrower, opt_outs=["voice"], source="portal")
    at = _at(book, 10, days=1)
    assert gate.check_call(book.borrower, book.case.pk, at).outcome == "deny"
    sms = gate.decide_contact(book.borrower, book.case.pk, at, channel="sms")
    assert sms.decision.allowed


def test_not_at_work_denies_a_call_to_the_work_number(book: Book):
    work = Phone.objects.create(borrower=book.borrower, number="+861088880000", kind="work")
    at = _at(book, 10, days=1)
    assert gate.decide_contact(book.borrower, book.case.pk, at, phone=work).decision.allowed
    set_preferences(book.borrower, not_at_work=True, source="portal")
    decision = gate.decide_contact(book.borrower, book.case.pk, at, phone=work).decision
    assert decision.outcome == "deny" and "not-at-work" in ",".join(decision.rule_ids())
    assert gate.check_call(book.borrower, book.case.pk, at).allowed  # the mobile is fine


def test_revoked_emergency_contacts_deny_every_third_party_contact(book: Book):
    relative = Phone.objects.create(
        borrower=book.borrower, number="+8613700000099", source="third_party"
    )
    at = _at(book, 10, days=1)
    # the borrower did not answer: unreachable, so the pack lets us try to locate them
    services.log_contact(
        book.case,
        channel="call",
        direction="outbound",
        party="borrower",
        outcome="no_answer",
        at=_at(book, 9, days=1),
    )
    check = gate.decide_contact(
        book.borrower, book.case.pk, at, party="emergency_contact", phone=relative
    )
    assert check.decision.allowed
    set_preferences(book.borrower, no_emergency_contacts=True, source="portal")
    for party in ("emergency_contact", "third_party"):
        decision = gate.decide_contact(
            book.borrower, book.case.pk, at, party=party, phone=relative
        ).decision
        assert decision.outcome == "deny"
        assert gate.NO_EMERGENCY_CONTACTS in decision.rule_ids()
    with pytest.raises(ArrearsError):
        services.log_contact(
            book.case,
            channel="call",
            direction="outbound",
            party="emergency_contact",
            outcome="third_party",
            phone=relative,
            at=at,
        )
    assert not ContactAttempt.objects.filter(case=book.case, party="emergency_contact").exists()


def test_the_service_refuses_hours_outside_the_pack(book: Book):
    with pytest.raises(ContactError) as refused:
        set_preferences(book.borrower, preferred_hours=(time(6), time(9)), source="portal")
    assert refused.value.field == "preferred_from"


def test_the_json_twin_reads_and_writes_the_same(book: Book, client: Client):
    auth = token(book, client)
    body = {"preferred_from": "18:00", "preferred_until": "20:00", "opt_outs": ["email"]}
    response = client.put("/api/v1/my/preferences", body, content_type="application/json", **auth)
    assert response.status_code == 200 and response.json()["preferred_from"] == "18:00"
    assert client.get("/api/v1/my/preferences", **auth).json()["opt_outs"] == ["email"]
    bad = client.put(
        "/api/v1/my/preferences",
        {"opt_outs": ["sms", "voice"]},
        content_type="application/json",
        **auth,
    )
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "opt_outs"


def test_the_page_speaks_chinese(book: Book):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    book.sign_in(client)
    page = client.get("/my/preferences/").content.decode()
    assert "不要联系我的紧急联系人" in page
    response = _save(client, opt_outs=["sms", "voice"])
    assert "请保留短信或电话" in response.content.decode()
