"""Make a plan: auto-approval within bounds, a team lead otherwise, reminders paused meanwhile."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from arrears.collections import concessions, dayflow
from arrears.collections.approvals import ApprovalRefused
from arrears.collections.models import Case, Collector, Hold, Promise, Team, WorkItem
from arrears.contact import dispatch
from arrears.contact.models import OutboxMessage
from arrears.daily.services import day_run
from arrears.kernel.explain import explain
from arrears.ledger import selectors as ledger_selectors
from arrears.ledger.models import RepaymentPlan
from arrears.portal import plans
from tests.portal.conftest import Book


@pytest.fixture
def book(shared_book: Book) -> Book:
    """Every test here starts from the portal's book as built: built once for the module."""
    return shared_book


def _page(book: Book) -> str:
    return f"/my/loans/{book.loan.ref}/plan/"


def _ask(client: Client, book: Book, **data: str) -> Any:
    return client.post(_page(book), {"action": "plan", **data})


def _reminders(book: Book, day) -> int:
    """Reminder messages queued and pending reminder work (texts, robocalls, calls) for the
    borrower on ``day``."""
    messages = OutboxMessage.objects.filter(
        borrower=book.borrower, due_on=day, template="overdue_reminder"
    ).count()
    work = WorkItem.objects.filter(
        borrower=book.borrower,
        due_on=day,
        channel__in=("sms", "voice", "call_task"),
        status="pending",
    ).count()
    return messages + work


def _run(day) -> None:
    day_run(as_of=day, engine="reference")
    dayflow.run(day)


@pytest.fixture
def lead(book: Book) -> User:
    team = Team.objects.create(code="t1", name="Team 1", owner=book.case.owner or "internal_team")
    Case.objects.filter(pk=book.case.pk).update(owner=team.owner)
    user = User.objects.create_user(username="lena", password="x")
    Collector.objects.create(user=user, team=team, role=Collector.Role.TEAM_LEAD)
    return user


def test_a_plan_within_the_bounds_is_approved_at_once_and_explain_shows_it(
    book: Book, client: Client
):
    book.sign_in(client)
    first = book.today + timedelta(days=3)
    response = _ask(client, book, instalments="2", first_on=str(first), first_amount="")
    assert response.status_code == 302, response.content.decode()[:800]
    plan = RepaymentPlan.objects.get(loan=book.loan)
    assert plan.status == "approved" and plan.proposed_by.username == plans.MAKER
    assert plan.approvals[-1]["username"] == plans.APPROVER
    assert plan.approvals[-1]["role"] == "system"
    data = explain(*ledger_selectors.loan_state(book.loan, book.today))
    assert data["plan"]["ref"] == plan.ref and data["plan"]["active"]
    assert not Hold.objects.filter(borrower=book.borrower).exists()
    page = client.get(response["Location"]).content.decode()
    assert 'id="made"' in page and f"Your plan {plan.ref} is approved" in page
    assert OutboxMessage.objects.filter(key=f"plan:{plan.pk}:confirmation").exists()
    book.case.refresh_from_db()
    assert book.case.status == "in_plan"


def test_a_plan_beyond_the_bounds_waits_for_a_team_lead_and_the_borrower_cannot_approve_it(
    book: Book, client: Client, lead: User
):
    book.sign_in(client)
    first = book.today + timedelta(days=3)
    response = _ask(client, book, instalments="5", first_on=str(first))
    assert response.status_code == 302
    plan = RepaymentPlan.objects.get(loan=book.loan)
    assert plan.status == "requested"
    data = explain(*ledger_selectors.loan_state(book.loan, book.today))
    assert data["plan"] is None or not data["plan"]["active"]
    page = client.get(response["Location"]).content.decode()
    assert "A team lead will look at your plan" in page
    for who in (plans.maker(), plans.approver()):
        with pytest.raises(ApprovalRefused):
            concessions.approve_plan(plan, who)
    with pytest.raises(ApprovalRefused):
        concessions.approve_plan_by_system(plan, plans.maker(), up_to=10**9)
    staff = Client(HTTP_ACCEPT_LANGUAGE="en")
    staff.force_login(lead)
    inbox = staff.get("/approvals/").content.decode()
    assert plan.ref in inbox and plans.MAKER in inbox
    concessions.approve_plan(plan, lead)
    plan.refresh_from_db()
    assert plan.status == "approved"
    hold = Hold.objects.get(borrower=book.borrower, reason="plan_request")
    assert hold.released_on == book.today and hold.released_by.username == plans.APPROVER


