"""Fixtures for the compliance pages: a team of collectors, a compliance officer holding the
pages' permissions directly, cases, logged contacts and gate decisions made as plain rows."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from arrears.collections.models import Case, Collector, ContactAttempt, Team
from arrears.contact.models import GateDecision, OutboxMessage
from arrears.ledger import models as ledger
from tests import factories

SH = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 16)  # a Monday, before the frozen test clock's 2 December
PERMS = (
    ("contact", "view_gatedecision"),
    ("collections", "view_contactattempt"),
    ("quality", "view_contactreview"),
    ("quality", "add_contactreview"),
)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SH)


def grant(user: User, *perms: tuple[str, str]) -> User:
    for app, codename in perms:
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app, codename=codename)
        )
    return User.objects.get(pk=user.pk)  # a fresh object: no cached permissions


def client_for(user: User | None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def team(db: None) -> Team:
    return Team.objects.create(code="internal", name="Internal", owner="internal_team")


def collector(name: str, team: Team, role: str = "collector") -> User:
    user = User.objects.create_user(name)
    Collector.objects.create(user=user, team=team, role=role)
    return user


@pytest.fixture
def ann(team: Team) -> User:
    return collector("ann", team)


@pytest.fixture
def bob(team: Team) -> User:
    return collector("bob", team)


@pytest.fixture
def officer(db: None) -> User:
    """The compliance officer: every permission of the pages, no collector profile."""
    return grant(User.objects.create_user("olga"), *PERMS)


@pytest.fixture
def borrower(db: None) -> ledger.Borrower:
    owner = factories.borrower("B-Q1", phone="+8613800000001")
    factories.loan("L-Q1", owner, factories.product())
    return owner


@pytest.fixture
def case(borrower: ledger.Borrower) -> Case:
    return Case.objects.create(borrower=borrower, currency="CNY", opened_on=DAY)


def other_case(ref: str, phone: str, name: str = "李四") -> Case:
    owner = factories.borrower(ref, phone=phone)
    ledger.Borrower.objects.filter(pk=owner.pk).update(name=name)
    factories.loan(f"L-{ref}", owner, ledger.Product.objects.first())  # type: ignore[arg-type]
    return Case.objects.create(borrower=owner, currency="CNY", opened_on=DAY)


def contact(case: Case, by: User | None, when: datetime, **fields: Any) -> ContactAttempt:
    """A logged contact as a plain row (the gate is tested elsewhere)."""
    base: dict[str, Any] = {
        "channel": "call",
        "direction": "outbound",
        "party": "borrower",
        "outcome": "rpc",
        "recording_ref": f"rec-{when:%d%H%M}-{by.pk if by else 0}",
        "phone": case.borrower.phones.first(),
    }
    base.update(fields)
    return ContactAttempt.objects.create(case=case, collector=by, at=when, **base)


def decide(
    when: datetime,
    outcome: str = "allow",
    rules: tuple[str, ...] = (),
    *,
    logged: ContactAttempt | None = None,
    message: OutboxMessage | None = None,
    overridden: bool = False,
    reason: str = "",
) -> GateDecision:
    """A gate decision as ``contact.gate.record`` stores it."""
    request: dict[str, Any] = {"channel": "voice" if logged else "sms", "party": "borrower"}
    if logged is not None:
        request.update(
            contact=logged.pk,
            debt=f"case{logged.case_id}",
            logged_by=logged.collector.get_username() if logged.collector else "",
            overridden=overridden,
            override_reason=reason,
        )
    return GateDecision.objects.create(
        message=message,
        at=when,
        outcome=outcome,
        pack="cn v1",
        rules=[{"id": r, "citation": "", "message": f"{r} fired"} for r in rules],
        request=request,
    )


def message(case: Case, when: datetime, status: str = "sent", **fields: Any) -> OutboxMessage:
    base: dict[str, Any] = {
        "key": f"m{case.pk}:{when.isoformat()}:{status}",
        "borrower": case.borrower,
        "case": case,
        "channel": "sms",
        "template": "reminder",
        "locale": "zh-CN",
        "status": status,
        "not_before": when,
        "to_address": "+8613800000001",
        "sent_at": when if status in ("sent", "delivered") else None,
    }
    base.update(fields)
    return OutboxMessage.objects.create(**base)
