"""The collector workbench: my queue and the case page, through Django's test client.

The book is built for *today*: the workbench's actions stamp contacts with the clock, and the
services judge promise and hold dates against the business date, so a book evaluated today
keeps the two the same (as in production, where the daily run is never far behind).
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from arrears.collections.models import (
    Case,
    CaseEvent,
    Collector,
    ContactAttempt,
    Hold,
    Promise,
)
from arrears.ledger.models import Borrower
from tests.web.conftest import Book
from tests.web.conftest import no_pii as _no_pii

WEB = Path(__file__).resolve().parents[2] / "src" / "arrears" / "web"
PO = WEB.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _case_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-case="(\d+)"', page)]


def _url(case: Case) -> str:
    return f"/cases/{case.pk}/"


SHANGHAI = ZoneInfo("Asia/Shanghai")


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


@pytest.fixture
def office_hours(_frozen_clock: time_machine.Traveller) -> None:
    """Contacts logged mid-morning of the frozen day, for tests whose subject is not the hours
    (at night the compliance gate refuses an outbound call, as it should)."""
    _frozen_clock.move_to(_local(timezone.localdate(), 10, 30))


def _field_error(page: str, field: str) -> str:
    """The error list Django renders for one form field (empty when it has none)."""
    found = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', page, re.S)
    return found.group(1) if found else ""


# --- the queue ----------------------------------------------------------------------------------


def test_the_queue_needs_a_login(client: Client, book: Book) -> None:
    response = client.get("/queue/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_collector_sees_their_own_open_cases_in_priority_order(book: Book) -> None:
    page = book.client("ann").get("/queue/").content.decode()
    first, second, _bobs = book.cases
    assert _case_ids(page) == [second.pk, first.pk]  # priority 30 before 10; bob's not shown
    assert "+86138****0001" in page and "+86138****0002" in page
    assert "Internal collection" in page
    assert "Reassign" not in page  # a plain collector reassigns nothing
    _no_pii(page)


def test_a_resolved_case_leaves_the_queue(book: Book) -> None:
    Case.objects.filter(pk=book.cases[1].pk).update(closed_on=book.today, status="resolved")
    page = book.client("ann").get("/queue/").content.decode()
    assert _case_ids(page) == [book.cases[0].pk]


@pytest.mark.usefixtures("office_hours")
def test_the_queue_counts_todays_pending_work_and_shows_the_last_contact(book: Book) -> None:
    client = book.client("ann")
    case = book.cases[0]
    pending = case.work_items.filter(status="pending", due_on__lte=book.today).count()
    assert pending >= 1  # the internal stage's daily call task
    row = _row(client.get("/queue/").content.decode(), case)
    assert f'<td class="num">{pending}</td>' in row and "never" in row
    task = case.work_items.filter(status="pending", due_on=book.today).earliest("id")
    _post_contact(client, case, outcome="no_answer", work_item=task.pk)
    task.refresh_from_db()
    assert task.status == "done"
    row = _row(client.get("/queue/").content.decode(), case)
    assert f'<td class="num">{pending - 1}</td>' in row
    assert "never" not in row and book.today.isoformat() in row


def _row(page: str, case: Case) -> str:
    match = re.search(rf'<tr data-case="{case.pk}">(.*?)</tr>', page, re.S)
    assert match is not None
    return match.group(1)


def test_a_user_without_a_collector_profile_is_forbidden(client: Client, book: Book) -> None:
    client.force_login(User.objects.create_user("clerk", password="pw-clerk", is_staff=True))
    assert client.get("/queue/").status_code == 403
    assert client.get(_url(book.cases[0])).status_code == 404


def test_a_team_lead_sees_the_whole_team_and_filters_by_collector(book: Book) -> None:
    lead = book.client("lead")
    first, second, third = book.cases
    assert _case_ids(lead.get("/queue/").content.decode()) == [second.pk, third.pk, first.pk]
    bob = book.staff["bob"].pk
    assert _case_ids(lead.get(f"/queue/?collector={bob}").content.decode()) == [third.pk]
    assert _case_ids(lead.get("/queue/?collector=none").content.decode()) == []


def test_a_lead_of_another_team_sees_none_of_these_cases(book: Book) -> None:
    olga = book.client("olga")
    assert _case_ids(olga.get("/queue/").content.decode()) == []
    assert olga.get(_url(book.cases[0])).status_code == 404


def test_a_superuser_sees_every_open_case(client: Client, book: Book) -> None:
    client.force_login(User.objects.create_superuser("root", password="pw-root-123"))
    page = client.get("/queue/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert sorted(_case_ids(page)) == sorted(case.pk for case in book.cases)
    assert client.get(_url(book.cases[2])).status_code == 200


def test_the_team_lead_reassigns_a_case(book: Book) -> None:
    lead = book.client("lead")
    case, ann = book.cases[2], book.staff["ann"]
    response = lead.post(
        "/queue/?collector=" + str(book.staff["bob"].pk),
        {"action": "reassign", "case": case.pk, "collector": ann.pk},
    )
    assert response.status_code == 302 and response["Location"].endswith(
        f"/queue/?collector={book.staff['bob'].pk}"
    )
    case.refresh_from_db()
    assert case.collector == ann
    event = CaseEvent.objects.filter(case=case, kind="assigned").latest("id")
    assert (event.from_value, event.to_value, event.actor) == (
        "bob",
        "ann",
        book.staff["lead"].user,
    )
    assert "reassigned to ann" in lead.get("/queue/").content.decode()
    # ann now opens it, bob no longer can
    assert book.client("ann").get(_url(case)).status_code == 200
    assert book.client("bob").get(_url(case)).status_code == 404


def test_a_case_sent_back_to_the_pool_stays_visible_to_the_lead(book: Book) -> None:
    lead = book.client("lead")
    case = book.cases[0]
    lead.post("/queue/", {"action": "reassign", "case": case.pk, "collector": ""})
    case.refresh_from_db()
    assert case.collector is None
    assert _case_ids(lead.get("/queue/?collector=none").content.decode()) == [case.pk]
    assert lead.get(_url(case)).status_code == 200  # unassigned, in the team's stage
    assert book.client("ann").get(_url(case)).status_code == 404


def test_reassignment_is_refused_outside_the_team_or_to_the_unavailable(book: Book) -> None:
    lead = book.client("lead")
    case = book.cases[0]
    lead.post(
        "/queue/", {"action": "reassign", "case": case.pk, "collector": book.staff["olga"].pk}
    )
    page = lead.get("/queue/").content.decode()
    assert "That collector is not in your team." in page
    Collector.objects.filter(pk=book.staff["bob"].pk).update(available=False)
    lead.post("/queue/", {"action": "reassign", "case": case.pk, "collector": book.staff["bob"].pk})
    assert "is not available" in lead.get("/queue/").content.decode()
    case.refresh_from_db()
    assert case.collector == book.staff["ann"]


def test_a_collector_may_not_reassign(book: Book) -> None:
    ann = book.client("ann")
    case = book.cases[0]
    response = ann.post("/queue/", {"action": "reassign", "case": case.pk, "collector": ""})
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.collector == book.staff["ann"]


def test_a_lead_cannot_reassign_another_teams_case(book: Book) -> None:
    response = book.client("olga").post(
        "/queue/", {"action": "reassign", "case": book.cases[0].pk, "collector": ""}
    )
    assert response.status_code == 404


# --- the case page ------------------------------------------------------------------------------


def test_the_case_page_shows_header_loans_timeline_and_work(book: Book) -> None:
    case = book.cases[0]
    page = book.client("ann").get(_url(case)).content.decode()
    assert f"Case {case.pk}" in page and "Internal collection" in page
    assert 'href="/loans/L-1/"' in page  # the explain page
    assert "Opened" in page and "internal_call" in page
    assert "+86138****0001" in page and "110101********" in page
    _no_pii(page)


def test_another_collector_gets_a_404_on_someone_elses_case(book: Book) -> None:
    assert book.client("bob").get(_url(book.cases[0])).status_code == 404
    assert book.client("bob").post(_url(book.cases[0]), {"action": "hold"}).status_code == 404
    assert book.client("ann").get("/cases/999999/").status_code == 404


def _post_contact(client: Client, case: Case, **fields: Any) -> Any:
    phone = case.borrower.phones.get()
    data = {
        "action": "contact",
        "contact-channel": "call",
        "contact-direction": "outbound",
        "contact-party": "borrower",
        "contact-phone": phone.pk,
        "contact-outcome": "rpc",
        "contact-note": "",
    }
    data.update({f"contact-{k}": v for k, v in fields.items()})
    return client.post(_url(case), data)


@pytest.mark.usefixtures("office_hours")
def test_logging_a_contact_records_it_and_masks_numbers_in_the_note(book: Book) -> None:
    ann, case = book.client("ann"), book.cases[0]
    response = _post_contact(ann, case, outcome="no_answer", note="rang 13800000001 twice")
    assert response.status_code == 302 and response["Location"] == _url(case)
    contact = ContactAttempt.objects.get(case=case)
    assert (contact.outcome, contact.collector, contact.phone) == (
        "no_answer",
        book.staff["ann"].user,
        case.borrower.phones.get(),
    )
    page = ann.get(_url(case)).content.decode()
    assert "Contact logged." in page and "No answer" in page
    assert "rang 138****0001 twice" in page
    _no_pii(page)


@pytest.mark.usefixtures("office_hours")
def test_a_callback_without_a_date_is_refused_and_the_input_kept(book: Book) -> None:
    ann, case = book.client("ann"), book.cases[0]
    response = _post_contact(ann, case, outcome="callback", note="call me after lunch")
    assert response.status_code == 400
    page = response.content.decode()
    assert "a callback needs a date from today on" in _field_error(page, "contact-callback_on")
    assert "call me after lunch" in page
    assert not ContactAttempt.objects.filter(case=case).exists()
    later = book.today + timedelta(days=2)
    response = _post_contact(ann, case, outcome="callback", callback_on=later.isoformat())
    assert response.status_code == 302
    assert case.work_items.filter(template="callback", due_on=later).exists()


def test_an_unknown_outcome_is_a_form_error(book: Book) -> None:
    response = _post_contact(book.client("ann"), book.cases[0], outcome="maybe")
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not ContactAttempt.objects.exists()


def _post_promise(client: Client, case: Case, amount: str, due: date, tolerance: str = "") -> Any:
    return client.post(
        _url(case),
        {
            "action": "promise",
            "promise-amount": amount,
            "promise-due_date": due.isoformat(),
            "promise-tolerance": tolerance,
        },
    )


def test_a_promise_is_parsed_exactly_and_recorded(book: Book) -> None:
    ann, case = book.client("ann"), book.cases[0]
    due = book.today + timedelta(days=7)
    response = _post_promise(ann, case, "1234.56", due, tolerance="0.50")
    assert response.status_code == 302
    promise = Promise.objects.get(case=case)
    assert (promise.amount_minor, promise.tolerance_minor, promise.due_date) == (123456, 50, due)
    assert promise.made_by == book.staff["ann"].user
    case.refresh_from_db()
    assert case.status == "promised"
    page = ann.get(_url(case)).content.decode()
    assert "Promise recorded." in page and "1,234.56" in page


@pytest.mark.parametrize("amount", ["abc", "12.345", ""])
def test_a_bad_promise_amount_is_refused_and_the_input_kept(book: Book, amount: str) -> None:
    response = _post_promise(
        book.client("ann"), book.cases[0], amount, book.today + timedelta(days=3)
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert ("Not an amount" in page) if amount else ("This field is required." in page)
    assert f'value="{amount}"' in page if amount else True
    assert not Promise.objects.exists()


def test_a_promise_due_in_the_past_is_refused_with_the_services_reason(book: Book) -> None:
    response = _post_promise(
        book.client("ann"), book.cases[0], "500.00", book.today - timedelta(days=1)
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "is before the promise date" in _field_error(page, "promise-due_date")
    assert 'value="500.00"' in page
    assert not Promise.objects.exists()


def test_a_zero_promise_is_refused(book: Book) -> None:
    response = _post_promise(book.client("ann"), book.cases[0], "0", book.today)
    assert response.status_code == 400
    assert "must be positive" in _field_error(response.content.decode(), "promise-amount")
    chinese = book.client("ann").post(
        _url(book.cases[0]),
        {"action": "promise", "promise-amount": "0", "promise-due_date": book.today.isoformat()},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert "必须大于零" in _field_error(chinese.content.decode(), "promise-amount")


def _post_hold(client: Client, case: Case, **fields: Any) -> Any:
    data: dict[str, Any] = {"action": "hold", "hold-reason": "complaint", "hold-note": ""}
    data.update({f"hold-{k}": v for k, v in fields.items()})
    return client.post(_url(case), data)


def test_a_hold_on_some_channels_is_placed(book: Book) -> None:
    ann, case = book.client("ann"), book.cases[0]
    ends = book.today + timedelta(days=30)
    response = _post_hold(
        ann,
        case,
        starts_on=book.today.isoformat(),
        ends_on=ends.isoformat(),
        channels=["sms", "call_task"],
        note="complaint by letter",
    )
    assert response.status_code == 302
    hold = Hold.objects.get(borrower=case.borrower)
    assert (hold.reason, hold.channels, hold.ends_on) == ("complaint", ["call_task", "sms"], ends)
    assert hold.created_by == book.staff["ann"].user
    # a hold on some channels quiets them (today's call task is suppressed, with the reason)
    # without putting the whole case on hold
    task = case.work_items.get(channel="call_task", due_on=book.today)
    assert (task.status, task.status_reason.startswith(f"hold #{hold.pk}")) == ("suppressed", True)
    page = ann.get(_url(case)).content.decode()
    assert "Hold placed." in page and "complaint by letter" in page and "in force" in page


def test_a_hold_on_every_channel_puts_the_case_on_hold(book: Book) -> None:
    case = book.cases[1]
    ends = book.today + timedelta(days=10)
    response = _post_hold(
        book.client("ann"), case, reason="dispute", starts_on=book.today, ends_on=ends
    )
    assert response.status_code == 302
    assert Hold.objects.get(borrower=case.borrower).channels == []
    case.refresh_from_db()
    assert case.status == "on_hold"
    assert not case.work_items.filter(status="pending", due_on=book.today).exists()


def test_a_hold_that_ends_before_it_starts_is_refused(book: Book) -> None:
    response = _post_hold(
        book.client("ann"),
        book.cases[0],
        starts_on=book.today.isoformat(),
        ends_on=(book.today - timedelta(days=1)).isoformat(),
        note="keep me",
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "is before starts_on" in _field_error(page, "hold-ends_on") and "keep me" in page
    assert not Hold.objects.exists()


def test_a_hold_without_an_end_is_a_form_error(book: Book) -> None:
    response = _post_hold(book.client("ann"), book.cases[0], starts_on=book.today.isoformat())
    assert response.status_code == 400 and not Hold.objects.exists()


def test_an_unknown_action_is_a_bad_request(book: Book) -> None:
    response = book.client("ann").post(_url(book.cases[0]), {"action": "launch"})
    assert response.status_code == 400


#: What one GET of the case page may cost (bench/case_page.py; docs/architecture.md): session,
#: user, business date, the case and its lists, the gate's "calling now", the panels (the field
#: visit facts among them) and the header's role checks. It was 55 before issue 12.
CASE_PAGE_QUERIES = 37


@pytest.mark.usefixtures("office_hours")
def test_the_case_page_makes_a_bounded_number_of_queries(
    book: Book, django_assert_max_num_queries: Any
) -> None:
    """The page collectors live on reads each thing once (issue 12), and a longer history —
    contacts, a promise, a hold that is over — means longer lists, not more queries. A refused
    form wrote nothing, so the page it comes back on is read once too."""
    ann, case = book.client("ann"), book.cases[0]
    with django_assert_max_num_queries(CASE_PAGE_QUERIES):
        assert ann.get(_url(case)).status_code == 200
    refused = {"action": "promise", "promise-amount": "1e30", "promise-due_date": "x"}
    with django_assert_max_num_queries(CASE_PAGE_QUERIES):
        assert ann.post(_url(case), refused).status_code == 400
    for outcome in ("no_answer", "no_answer", "rpc"):
        assert _post_contact(ann, case, outcome=outcome).status_code == 302
    promise = {"action": "promise", "promise-amount": "10.00"}
    promise["promise-due_date"] = (book.today + timedelta(days=3)).isoformat()
    assert ann.post(_url(case), promise).status_code == 302
    Hold.objects.create(  # over: listed, not in force
        borrower=case.borrower,
        reason="hardship",
        starts_on=book.today - timedelta(days=30),
        ends_on=book.today - timedelta(days=1),
    )
    with django_assert_max_num_queries(CASE_PAGE_QUERIES):
        page = ann.get(_url(case)).content.decode()
    assert page.count("No answer") >= 2 and "Promise recorded." in page


# --- the compliance gate on the case page (issue 9) ---------------------------------------------


def _complaint(case: Case, book: Book, days: int = 30) -> Hold:
    return Hold.objects.create(
        borrower=case.borrower,
        reason="complaint",
        starts_on=book.today,
        ends_on=book.today + timedelta(days=days),
    )


def _calling_now(page: str) -> str:
    found = re.search(r'<dd id="call-gate" class="call-(\w+)">(.*?)</dd>', page, re.S)
    assert found is not None
    return f"{found.group(1)}: {found.group(2)}"


@pytest.mark.parametrize("hour", [1, 3, 10, 15, 21])
def test_during_a_complaint_hold_the_case_page_says_calling_is_not_allowed_and_until_when(
    book: Book, _frozen_clock: time_machine.Traveller, hour: int
) -> None:
    """Day or night, a complaint hold on every channel means "not allowed", with the hold and
    its end — never "allowed from 08:00" (the hold was read on the UTC date before)."""
    case = book.cases[0]
    hold = _complaint(case, book)
    _frozen_clock.move_to(_local(book.today, hour, 29))
    gate = _calling_now(book.client("ann").get(_url(case)).content.decode())
    assert gate.startswith("deny: ") and "not allowed" in gate
    assert f"Complaint hold until {hold.ends_on.isoformat()}" in gate
    assert 'data-rule="cn.holds"' in gate and "allowed from" not in gate


def test_at_night_the_case_page_says_not_before_eight(
    book: Book, _frozen_clock: time_machine.Traveller
) -> None:
    _frozen_clock.move_to(_local(book.today, 1, 29))
    gate = _calling_now(book.client("ann").get(_url(book.cases[0])).content.decode())
    assert gate.startswith("defer: ")
    assert f"allowed from {book.today.isoformat()} 08:00" in gate
    assert 'data-rule="cn.hours"' in gate


def test_the_gate_reasons_read_in_the_pages_language(
    book: Book, _frozen_clock: time_machine.Traveller
) -> None:
    case = book.cases[0]
    hold = _complaint(case, book)
    _frozen_clock.move_to(_local(book.today, 1, 29))
    page = book.client("ann").get(_url(case), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    gate = _calling_now(page)
    assert "不允许" in gate and f"暂停催收（投诉）至 {hold.ends_on.isoformat()}" in gate
    assert "暂停催收：投诉" in gate  # the pack's own Chinese summary of cn.holds
    assert "hold on the borrower" not in gate and "outside the allowed hours" not in gate


def _gate_rows() -> int:
    from arrears.contact.models import GateDecision

    return GateDecision.objects.count()


@pytest.mark.usefixtures("office_hours")
def test_an_outbound_call_during_a_hold_is_refused_unless_overridden_with_a_reason(
    book: Book,
) -> None:
    from arrears.contact.models import GateDecision

    ann, case = book.client("ann"), book.cases[0]
    _complaint(case, book)
    before = _gate_rows()
    refused = _post_contact(ann, case, outcome="rpc", note="rang about the complaint")
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "does not allow this contact (cn.holds" in _field_error(page, "contact-override_reason")
    assert "rang about the complaint" in page  # the input is kept
    assert not ContactAttempt.objects.filter(case=case).exists() and _gate_rows() == before

    reason = "the borrower asked us by letter to call to confirm the complaint number"
    done = _post_contact(ann, case, outcome="rpc", override_reason=reason)
    assert done.status_code == 302
    contact = ContactAttempt.objects.get(case=case)
    assert (contact.overridden, contact.override_reason, contact.gate_outcome) == (
        True,
        reason,
        "deny",
    )
    assert "cn.holds" in contact.gate_rules
    decision = GateDecision.objects.get(request__contact=contact.pk)
    assert decision.outcome == "deny"
    assert decision.request["overridden"] is True
    assert decision.request["override_reason"] == reason
    assert decision.request["logged_by"] == "ann"
    assert list(GateDecision.objects.filter(request__overridden=True)) == [decision]
    event = CaseEvent.objects.get(case=case, kind="contact")
    assert event.from_value == "gate deny" and "overridden: " + reason in event.cause
    shown = ann.get(_url(case)).content.decode()
    assert "against the compliance gate" in shown
    row = re.search(r'<tr class="contact-overridden[^"]*">(.*?)</tr>', shown, re.S)
    assert row is not None and "overridden" in row.group(1) and reason in row.group(1)


def test_an_outbound_call_at_night_is_refused_and_an_inbound_one_is_not(
    book: Book, _frozen_clock: time_machine.Traveller
) -> None:
    ann, case = book.client("ann"), book.cases[0]
    _frozen_clock.move_to(_local(book.today, 1, 29))
    refused = _post_contact(ann, case, outcome="no_answer")
    assert refused.status_code == 400
    error = _field_error(refused.content.decode(), "contact-override_reason")
    assert f"before {book.today.isoformat()}T08:00" in error and "cn.hours" in error
    assert _post_contact(ann, case, direction="inbound", outcome="rpc").status_code == 302
    inbound = ContactAttempt.objects.get(case=case)
    assert (inbound.gate_outcome, inbound.overridden) == ("", False)


@pytest.mark.usefixtures("office_hours")
def test_a_logged_call_records_its_gate_decision_and_a_fourth_connected_call_is_refused(
    book: Book,
) -> None:
    """cn: three calls the borrower answered — whatever the outcome logged — use up the day."""
    ann, case = book.client("ann"), book.cases[0]
    before = _gate_rows()
    for outcome in ("refused", "hung_up", "callback"):
        extra = {"callback_on": (book.today + timedelta(days=1)).isoformat()}
        fields = extra if outcome == "callback" else {}
        assert _post_contact(ann, case, outcome=outcome, **fields).status_code == 302
    assert _gate_rows() == before + 3  # one per contact logged
    assert set(ContactAttempt.objects.values_list("gate_outcome", flat=True)) == {"allow"}
    fourth = _post_contact(ann, case, outcome="rpc")
    assert fourth.status_code == 400
    error = _field_error(fourth.content.decode(), "contact-override_reason")
    assert "cn.connected-calls-daily" in error


@pytest.mark.usefixtures("office_hours")
def test_a_visit_is_logged_with_its_visitors_and_refused_alone(book: Book) -> None:
    ann, case = book.client("ann"), book.cases[0]
    alone = _post_contact(ann, case, channel="visit", phone="", outcome="no_answer")
    assert alone.status_code == 400
    error = _field_error(alone.content.decode(), "contact-override_reason")
    assert "cn.visit-two-collectors" in error
    pair = _post_contact(ann, case, channel="visit", phone="", outcome="rpc", visitors="bob")
    assert pair.status_code == 302
    assert ContactAttempt.objects.get(case=case).visitors == ["ann", "bob"]
    assert "visitors: ann, bob" in ann.get(_url(case)).content.decode()


# --- language and privacy -----------------------------------------------------------------------


def test_the_workbench_speaks_chinese(book: Book) -> None:
    client = book.client("ann")
    queue = client.get("/queue/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "我的案件" in queue and "今日待办" in queue and "内部催收" in queue
    case = client.get(_url(book.cases[0]), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "记录催记" in case and "登记承诺还款" in case and "本人接通" in case


def test_the_language_cookie_switches_to_english(book: Book) -> None:
    client = book.client("ann")
    client.cookies["django_language"] = "en"
    page = client.get("/queue/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "My queue" in page and "我的案件" not in page


@pytest.mark.usefixtures("office_hours")
def test_no_page_shows_a_full_phone_number(client: Client, book: Book) -> None:
    client.force_login(User.objects.create_superuser("root", password="pw-root-123"))
    borrower = Borrower.objects.get(ref="B-1")
    _post_contact(book.client("ann"), book.cases[0], outcome="wrong_number", note="+8613800000001")
    assert not borrower.phones.get().is_valid
    pages = [client.get("/queue/"), book.client("lead").get("/queue/")]
    for case in book.cases:
        pages += [client.get(_url(case)), client.get(_url(case), HTTP_ACCEPT_LANGUAGE="zh-hans")]
    for response in pages:
        assert response.status_code == 200
        _no_pii(response.content.decode())


def test_every_workbench_string_has_a_chinese_translation() -> None:
    """Each string marked for translation in the workbench's templates and views has a msgstr
    in the zh-Hans catalogue (an untranslated string would silently show English)."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract
    from babel.messages.pofile import read_po
    from django.utils.translation.template import templatize

    keywords = dict(DEFAULT_KEYWORDS, gettext_lazy=None)
    sources = [
        templatize((WEB / "templates" / "web" / name).read_text(encoding="utf-8"))
        for name in (
            "queue.html",
            "case.html",
            "_messages.html",
            "base.html",
            "approvals.html",
            "_approvals.html",
            "_decide.html",
            "explain.html",
        )
    ]
    sources += [
        (WEB / name).read_text(encoding="utf-8") for name in ("workbench.py", "concessions.py")
    ]
    with PO.open("rb") as handle:
        catalogue = read_po(handle)
    missing = []
    for source in sources:
        for _line, message, _comments, context in extract(
            "python", io.BytesIO(source.encode()), keywords=keywords
        ):
            msgid = message[0] if isinstance(message, tuple) else message
            entry = catalogue.get(msgid, context=context)
            strings = entry.string if entry is not None else ""
            if not (all(strings) if isinstance(strings, tuple) else strings):
                missing.append(msgid)
    assert missing == []