def test_a_plan_whose_concession_is_above_the_bound_is_routed(
    book: Book, client: Client, settings: Any
):
    settings.ARREARS_PORTAL_PLANS = {"auto_max_concession_minor": 0}
    book.sign_in(client)
    _ask(client, book, instalments="3", first_on=str(book.today + timedelta(days=5)))
    plan = RepaymentPlan.objects.get(loan=book.loan)
    assert plan.concession_minor > 0 and plan.status == "requested"


def test_reminders_pause_while_a_request_is_open_and_resume_after_it_is_decided(
    book: Book, client: Client, lead: User
):
    tomorrow = book.today + timedelta(days=1)
    book.sign_in(client)
    _ask(client, book, instalments="6", first_on=str(book.today + timedelta(days=20)))
    plan = RepaymentPlan.objects.get(loan=book.loan)
    hold = Hold.objects.get(borrower=book.borrower, reason="plan_request")
    assert hold.ends_on == book.today + timedelta(days=5)
    assert set(hold.channels) >= {"sms", "voice", "call_task"}
    _run(tomorrow)
    assert _reminders(book, tomorrow) == 0
    suppressed = WorkItem.objects.filter(borrower=book.borrower, due_on=tomorrow)
    assert suppressed.exists() and {w.status for w in suppressed} == {"suppressed"}
    concessions.reject(plan, user=lead, reason="income not shown")
    hold.refresh_from_db()
    assert hold.released_on is not None
    # the next text is due on dpd 13; the hold (to day 5) would still have stopped it
    after = tomorrow + timedelta(days=3)
    for day in range(2, 5):
        _run(book.today + timedelta(days=day))
    assert _reminders(book, after) > 0


def test_without_a_request_the_next_day_sends_a_reminder(book: Book):
    """The control for the test above: this book does get a reminder the next day."""
    tomorrow = book.today + timedelta(days=1)
    _run(tomorrow)
    assert _reminders(book, tomorrow) > 0


@dataclass
class _Recorder:
    name: str = "sms"
    sent: list[Any] = field(default_factory=list)

    def send(self, message: Any) -> Any:
        self.sent.append(message)
        return type("R", (), {"status": "sent", "provider_ref": "r1", "detail": ""})()


def test_a_promise_from_the_portal_is_recorded_and_confirmed(book: Book, client: Client):
    book.sign_in(client)
    due = book.today + timedelta(days=6)
    response = client.post(_page(book), {"action": "promise", "amount": "500.00", "on": str(due)})
    assert response.status_code == 302, response.content.decode()[:800]
    promise = Promise.objects.get(case=book.case)
    assert (promise.amount_minor, promise.due_date, promise.status) == (50_000, due, "pending")
    assert promise.made_by.username == plans.MAKER
    book.case.refresh_from_db()
    assert book.case.status == "promised"
    sms = _Recorder()
    ten = timezone.make_aware(datetime.combine(book.today, time(10)))
    dispatch.dispatch_once({"sms": sms}, now=lambda: ten)
    message = OutboxMessage.objects.get(key=f"promise:{promise.pk}:confirmation")
    assert message.status == "sent", message.status_reason
    assert "500.00" in sms.sent[-1].body and str(due) in sms.sent[-1].body
    page = client.get(response["Location"]).content.decode()
    assert "Your promise to pay is recorded" in page and "Waiting for your payment" in page


def test_one_open_request_per_loan(book: Book, client: Client):
    book.sign_in(client)
    client.post(_page(book), {"action": "promise", "amount": "100", "on": str(book.today)})
    page = client.get(_page(book)).content.decode()
    assert 'id="open-request"' in page and 'id="plan-form"' not in page
    response = _ask(client, book, instalments="2", first_on=str(book.today))
    assert response.status_code == 400 and "you have promised to pay" in response.content.decode()
    assert not RepaymentPlan.objects.filter(loan=book.loan).exists()


