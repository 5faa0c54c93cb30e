"""The "today" page: callbacks, promises, plan instalments and holds of the business date."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from arrears.collections import services
from arrears.collections.models import ContactAttempt, Hold, Promise
from arrears.ledger.models import PlanInstalment, RepaymentPlan
from tests.web.conftest import Book
from tests.web.conftest import no_pii as _no_pii

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _rows(page: str, table: str) -> list[str]:
    body = re.search(rf'<table id="{table}">(.*?)</table>', page, re.S)
    assert body is not None
    return re.findall(r"<tr data-case=\"(\d+)\"", body.group(1))


@pytest.fixture
def busy_day(book: Book, _frozen_clock: time_machine.Traveller) -> Book:
    """On ann's case 0: a callback asked for today 16:00–18:00, a promise due today; on
    ann's case 1: an approved plan instalment due today and a hold whose last day is today;
    on bob's case 2 the same four things, which ann must not see."""
    _frozen_clock.move_to(datetime.combine(book.today, time(10, 30), tzinfo=SHANGHAI))
    today = book.today
    ann, bob = book.staff["ann"].user, book.staff["bob"].user
    for case, who in ((book.cases[0], ann), (book.cases[2], bob)):
        services.log_contact(
            case, channel="call", direction="outbound", party="borrower", outcome="callback",
            collector=who, phone=case.borrower.phones.get(), note="call 13800000001 later",
            callback_on=today, callback_from=time(16), callback_until=time(18),
        )  # fmt: skip
        Promise.objects.create(case=case, amount_minor=50_000, made_on=today, due_date=today)
    for n, case in enumerate((book.cases[1], book.cases[2])):
        loan = case.borrower.loans.get()
        plan = RepaymentPlan.objects.create(
            ref=f"P-{n}", loan=loan, effective_on=today - timedelta(days=10),
            status="approved", proposed_by=ann,
        )  # fmt: skip
        PlanInstalment.objects.create(plan=plan, seq=1, due_date=today, amount_minor=12_345)
        PlanInstalment.objects.create(
            plan=plan, seq=2, due_date=today + timedelta(days=30), amount_minor=12_345
        )
        Hold.objects.create(
            borrower=case.borrower, reason="hardship", starts_on=today - timedelta(days=3),
            ends_on=today,
        )  # fmt: skip
    return book


def test_a_collector_sees_todays_callbacks_promises_plans_and_holds(busy_day: Book) -> None:
    page = busy_day.client("ann").get("/today/").content.decode()
    c0, c1 = str(busy_day.cases[0].pk), str(busy_day.cases[1].pk)
    assert _rows(page, "today-callbacks") == [c0]
    assert "16:00–18:00" in page
    assert "call 138****0001 later" in page
    assert _rows(page, "today-promises") == [c0]
    assert "500.00" in page
    assert _rows(page, "today-plans") == [c1]
    assert "123.45" in page and "P-0" in page
    assert _rows(page, "today-holds") == [c1]
    _no_pii(page)


def test_bob_sees_his_own_and_a_lead_sees_the_team(busy_day: Book) -> None:
    page = busy_day.client("bob").get("/today/").content.decode()
    c2 = str(busy_day.cases[2].pk)
    for table in ("today-callbacks", "today-promises", "today-plans", "today-holds"):
        assert _rows(page, table) == [c2]
    page = busy_day.client("lead").get("/today/").content.decode()
    assert len(_rows(page, "today-callbacks")) == 2 and len(_rows(page, "today-holds")) == 2
    page = busy_day.client("olga").get("/today/").content.decode()
    assert all(_rows(page, t) == [] for t in ("today-callbacks", "today-promises"))


def test_yesterdays_and_tomorrows_items_are_not_today(busy_day: Book) -> None:
    Promise.objects.update(due_date=busy_day.today + timedelta(days=1))
    Hold.objects.update(ends_on=busy_day.today + timedelta(days=1))
    ContactAttempt.objects.update(
        consent_starts=timezone.now() + timedelta(days=1),
        consent_ends=timezone.now() + timedelta(days=1, hours=2),
    )
    RepaymentPlan.objects.update(status="requested")  # not in force
    page = busy_day.client("ann").get("/today/").content.decode()
    for table in ("today-callbacks", "today-promises", "today-plans", "today-holds"):
        assert _rows(page, table) == []
    assert "No callbacks today." in page and "No holds end today." in page


def test_a_kept_promise_or_a_released_hold_is_not_listed(busy_day: Book) -> None:
    Promise.objects.update(status="kept")
    Hold.objects.update(released_on=busy_day.today)
    page = busy_day.client("ann").get("/today/").content.decode()
    assert _rows(page, "today-promises") == [] and _rows(page, "today-holds") == []


def test_today_needs_a_collector_profile_and_speaks_chinese(busy_day: Book) -> None:
    stranger = Client()
    stranger.force_login(User.objects.create_user("stranger", password="pw"))
    assert stranger.get("/today/").status_code == 403
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(busy_day.staff["ann"].user)
    page = client.get("/today/").content.decode()
    assert "约定回电" in page and "今天结束的暂停" in page


def test_today_makes_a_bounded_number_of_queries(
    busy_day: Book, django_assert_max_num_queries: object
) -> None:
    lead = busy_day.client("lead")
    # session, user, profile, business date, four lists, the cases of plans and holds; the
    # header: the admin link (the groups' permissions) and the approvals badge
    with django_assert_max_num_queries(16):  # type: ignore[operator]
        assert lead.get("/today/").status_code == 200
