"""Concessions in the workbench: waiver and plan forms on the case page, the approvals page,
and the explain page's waivers and plan, through Django's test client.

The book (``conftest.book``) lends CNY 10,000 to each borrower, about twenty days late: the
penalty owed is a few yuan, the interest and principal far more, which is enough to be under
and over the default limits (a team lead approves up to CNY 1,000.00, a manager CNY 10,000.00;
the maker never approves their own request).
"""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from typing import Any

import pytest
from django import forms
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from arrears.collections import concessions as service
from arrears.collections import services
from arrears.collections.models import ApprovalLimit, Case, Hold
from arrears.daily.services import day_run
from arrears.formatting import format_money
from arrears.kernel import limits
from arrears.kernel.money import Money
from arrears.ledger import services as services_ledger
from arrears.ledger.models import Loan, RepaymentPlan, Waiver
from arrears.web.concessions import PLAN_MAX_INSTALMENTS, format_instalments, parse_instalments
from tests import factories
from tests.web.conftest import Book, no_pii


def _url(case: Case) -> str:
    return f"/cases/{case.pk}/"


def _loan(case: Case) -> Loan:
    return Loan.objects.get(borrower_id=case.borrower_id)


def _limit(kind: str, role: str) -> ApprovalLimit:
    return ApprovalLimit.objects.get(kind=kind, role=role)


def _cny(minor: int, language: str = "en") -> str:
    return format_money(Money(minor, "CNY"), language)


def _post_waiver(client: Client, case: Case, **fields: Any) -> Any:
    data = {
        "action": "waiver",
        "waiver-loan": _loan(case).pk,
        "waiver-component": "penalty",
        "waiver-amount": "5.00",
        "waiver-reason": "hardship",
        "waiver-note": "",
    }
    data.update({f"waiver-{k}": v for k, v in fields.items()})
    return client.post(_url(case), data)