@pytest.mark.parametrize(
    ("data", "error_id"),
    [
        ({"action": "plan", "instalments": "9", "first_on": "{today}"}, "instalments-error"),
        ({"action": "plan", "instalments": "x", "first_on": "{today}"}, "instalments-error"),
        ({"action": "plan", "instalments": "2", "first_on": "2099-01-01"}, "first_on-error"),
        ({"action": "plan", "instalments": "2", "first_on": "{yesterday}"}, "first_on-error"),
        (
            {"action": "plan", "instalments": "2", "first_on": "{today}", "first_amount": "1e3"},
            "first_amount-error",
        ),
        (
            {"action": "plan", "instalments": "2", "first_on": "{today}", "first_amount": "99999"},
            "first_amount-error",
        ),
        ({"action": "promise", "amount": "１００", "on": "{today}"}, "amount-error"),
        ({"action": "promise", "amount": "0", "on": "{today}"}, "amount-error"),
        ({"action": "promise", "amount": "10", "on": "{far}"}, "on-error"),
    ],
)
def test_bad_input_is_refused_next_to_its_field(
    book: Book, client: Client, data: dict[str, str], error_id: str
):
    book.sign_in(client)
    days = {
        "today": str(book.today),
        "yesterday": str(book.today - timedelta(days=1)),
        "far": str(book.today + timedelta(days=40)),
    }
    response = client.post(_page(book), {k: v.format(**days) for k, v in data.items()})
    page = response.content.decode()
    assert response.status_code == 400
    assert f'id="{error_id}"' in page and f'aria-describedby="{error_id}"' in page
    assert not RepaymentPlan.objects.exists() and not Promise.objects.exists()


def test_another_borrowers_loan_is_not_found(book: Book, client: Client):
    book.sign_in(client)
    path = f"/my/loans/{book.other_loan.ref}/plan/"
    assert client.get(path).status_code == 404
    response = client.post(path, {"action": "promise", "amount": "1", "on": str(book.today)})
    assert response.status_code == 404
    assert not Promise.objects.exists()


def _token(book: Book, client: Client) -> dict[str, str]:
    started = client.post("/api/v1/my/sign-in", {"loan": book.loan.ref}, "application/json")
    confirmed = client.post(
        "/api/v1/my/sign-in/confirm",
        {"challenge": started.json()["challenge"], "code": book.codes()[-1]},
        "application/json",
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {confirmed.json()['token']}"}


def test_the_json_endpoints_mirror_the_page(book: Book, client: Client):
    auth = _token(book, client)
    base = f"/api/v1/my/loans/{book.loan.ref}"
    shown = client.get(f"{base}/plan", **auth).json()
    assert len(shown["options"]) == plans.limits().max_instalments
    first = shown["options"][0]
    assert first["approved_at_once"] is True and first["instalments"] == 1
    assert first["pay_now"] == shown["payoff"]
    refused = client.post(
        f"{base}/plan", {"instalments": "2", "first_on": "2099-01-01"}, "application/json", **auth
    )
    assert refused.status_code == 400 and refused.json()["error"]["field"] == "first_on"
    made = client.post(
        f"{base}/plan",
        {"instalments": "2", "first_on": str(book.today)},
        "application/json",
        **auth,
    )
    assert made.status_code == 201 and made.json()["request"]["status"] == "approved"
    again = client.post(
        f"{base}/promise", {"amount": "10", "on": str(book.today)}, "application/json", **auth
    )
    assert again.status_code == 409
    assert "plan" in client.get(f"{base}/plan", **auth).json()["open_request"]
    other = f"/api/v1/my/loans/{book.other_loan.ref}/plan"
    assert client.get(other, **auth).status_code == 404


#: What the plan page may cost: the session, the borrower and the loan, its rows read once
#: (``plans.with_history``), the open-request checks and the requests listed. Every option's
#: preview replays the loan three times, and each replay read the rows again: 93 with six
#: options before.
PLAN_PAGE_QUERIES = 15


def test_the_plan_page_reads_the_loan_once_for_every_option(
    book: Book, client: Client, django_assert_max_num_queries: Any
):
    book.sign_in(client)
    with django_assert_max_num_queries(PLAN_PAGE_QUERIES):
        page = client.get(_page(book)).content.decode()
    shown = page.split('<table id="options">')[1].split("</table>")[0]
    assert shown.count('<th scope="row">') == plans.limits().max_instalments
    refused = {"action": "plan", "instalments": "99", "first_on": str(book.today)}
    with django_assert_max_num_queries(PLAN_PAGE_QUERIES):
        assert client.post(_page(book), refused).status_code == 400


def test_the_page_speaks_chinese(book: Book):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    book.sign_in(client)
    page = client.get(_page(book)).content.decode()
    assert "为贷款 L-P 制定还款计划" in page and "立即批准的条件" in page and "%%" not in page
    response = _ask(client, book, instalments="9", first_on=str(book.today))
    assert "请选择 1 至 6 期" in response.content.decode()
