"""Issue 14, defect 3: each hostile value that gave a 500 or was accepted wrongly is now a 400
page with the field's error, and nothing is written (CI runs these on SQLite and PostgreSQL).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from arrears.collections import concessions as service
from arrears.collections import services
from arrears.collections.models import Case, ContactAttempt, Promise, WorkItem
from arrears.errorcodes import codes
from arrears.ledger.models import Loan, RepaymentPlan
from arrears.web.concessions import format_instalments
from tests.roles import Role, make_user
from tests.web.conftest import Book

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def office_hours(_frozen_clock: time_machine.Traveller) -> None:
    """Contacts logged mid-morning of the frozen day (the gate refuses a call at night)."""
    _frozen_clock.move_to(datetime.combine(timezone.localdate(), time(10, 30), tzinfo=SHANGHAI))


def _url(case: Case) -> str:
    return f"/cases/{case.pk}/"


def _field_error(page: str, field: str) -> str:
    found = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', page, re.S)
    return found.group(1) if found else ""


def _promise(client: Client, case: Case, amount: str, due: date, **extra: str) -> Any:
    data = {
        "action": "promise",
        "promise-amount": amount,
        "promise-due_date": due.isoformat(),
        "promise-tolerance": "",
        **{f"promise-{k}": v for k, v in extra.items()},
    }
    return client.post(_url(case), data)


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("1e30", "Not an amount"),
        ("1e2", "Not an amount"),
        ("１２３", "Not an amount"),
        ("NaN", "Not an amount"),
        ("-5", "cannot be negative"),
        ("99999999999999999999", "Not an amount"),
        ("100000000000", "The amount is too large"),
    ],
)
def test_a_hostile_promise_amount_is_a_400_with_the_fields_error(
    book: Book, amount: str, message: str
) -> None:
    response = _promise(book.client("ann"), book.cases[0], amount, book.today)
    assert response.status_code == 400
    assert message in _field_error(response.content.decode(), "promise-amount")
    assert not Promise.objects.exists()


def test_a_promise_above_what_is_owed_is_refused_with_its_code(book: Book) -> None:
    case = book.cases[0]
    owed = services.owed_on(case, book.today)
    assert owed > 0
    too_much = f"{(owed + 1) // 100}.{(owed + 1) % 100:02d}"
    response = _promise(book.client("ann"), case, too_much, book.today + timedelta(days=3))
    assert response.status_code == 400
    error = _field_error(response.content.decode(), "promise-amount")
    assert "is more than the borrower owes on" in error
    assert not Promise.objects.exists()
    # exactly what is owed is a promise to pay everything: accepted
    everything = f"{owed // 100}.{owed % 100:02d}"
    accepted = _promise(book.client("ann"), case, everything, book.today + timedelta(days=3))
    assert accepted.status_code == 302
    assert Promise.objects.get().amount_minor == owed


def test_the_service_refuses_a_promise_above_owed_for_every_caller(book: Book) -> None:
    case = book.cases[0]
    owed = services.owed_on(case, book.today)
    with pytest.raises(services.CollectionsError) as refused:
        services.make_promise(case, amount_minor=owed + 1, due_date=book.today)
    assert (refused.value.code, refused.value.field) == ("promise-above-owed", "amount")
    with pytest.raises(services.CollectionsError) as huge:
        services.make_promise(case, amount_minor=10**30, due_date=book.today)
    assert huge.value.code == "promise-too-large"
    assert not Promise.objects.exists()


def _loan(case: Case) -> Loan:
    return Loan.objects.get(borrower_id=case.borrower_id)


def _plan(client: Client, case: Case, lines: str, **fields: str) -> Any:
    data = {
        "action": "plan",
        "plan-loan": _loan(case).pk,
        "plan-instalments": lines,
        "plan-grace_days": "3",
        "plan-tolerance": "",
        "plan-note": "",
        "plan-submit": "propose",
        **{f"plan-{k}": v for k, v in fields.items()},
    }
    return client.post(_url(case), data)


def _good_lines(book: Book, case: Case) -> str:
    owed = service.ledger_state(_loan(case), book.today).total_due
    return format_instalments([(book.today + timedelta(days=10), owed)], "CNY")


def test_a_negative_plan_tolerance_is_a_400_with_the_fields_error(book: Book) -> None:
    case = book.cases[0]
    response = _plan(book.client("ann"), case, _good_lines(book, case), tolerance="-1")
    assert response.status_code == 400
    assert "cannot be negative" in _field_error(response.content.decode(), "plan-tolerance")
    assert not RepaymentPlan.objects.exists()


def test_a_plan_instalment_on_9999_12_31_is_a_400_with_the_fields_error(book: Book) -> None:
    case = book.cases[0]
    response = _plan(book.client("ann"), case, "9999-12-31 100.00")
    assert response.status_code == 400
    error = _field_error(response.content.decode(), "plan-instalments")
    assert "Line 1: date: Enter a date from 1970-01-01 to 2199-12-31." in error
    assert not RepaymentPlan.objects.exists()


def test_the_plan_service_refuses_out_of_bounds_values_with_plan_codes(book: Book) -> None:
    loan = _loan(book.cases[0])
    day = book.today
    cases: list[tuple[dict[str, Any], str]] = [
        ({"tolerance_minor": -100}, "plan-tolerance-negative"),
        ({"grace_days": -1}, "plan-grace-days"),
        ({"grace_days": 366}, "plan-grace-days"),
        ({"instalments": [(date(2199, 12, 31), 100)]}, "plan-instalment-too-far"),
        ({"instalments": [(day + timedelta(days=5), 10**30)]}, "plan-instalment-too-large"),
        ({"effective_on": date(9999, 1, 1)}, "plan-start-out-of-range"),
    ]
    for change, code in cases:
        arguments: dict[str, Any] = {
            "user": None,
            "effective_on": day,
            "instalments": [(day + timedelta(days=5), 100)],
            **change,
        }
        with pytest.raises(services.CollectionsError) as refused:
            service.propose_plan(loan, **arguments)
        assert refused.value.code == code, change
        assert code in codes()
    assert not RepaymentPlan.objects.exists()


@pytest.mark.parametrize("collector", ["999999999999999999999999999999", "１２", "-1", "1e3"])
@pytest.mark.parametrize("page", ["/team/", "/queue/"])
def test_a_huge_or_odd_collector_parameter_is_no_such_collector_not_a_500(
    book: Book, page: str, collector: str
) -> None:
    response = book.client("lead").get(page, {"collector": collector})
    assert response.status_code in {200, 400}
    assert "B-1" not in response.content.decode() or response.status_code == 400


def _contact(client: Client, case: Case, **fields: str) -> Any:
    phone = case.borrower.phones.get()
    data = {
        "action": "contact",
        "contact-channel": "call",
        "contact-direction": "outbound",
        "contact-party": "borrower",
        "contact-phone": str(phone.pk),
        "contact-outcome": "callback",
        "contact-note": "",
        **{f"contact-{k}": v for k, v in fields.items()},
    }
    return client.post(_url(case), data)


@pytest.mark.usefixtures("office_hours")
def test_a_callback_in_year_9999_is_a_400_with_the_fields_error(book: Book) -> None:
    case = book.cases[0]
    before = WorkItem.objects.count()
    response = _contact(book.client("ann"), case, callback_on="9999-12-31")
    assert response.status_code == 400
    error = _field_error(response.content.decode(), "contact-callback_on")
    assert "Enter a date from 1970-01-01 to 2199-12-31." in error
    assert not ContactAttempt.objects.exists() and WorkItem.objects.count() == before


@pytest.mark.usefixtures("office_hours")
def test_a_callback_beyond_the_bound_is_refused_by_the_service(book: Book) -> None:
    case = book.cases[0]
    too_far = book.today + timedelta(days=services.CALLBACK_MAX_DAYS + 1)
    response = _contact(book.client("ann"), case, callback_on=too_far.isoformat())
    assert response.status_code == 400
    error = _field_error(response.content.decode(), "contact-callback_on")
    assert f"at most {services.CALLBACK_MAX_DAYS} days ahead" in error
    assert not ContactAttempt.objects.exists()
    in_bound = book.today + timedelta(days=services.CALLBACK_MAX_DAYS)
    accepted = _contact(book.client("ann"), case, callback_on=in_bound.isoformat())
    assert accepted.status_code == 302
    assert ContactAttempt.objects.get().consent_starts is not None


def test_field_errors_read_in_chinese(book: Book) -> None:
    response = book.client("ann").post(
        _url(book.cases[0]),
        {
            "action": "promise",
            "promise-amount": "1e2",
            "promise-due_date": book.today.isoformat(),
        },
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400
    assert "不是金额" in _field_error(response.content.decode(), "promise-amount")


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(excess=st.integers(min_value=-(10**6), max_value=10**6))
@example(excess=0)
@example(excess=1)
def test_a_promise_is_accepted_exactly_up_to_what_is_owed(book: Book, excess: int) -> None:
    """Around the owed figure: at or below it a promise is taken, above it refused."""
    case = book.cases[1]
    owed = services.owed_on(case, book.today)
    amount = owed + excess
    if amount <= 0:
        return
    before = Promise.objects.filter(case=case, status="pending").count()
    try:
        services.make_promise(case, amount_minor=amount, due_date=book.today)
    except services.CollectionsError as refused:
        assert amount > owed and refused.code == "promise-above-owed"
        assert Promise.objects.filter(case=case, status="pending").count() == before
    else:
        assert amount <= owed


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "2026-02-30"])
def test_a_date_filter_outside_the_ledgers_range_is_no_500(book: Book, day: str) -> None:
    """Found by the form fuzzer: ``/audit/?from=0001-01-01`` overflowed the time-zone
    conversion, ``2026-02-30`` raised in Django's date parser; ``/loans/?as_of=`` likewise."""
    carol = make_user(Role.COMPLIANCE_OFFICER, username="carol")
    auditor = Client(HTTP_ACCEPT_LANGUAGE="en")
    auditor.force_login(carol)
    assert auditor.get("/audit/", {"from": day, "to": day}).status_code == 200
    admin = Client(HTTP_ACCEPT_LANGUAGE="en")
    admin.force_login(make_user(Role.ADMIN, username="root"))
    response = admin.get("/loans/", {"as_of": day})
    assert response.status_code == 400
    page = response.content.decode()
    assert "1970-01-01" in page or "is not a date" in page


def test_a_promise_on_a_loan_the_ledger_cannot_compute_is_refused_not_a_500(book: Book) -> None:
    case = book.cases[0]
    Loan.objects.filter(borrower_id=case.borrower_id).update(principal_minor=10**15)
    with pytest.raises(services.CollectionsError) as refused:
        services.make_promise(case, amount_minor=100, due_date=book.today)
    assert refused.value.code == "promise-owed-unknown"
    response = _promise(book.client("ann"), case, "1.00", book.today)
    assert response.status_code == 400
    assert "cannot be computed" in _field_error(response.content.decode(), "promise-amount")
    assert not Promise.objects.exists()