def _plan_lines(book: Book, case: Case) -> tuple[str, list[tuple[date, int]]]:
    """Two instalments, in 10 and 40 days, that together pay what is due today."""
    owed = service.ledger_state(_loan(case), book.today).total_due
    rows = [
        (book.today + timedelta(days=10), owed // 2),
        (book.today + timedelta(days=40), owed - owed // 2),
    ]
    return format_instalments(rows, "CNY"), rows


def _post_plan(client: Client, case: Case, submit: str, lines: str, **fields: Any) -> Any:
    data = {
        "action": "plan",
        "plan-loan": _loan(case).pk,
        "plan-instalments": lines,
        "plan-grace_days": "3",
        "plan-tolerance": "",
        "plan-note": "",
        "plan-submit": submit,
    }
    data.update({f"plan-{k}": v for k, v in fields.items()})
    return client.post(_url(case), data)


def _act(client: Client, item: Waiver | RepaymentPlan, action: str, **fields: Any) -> Any:
    kind = "waiver" if isinstance(item, Waiver) else "plan"
    data = {"action": action, "kind": kind, "item": item.pk}
    data.update({f"{action}-{kind}-{item.pk}-{k}": v for k, v in fields.items()})
    return client.post("/approvals/", data)


# --- waivers --------------------------------------------------------------------------------


def test_a_waiver_requested_on_the_case_page_is_approved_by_the_lead_and_explained(
    book: Book,
) -> None:
    ann, lead, case = book.client("ann"), book.client("lead"), book.cases[0]
    before = service.ledger_state(_loan(case), book.today)
    response = _post_waiver(ann, case, note="asked on 13800000001")
    assert response.status_code == 302 and response["Location"] == _url(case)
    waiver = Waiver.objects.get()
    assert (waiver.component, waiver.amount_minor, waiver.status) == ("penalty", 500, "requested")
    assert waiver.requested_by == book.staff["ann"].user
    page = ann.get(_url(case)).content.decode()
    assert f"Waiver {waiver.ref} requested" in page and "Awaiting approval" in page
    assert "asked on 138****0001" in page
    no_pii(page)

    assert 'class="approve"' not in _row(page, "waiver", waiver.pk)  # not for the maker
    assert "May approve: boss (Collections manager), lead (Team lead)." in page

    queue = lead.get("/approvals/").content.decode()
    row = _row(queue, "waiver", waiver.pk)
    assert waiver.ref in row and _cny(500) in row and "ann" in row and "Hardship" in row
    assert f'href="/cases/{case.pk}/"' in row
    assert "May approve: boss (Collections manager), lead (Team lead)." in row
    assert 'class="approve"' in row
    response = _act(lead, waiver, "approve")
    assert response.status_code == 302 and response["Location"] == "/approvals/"
    waiver.refresh_from_db()
    assert waiver.status == "approved"
    assert [a["username"] for a in waiver.approvals] == ["lead"]
    queue = lead.get("/approvals/").content.decode()
    assert f"{waiver.ref} approved; it is now in force." in queue
    assert f'data-waiver="{waiver.pk}"' not in queue  # no longer waiting
    assert f'data-approved="{waiver.pk}"' in queue  # now reversible

    after = service.ledger_state(_loan(case), book.today)
    assert after.penalty_outstanding == before.penalty_outstanding - 500
    explain = ann.get(f"/loans/{waiver.loan.ref}/?as_of={book.today}").content.decode()
    section = _section(explain, "explain-waivers")
    assert waiver.ref in section and "Penalty interest" in section and "5.00" in section
    assert '<td class="num" id="waived-total">5.00</td>' in explain
    assert re.search(r'<td class="num waived">5\.00</td>', explain)  # on its instalment


def test_a_collector_cannot_approve_her_own_waiver_on_the_case_page(book: Book) -> None:
    """Issue 9 item 1: ann approved her own CNY 50 waiver. The service refuses her whatever
    the amount; the page shows the refusal in her language and offers her no Approve button."""
    ann, case = book.client("ann"), book.cases[0]
    _post_waiver(ann, case, component="interest", amount="0.01")
    waiver = Waiver.objects.get()
    page = ann.get(_url(case)).content.decode()
    assert 'class="approve"' not in _row(page, "waiver", waiver.pk)
    response = ann.post(_url(case), {"action": "approve", "kind": "waiver", "item": waiver.pk})
    assert response.status_code == 400
    assert "maker-checker: ann made this request and may not approve it" in (
        response.content.decode()
    )
    response = ann.post(
        _url(case),
        {"action": "approve", "kind": "waiver", "item": waiver.pk},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    page = response.content.decode()
    assert "双人复核：ann 是申请人" in page and "Refused" not in page
    waiver.refresh_from_db()
    assert (waiver.status, waiver.approvals) == ("requested", [])


def _queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as seen:
        assert client.get(path).status_code == 200
    return len(seen)


def test_each_waiting_request_costs_a_page_one_query(book: Book) -> None:
    """Who may approve a waiting request — the borrower's case, who sees it, the role limits —
    is read once for the page listing it (``ApproverReads``); only the request's running total
    is its own. The case page and the approvals page read them again for every row before
    (five queries a row)."""
    ann, lead, case = book.client("ann"), book.client("lead"), book.cases[0]
    assert _post_waiver(ann, case, amount="1.00").status_code == 302
    one = {path: _queries(lead, path) for path in (_url(case), "/approvals/")}
    for client, amount in ((ann, "2.00"), (lead, "3.00")):
        assert _post_waiver(client, case, amount=amount).status_code == 302
    lines, _rows = _plan_lines(book, case)
    assert _post_plan(ann, case, "propose", lines).status_code == 302
    assert Waiver.objects.filter(status="requested").count() == 3
    assert RepaymentPlan.objects.filter(status="requested").count() == 1
    four = {path: _queries(lead, path) for path in (_url(case), "/approvals/")}
    # three running totals, plus what the first plan brings: its instalments and the plan
    # limits (sixteen more on each page before)
    assert {path: four[path] - one[path] for path in one} == {_url(case): 5, "/approvals/": 5}


def test_a_lead_over_their_limit_is_refused_on_the_approvals_page(
    book: Book, settings: Any
) -> None:
    settings.ARREARS_DUAL_APPROVAL_ABOVE = {}
    ApprovalLimit.objects.filter(kind="waiver", role="team_lead").update(approve_up_to=300)
    _post_waiver(book.client("ann"), book.cases[0], amount="3.01")
    waiver = Waiver.objects.get()
    response = _act(book.client("lead"), waiver, "approve")
    assert response.status_code == 400
    page = response.content.decode()
    assert (
        "CN¥3.01 of waivers on this borrower's loans in the last 30 days (this request's "
        "CN¥3.01 included) is above the Team lead limit CN¥3.00; it needs a Collections "
        "manager (limit CN¥10,000.00)"
    ) in html.unescape(page)
    row = _row(page, "waiver", waiver.pk)  # still waiting, and saying who may approve it
    assert "May approve: boss (Collections manager)." in row and 'class="approve"' not in row
    waiver.refresh_from_db()
    assert waiver.status == "requested"
    assert _act(book.client("boss"), waiver, "approve").status_code == 302  # a manager may
    waiver.refresh_from_db()
    assert waiver.status == "approved"


def test_above_the_dual_threshold_the_first_approval_says_a_second_is_needed(
    book: Book, settings: Any
) -> None:
    settings.ARREARS_DUAL_APPROVAL_ABOVE = {"waiver": 500}
    _post_waiver(book.client("ann"), book.cases[0], component="interest", amount="6.00")
    waiver = Waiver.objects.get()
    lead = book.client("lead")
    _act(lead, waiver, "approve")
    page = lead.get("/approvals/").content.decode()
    assert f"Your approval of {waiver.ref} is recorded; a second approver is needed." in page
    row = _row(page, "waiver", waiver.pk)
    assert "lead (Team lead)" in row
    response = _act(lead, waiver, "approve")
    assert response.status_code == 400 and "already approved" in response.content.decode()
    _act(book.client("boss"), waiver, "approve")
    waiver.refresh_from_db()
    assert waiver.status == "approved"


def test_a_waiver_over_what_is_owed_is_refused_on_its_field_and_the_input_kept(
    book: Book,
) -> None:
    response = _post_waiver(
        book.client("ann"), book.cases[0], amount="9999.00", note="keep this note"
    )
    assert response.status_code == 400
    page = response.content.decode()
    field = _section(page, "waiver-form")
    assert re.search(
        r'id="id_waiver-amount_error"[^>]*>\s*<li>CN¥9,999\.00 is more than the penalty left '
        rf"to waive on {book.today} \(CN¥[0-9.,]+\)</li>",
        field,
    ), field
    assert 'value="9999.00"' in page and "keep this note" in page
    assert not Waiver.objects.exists()


@pytest.mark.parametrize("amount", ["abc", "1.234", ""])
def test_a_bad_waiver_amount_is_a_form_error(book: Book, amount: str) -> None:
    response = _post_waiver(book.client("ann"), book.cases[0], amount=amount)
    assert response.status_code == 400
    page = response.content.decode()
    assert ("Not an amount" in page) if amount else ("This field is required." in page)
    assert not Waiver.objects.exists()


def test_a_waiver_on_another_borrowers_loan_is_not_a_choice(book: Book) -> None:
    other = _loan(book.cases[2])
    response = _post_waiver(book.client("ann"), book.cases[0], loan=other.pk)
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert not Waiver.objects.exists()


def test_the_lead_rejects_with_a_reason_and_a_missing_reason_is_refused(book: Book) -> None:
    _post_waiver(book.client("ann"), book.cases[0])
    waiver = Waiver.objects.get()
    lead = book.client("lead")
    response = _act(lead, waiver, "reject", reason="")
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    waiver.refresh_from_db()
    assert waiver.status == "requested"
    response = _act(lead, waiver, "reject", reason="no hardship evidence")
    assert response.status_code == 302
    waiver.refresh_from_db()
    assert waiver.status == "rejected"
    page = book.client("ann").get(_url(book.cases[0])).content.decode()
    assert "Rejected" in page and "rejected: no hardship evidence" in page  # timeline cause
    assert _act(lead, waiver, "approve").status_code == 404  # no longer waiting


def test_the_lead_reverses_an_approved_waiver_from_a_date(book: Book) -> None:
    case = book.cases[0]
    _post_waiver(book.client("ann"), case)
    waiver = Waiver.objects.get()
    lead = book.client("lead")
    _act(lead, waiver, "approve")
    yesterday = book.today - timedelta(days=1)
    response = _act(lead, waiver, "reverse", on=yesterday.isoformat(), reason="keyed twice")
    assert response.status_code == 400  # before the waiver took effect: the service's reason
    page = response.content.decode()
    assert "is before the waiver took effect" in page and "keyed twice" in page
    response = _act(lead, waiver, "reverse", on=book.today.isoformat(), reason="keyed twice")
    assert response.status_code == 302
    waiver.refresh_from_db()
    assert (waiver.status, waiver.reversed_on, waiver.reversal_reason) == (
        "reversed",
        book.today,
        "keyed twice",
    )
    assert service.ledger_state(_loan(case), book.today).waived_total == 0
    page = book.client("ann").get(_url(case)).content.decode()
    assert "Reversed" in page and "keyed twice" in page


# --- repayment plans ------------------------------------------------------------------------


def test_a_plan_preview_shows_the_figures_and_saves_nothing(book: Book) -> None:
    case = book.cases[0]
    lines, rows = _plan_lines(book, case)
    events = case.events.count()
    response = _post_plan(book.client("ann"), case, "preview", lines)
    assert response.status_code == 200
    assert not RepaymentPlan.objects.exists() and case.events.count() == events
    expected = service.preview_plan(_loan(case), effective_on=book.today, instalments=rows)
    assert expected.concession > 0
    page = response.content.decode()
    section = _section(page, "plan-preview")
    for element, value in (
        ("preview-total", expected.total),
        ("preview-owed", expected.owed_now),
        ("preview-current", expected.current_cost),
        ("preview-plan", expected.plan_cost),
        ("preview-concession", expected.concession),
    ):
        assert f'id="{element}">{_cny(value)}</dd>' in section, element
    assert rows[0][0].isoformat() in section and rows[1][0].isoformat() in section
    assert "penalty stops accruing from" in section and "(not saved)" in section
    assert lines.splitlines()[0] in page  # the form keeps the lines for Propose


def test_a_proposed_plan_approved_by_the_lead_puts_the_case_in_plan(book: Book) -> None:
    case = book.cases[0]
    lines, rows = _plan_lines(book, case)
    response = _post_plan(book.client("ann"), case, "propose", lines, note="pays on payday")
    assert response.status_code == 302
    plan = RepaymentPlan.objects.get()
    assert plan.status == "requested" and plan.proposed_by == book.staff["ann"].user
    assert [(i.due_date, i.amount_minor) for i in plan.instalments.all()] == rows
    expected = service.preview_plan(_loan(case), effective_on=book.today, instalments=rows)
    assert plan.concession_minor == expected.concession
    case.refresh_from_db()
    assert case.status == "open"  # proposed is not in force

    lead = book.client("lead")
    row = _row(lead.get("/approvals/").content.decode(), "plan", plan.pk)
    assert plan.ref in row and _cny(plan.concession_minor) in row and "pays on payday" in row
    assert _act(lead, plan, "approve").status_code == 302
    plan.refresh_from_db()
    case.refresh_from_db()
    assert (plan.status, case.status) == ("approved", "in_plan")
    # (the lead looks: the re-evaluation may hand the case to someone else, as its bucket moved)
    page = lead.get(_url(case)).content.decode()
    assert "In a repayment plan" in page and _section(page, "plans").count("Approved") == 1

    explain = lead.get(f"/loans/{plan.loan.ref}/?as_of={book.today}")
    section = _section(explain.content.decode(), f"plan-{plan.ref}")
    assert "Active" in section and "not covered" in section
    assert f"{book.today} … {book.today} (1 day)" in section  # frozen from its start


def test_a_plan_the_service_refuses_is_shown_with_its_reason(book: Book) -> None:
    case = book.cases[0]
    payoff = service.ledger_state(_loan(case), book.today).payoff
    lines = format_instalments([(book.today + timedelta(days=5), payoff + 100)], "CNY")
    response = _post_plan(book.client("ann"), case, "propose", lines)
    assert response.status_code == 400
    page = response.content.decode()
    assert "the instalments total " in page and "more than the payoff" in page
    assert not RepaymentPlan.objects.exists()


def test_bad_plan_lines_are_reported_by_line_and_kept(book: Book) -> None:
    lines = f"{book.today + timedelta(days=5)} 100.00\nnext friday 50\n2026-02-30 10"
    response = _post_plan(book.client("ann"), book.cases[0], "preview", lines)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Line 2: expected" in page and "Line 3: date:" in page
    assert "next friday 50" in page
    assert 'id="plan-preview"' not in page


def test_a_collector_cannot_approve_her_own_plan_on_the_case_page(book: Book) -> None:
    case = book.cases[0]
    lines, _rows = _plan_lines(book, case)
    _post_plan(book.client("ann"), case, "propose", lines)
    plan = RepaymentPlan.objects.get()
    ApprovalLimit.objects.update(approve_up_to=10**12)
    response = book.client("ann").post(
        _url(case), {"action": "approve", "kind": "plan", "item": plan.pk}
    )
    assert response.status_code == 400 and "maker-checker" in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == "requested"


def test_a_request_nobody_can_approve_says_what_it_needs(book: Book, settings: Any) -> None:
    """Issue 9 item 2: above the lead's limit the demo users could never approve, and the page
    did not say who could."""
    settings.ARREARS_DUAL_APPROVAL_ABOVE = {}
    case = book.cases[0]
    _post_waiver(book.client("boss"), case, component="principal", amount="20.00")
    ApprovalLimit.objects.filter(kind="waiver", role="team_lead").update(approve_up_to=1_000)
    page = book.client("lead").get("/approvals/").content.decode()
    row = _row(page, "waiver", Waiver.objects.get().pk)
    assert (
        "Nobody here can approve it yet: it needs a Collections manager (limit "
        "CN¥10,000.00) other than the maker." in row
    )
    ApprovalLimit.objects.filter(kind="waiver").update(approve_up_to=1_000)
    page = book.client("lead").get("/approvals/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    row = _row(page.content.decode(), "waiver", Waiver.objects.get().pk)
    assert "没有角色的额度覆盖 ¥20.00；请在 管理后台 → 审批额度 中提高额度。" in row


def test_a_request_shows_the_running_total_it_joins(book: Book) -> None:
    case = book.cases[0]
    ann = book.client("ann")
    _post_waiver(ann, case, component="interest", amount="2.00")
    _post_waiver(ann, case, component="interest", amount="3.00")
    row = _row(
        book.client("lead").get("/approvals/").content.decode(), "waiver", Waiver.objects.last().pk
    )
    assert "Running total on this borrower over 30 days: CN¥5.00 (this request CN¥3.00)." in row


def test_the_plan_form_offers_the_loan_that_owes_the_most(book: Book) -> None:
    """Issue 9 item 19: the plan form defaulted to a paid-off loan ("nothing is owed")."""
    case = book.cases[0]
    paid = factories.loan(
        "L-0", case.borrower, _loan(case).product, start=book.today - timedelta(50)
    )
    services_ledger.record_payment(
        loan=paid,
        ref="PAY-L-0",
        value_date=book.today - timedelta(49),
        amount_minor=service.ledger_state(paid, book.today - timedelta(49)).payoff,
        currency="CNY",
    )
    day_run(as_of=book.today, engine="reference")
    owing = Loan.objects.get(ref="L-1")
    page = book.client("ann").get(_url(case)).content.decode()
    for form in ("plan-form", "waiver-form"):
        section = _section(page, form)
        assert f'<option value="{owing.pk}" selected>L-1</option>' in section, section
        assert f'<option value="{paid.pk}">L-0</option>' in section


# --- holds ----------------------------------------------------------------------------------


def test_an_active_hold_is_released_from_the_case_page(book: Book) -> None:
    case = book.cases[1]
    hold = services.place_hold(
        case.borrower_id,
        reason="hardship",
        starts_on=book.today,
        ends_on=book.today + timedelta(days=10),
        user=book.staff["ann"].user,
    )
    case.refresh_from_db()
    assert case.status == "on_hold"
    ann = book.client("ann")
    assert "Release hold" in _section(ann.get(_url(case)).content.decode(), "holds")
    response = ann.post(_url(case), {"action": "release", "hold": hold.pk})
    assert response.status_code == 302
    hold.refresh_from_db()
    case.refresh_from_db()
    assert hold.released_on == book.today and case.status != "on_hold"
    assert hold.released_by == book.staff["ann"].user
    page = ann.get(_url(case)).content.decode()
    assert "Hold released" in page and "Release hold" not in _section(page, "holds")
    # releasing again, or another borrower's hold, is a 404
    assert ann.post(_url(case), {"action": "release", "hold": hold.pk}).status_code == 404
    other = Hold.objects.create(
        borrower_id=book.cases[2].borrower_id,
        reason="complaint",
        starts_on=book.today,
        ends_on=book.today + timedelta(days=3),
    )
    assert ann.post(_url(case), {"action": "release", "hold": other.pk}).status_code == 404


def test_a_collector_cannot_release_a_dispute_hold_and_her_lead_can(book: Book) -> None:
    """Issue 9 item 3: a collector released complaint, legal and deceased holds."""
    case = book.cases[1]
    hold = services.place_hold(
        case.borrower_id,
        reason="dispute",
        starts_on=book.today,
        ends_on=book.today + timedelta(days=10),
        user=book.staff["ann"].user,
    )
    ann = book.client("ann")
    assert "Release hold" not in _section(ann.get(_url(case)).content.decode(), "holds")
    response = ann.post(_url(case), {"action": "release", "hold": hold.pk})
    assert response.status_code == 400
    assert "ann (Collector) may not release a dispute hold" in response.content.decode()
    hold.refresh_from_db()
    assert hold.released_on is None
    lead = book.client("lead")
    assert "Release hold" in _section(lead.get(_url(case)).content.decode(), "holds")
    assert lead.post(_url(case), {"action": "release", "hold": hold.pk}).status_code == 302
    hold.refresh_from_db()
    assert hold.released_by == book.staff["lead"].user


# --- who may do what ------------------------------------------------------------------------


def test_a_collector_cannot_open_the_approvals_page(book: Book, client: Client) -> None:
    _post_waiver(book.client("ann"), book.cases[0])
    waiver = Waiver.objects.get()
    ann = book.client("ann")
    assert ann.get("/approvals/").status_code == 403
    assert _act(ann, waiver, "approve").status_code == 403
    assert "/approvals/" not in ann.get(_url(book.cases[0])).content.decode()
    client.force_login(User.objects.create_user("clerk", password="pw-clerk"))
    assert client.get("/approvals/").status_code == 403
    assert Client().get("/approvals/").status_code == 302  # to the login page


def test_a_lead_of_another_team_sees_and_approves_none_of_these(book: Book) -> None:
    _post_waiver(book.client("ann"), book.cases[0])
    waiver = Waiver.objects.get()
    olga = book.client("olga")
    page = olga.get("/approvals/").content.decode()
    assert waiver.ref not in page
    assert _act(olga, waiver, "approve").status_code == 404
    waiver.refresh_from_db()
    assert waiver.status == "requested"


def test_a_collector_cannot_approve_on_another_borrowers_case_page(book: Book) -> None:
    _post_waiver(book.client("bob"), book.cases[2])
    waiver = Waiver.objects.get()
    ann = book.client("ann")
    response = ann.post(
        _url(book.cases[0]), {"action": "approve", "kind": "waiver", "item": waiver.pk}
    )
    assert response.status_code == 404


def test_a_superuser_sees_every_request(book: Book, client: Client) -> None:
    _post_waiver(book.client("bob"), book.cases[2])
    client.force_login(User.objects.create_superuser("root", password="pw-root-123"))
    page = client.get("/approvals/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert Waiver.objects.get().ref in page


# --- language and privacy -------------------------------------------------------------------


def test_the_concession_pages_speak_chinese(book: Book) -> None:
    case = book.cases[0]
    _post_waiver(book.client("ann"), case)
    ann, lead = book.client("ann"), book.client("lead")
    page = ann.get(_url(case), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "申请减免" in page and "协商还款计划" in page and "待审批" in page
    lines, _rows = _plan_lines(book, case)
    ann.cookies["django_language"] = "zh-hans"
    preview = _post_plan(ann, case, "preview", lines).content.decode()
    assert "减免金额" in preview and "罚息自" in preview
    queue = lead.get("/approvals/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "待审批的减免" in queue and "批准" in queue and "驳回" in queue
    _act(lead, Waiver.objects.get(), "approve")
    explain = ann.get(f"/loans/L-1/?as_of={book.today}").content.decode()
    assert "减免" in explain and "罚息" in _section(explain, "explain-waivers")


def test_no_concession_page_shows_a_full_phone_number(book: Book, client: Client) -> None:
    case = book.cases[0]
    lines, _rows = _plan_lines(book, case)
    ann = book.client("ann")
    _post_waiver(ann, case, note="call +8613800000001")
    _post_plan(ann, case, "propose", lines, note="wife 13800000002")
    lead = book.client("lead")
    _act(lead, Waiver.objects.get(), "reject", reason="called 13800000003 instead")
    client.force_login(User.objects.create_superuser("root", password="pw-root-123"))
    pages = [
        lead.get("/approvals/"),
        lead.get("/approvals/", HTTP_ACCEPT_LANGUAGE="zh-hans"),
        client.get("/approvals/"),
        ann.get(_url(case)),
        _post_plan(ann, case, "preview", lines),
        ann.get(f"/loans/L-1/?as_of={book.today}"),
    ]
    for response in pages:
        assert response.status_code == 200
        no_pii(response.content.decode())


# --- plan lines -----------------------------------------------------------------------------

_ROWS = st.lists(
    st.tuples(
        st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
        st.integers(min_value=1, max_value=limits.MAX_AMOUNT_MINOR),
    ),
    min_size=1,
    max_size=PLAN_MAX_INSTALMENTS,
)


@given(rows=_ROWS, currency=st.sampled_from(["CNY", "USD", "JPY"]))
def test_plan_lines_read_back_exactly_what_was_written(
    rows: list[tuple[date, int]], currency: str
) -> None:
    assert parse_instalments(format_instalments(rows, currency), currency) == rows


@given(
    rows=_ROWS,
    blank=st.sampled_from(["", "  ", "\t"]),
    sep=st.sampled_from([" ", "\t", ",", " ; "]),
)
def test_plan_lines_ignore_blank_lines_and_accept_common_separators(
    rows: list[tuple[date, int]], blank: str, sep: str
) -> None:
    text = f"\n{blank}\n".join(
        f"{due.isoformat()}{sep}{Money(minor, 'CNY').amount}" for due, minor in rows
    )
    assert parse_instalments(text, "CNY") == rows


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter at least one instalment."),
        ("2026-04-01", "Line 1: expected"),
        ("2026-04-01 12.345", "Line 1: amount: Not an amount: type digits 0-9 with at most 2"),
        ("2026-04-01 1e2", "Line 1: amount: Not an amount"),
        ("2026-04-01 １２", "Line 1: amount: Not an amount"),
        ("2026-04-01 1000000000000", "Line 1: amount: The amount is too large"),
        ("01/04/2026 10", "Line 1: date: Enter a date as YYYY-MM-DD."),
        ("9999-12-31 10", "Line 1: date: Enter a date from 1970-01-01 to 2199-12-31."),
        ("\n".join(f"2026-04-{d:02d} 1" for d in range(1, 14)), "At most 12 instalments (13"),
    ],
)
def test_bad_plan_lines_are_named(text: str, message: str) -> None:
    with translation.override("en"), pytest.raises(forms.ValidationError) as raised:
        parse_instalments(text, "CNY")
    assert any(message in m for m in raised.value.messages), raised.value.messages


def test_a_bad_plan_line_is_named_in_chinese_too() -> None:
    """Every word of a line's error in the reader's language, the field's name included."""
    for text, field in (("9999-12-31 10", "日期"), ("2026-04-01 1e2", "金额")):
        with translation.override("zh-hans"), pytest.raises(forms.ValidationError) as raised:
            parse_instalments(text, "CNY")
        (message,) = raised.value.messages
        assert field in message and "date" not in message and "amount" not in message, message


# --- helpers --------------------------------------------------------------------------------


def _row(page: str, kind: str, pk: int) -> str:
    match = re.search(rf'<tr data-{kind}="{pk}">(.*?)</tr>', page, re.S)
    assert match is not None, f"no {kind} row {pk}"
    return match.group(1)


def _section(page: str, element_id: str) -> str:
    """The HTML of the element with ``element_id`` (a table or a section: neither nests)."""
    start = page.rindex("<", 0, page.index(f'id="{element_id}"'))
    tag = re.match(r"<(\w+)", page[start:])
    assert tag is not None
    return page[start : page.index(f"</{tag.group(1)}>", start)]
