"""Every form posts hostile values and never answers 5xx (issue 14, "Fuzzers in CI: forms").

:data:`FORMS` is the maintained list of form-handling pages: the URL name, the role that uses
the form, a valid submission and the fields that get hostile values (huge numbers, exponents,
full-width digits, NUL, very long strings, impossible dates, negative numbers). Hypothesis posts
each form a few dozen times as its role; every answer is below 500, and a refusal (4xx) writes
no row to the tables the form could write. :func:`test_the_list_covers_every_view_that_handles_post`
walks the URL resolver so a new form page cannot be forgotten: it must be listed here or in
:data:`EXEMPT` with a reason. The run is bounded: each form gets ``EXAMPLES`` examples on one
book built once (the whole file takes well under a minute).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.db.models import Model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.accounts.roles import Role
from arrears.agencies.models import Agency, Placement
from arrears.collections.models import (
    Case,
    ContactAttempt,
    Hold,
    Promise,
)
from arrears.complaints.models import Complaint
from arrears.fieldwork.models import FieldVisit
from arrears.ledger.models import Loan, RepaymentPlan, Waiver
from arrears.portal import session as portal_session
from arrears.quality.models import ReviewSample
from arrears.web.models import SavedView
from tests.roles import make_user
from tests.web.conftest import Book

#: Examples per form: enough to hit each hostile family several times, small enough that the
#: whole file stays about a minute on a shared CI core. ``ARREARS_FUZZ_EXAMPLES`` runs deeper
#: (a nightly job, or a developer hunting).
EXAMPLES = int(os.environ.get("ARREARS_FUZZ_EXAMPLES", "8"))
#: What differs between the databases is which values they store or refuse (a NUL, a number
#: out of range, a long text), and the deterministic sweep below puts those in every field on
#: both; the random part explores the forms' own logic, the same on both, so on PostgreSQL (the
#: second pass over the db tests in CI) it runs a quarter of the examples.
PG_SHARE = 4


def examples() -> int:
    return max(1, EXAMPLES // PG_SHARE) if connection.vendor == "postgresql" else EXAMPLES


SHANGHAI = ZoneInfo("Asia/Shanghai")

HOSTILE = st.one_of(
    st.sampled_from(
        [
            "1e30",
            "1e2",
            "-1",
            "-0.01",
            "0",
            "１２３",
            "١٢٣",
            "NaN",
            "Infinity",
            "999999999999999999999999999999",
            "99999999999999999999.99",
            "9999-12-31",
            "0001-01-01",
            "2026-02-30",
            "2026-13-01",
            "9999-12-31T23:59",
            "25:99",
            "\x00",
            "a\x00b",
            "x" * 100_000,
            "9" * 5_000,
            "<script>alert(1)</script>",
            "'; DROP TABLE x; --",
            "",
            " ",
        ]
    ),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.text(max_size=60),
    st.dates().map(date.isoformat),
)


@dataclass
class World:
    """The web book plus the other roles' users and the ids their forms name."""

    book: Book
    clients: dict[str, Client]
    ids: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Form:
    """One form page: how to reach it, as whom, with what valid data, which fields to fuzz."""

    route: str
    roles: tuple[str, ...]
    url: Callable[[World], str]
    data: Callable[[World], dict[str, str]]
    fuzz: tuple[str, ...]
    tables: tuple[type[Model], ...]
    method: str = "post"


def _case_url(w: World) -> str:
    return f"/cases/{w.book.cases[0].pk}/"


def _loan_id(w: World) -> str:
    return str(Loan.objects.get(borrower_id=w.book.cases[0].borrower_id).pk)


def _loan_ref(w: World) -> str:
    return Loan.objects.get(borrower_id=w.book.cases[0].borrower_id).ref


def _phone_id(w: World) -> str:
    return str(w.book.cases[0].borrower.phones.get().pk)


CASE_WRITES = (ContactAttempt, Promise, Hold, Waiver, RepaymentPlan)

FORMS: tuple[Form, ...] = (
    Form(
        "web:case",
        ("ann", "lead"),
        _case_url,
        lambda w: {
            "action": "contact",
            "contact-channel": "call",
            "contact-direction": "outbound",
            "contact-party": "borrower",
            "contact-phone": _phone_id(w),
            "contact-outcome": "callback",
            "contact-callback_on": w.book.today.isoformat(),
            "contact-note": "",
        },
        (
            "contact-phone",
            "contact-callback_on",
            "contact-callback_from",
            "contact-callback_until",
            "contact-note",
            "contact-visitors",
            "contact-override_reason",
            "contact-work_item",
        ),
        CASE_WRITES,
    ),
    Form(
        "web:case",
        ("ann", "lead"),
        _case_url,
        lambda w: {
            "action": "promise",
            "promise-amount": "100.00",
            "promise-due_date": (w.book.today + timedelta(days=3)).isoformat(),
            "promise-tolerance": "",
        },
        ("promise-amount", "promise-due_date", "promise-tolerance"),
        CASE_WRITES,
    ),
    Form(
        "web:case",
        ("ann", "lead"),
        _case_url,
        lambda w: {
            "action": "hold",
            "hold-reason": "complaint",
            "hold-starts_on": w.book.today.isoformat(),
            "hold-ends_on": (w.book.today + timedelta(days=3)).isoformat(),
            "hold-note": "",
        },
        ("hold-starts_on", "hold-ends_on", "hold-note", "hold-channels"),
        CASE_WRITES,
    ),
    Form(
        "web:case",
        ("ann", "lead"),
        _case_url,
        lambda w: {
            "action": "waiver",
            "waiver-loan": _loan_id(w),
            "waiver-component": "penalty",
            "waiver-amount": "1.00",
            "waiver-reason": "hardship",
            "waiver-note": "",
        },
        ("waiver-loan", "waiver-amount", "waiver-note"),
        CASE_WRITES,
    ),
    Form(
        "web:case",
        ("ann", "lead"),
        _case_url,
        lambda w: {
            "action": "plan",
            "plan-loan": _loan_id(w),
            "plan-instalments": f"{w.book.today + timedelta(days=10)} 100.00",
            "plan-grace_days": "3",
            "plan-tolerance": "",
            "plan-note": "",
            "plan-submit": "propose",
        },
        ("plan-instalments", "plan-grace_days", "plan-tolerance", "plan-loan"),
        CASE_WRITES,
    ),
    Form(
        "web:case",
        ("ann", "lead"),
        _case_url,
        lambda w: {"action": "release", "hold": "1"},
        ("hold",),
        CASE_WRITES,
    ),
    Form(
        "web:approvals",
        ("lead", "boss"),
        lambda w: "/approvals/",
        lambda w: {"action": "reject", "kind": "waiver", "item": "1"},
        ("action", "kind", "item"),
        (Waiver, RepaymentPlan),
    ),
    Form(
        "web:approvals",
        ("lead", "boss"),
        lambda w: "/approvals/",
        lambda w: {"kind": "", "min_amount": "1", "max_amount": "100", "min_days": "0"},
        ("min_amount", "max_amount", "min_days", "kind"),
        (),
        method="get",
    ),
    Form(
        "web:queue",
        ("lead",),
        lambda w: "/queue/",
        lambda w: {"case": str(w.book.cases[0].pk), "collector": ""},
        ("case", "collector"),
        (Case,),
    ),
    Form(
        "web:queue",
        ("lead",),
        lambda w: "/queue/",
        lambda w: {"collector": "none"},
        ("collector", "bucket", "dpd_min", "dpd_max", "sort", "promise", "page"),
        (),
        method="get",
    ),
    Form(
        "web:team",
        ("lead",),
        lambda w: "/team/",
        lambda w: {"collector": "none"},
        ("collector", "stage", "team", "page"),
        (),
        method="get",
    ),
    Form(
        "web:team",
        ("lead",),
        lambda w: "/team/",
        lambda w: {"cases": str(w.book.cases[0].pk), "collector": ""},
        ("cases", "collector"),
        (Case,),
    ),
    Form(
        "web:loans",
        ("admin",),
        lambda w: "/loans/",
        lambda w: {"as_of": w.book.today.isoformat()},
        ("as_of", "bucket", "format", "page"),
        (),
        method="get",
    ),
    Form(
        "web:explain",
        ("admin",),
        lambda w: f"/loans/{_loan_ref(w)}/",
        lambda w: {"as_of": w.book.today.isoformat()},
        ("as_of", "format"),
        (),
        method="get",
    ),
    Form(
        "web:search",
        ("ann",),
        lambda w: "/search/",
        lambda w: {"q": "B-1"},
        ("q",),
        (),
        method="get",
    ),
    Form(
        "web:outbox",
        ("lead",),
        lambda w: "/messages/",
        lambda w: {"status": "sent"},
        ("status", "page"),
        (),
        method="get",
    ),
    Form(
        "web:queue-view-save",
        ("lead",),
        lambda w: "/queue/views/",
        lambda w: {"name": "mine", "query": "collector=none"},
        ("name", "query"),
        (SavedView,),
    ),
    Form(
        "complaints:new",
        ("ann", "lead"),
        lambda w: f"/complaints/case/{w.book.cases[0].pk}/new/",
        lambda w: {
            "kind": "complaint",
            "category": "other",
            "channel": "phone",
            "description": "rude",
        },
        ("kind", "category", "channel", "description"),
        (Complaint,),
    ),
    Form(
        "fieldwork:new",
        ("ann", "lead"),
        lambda w: f"/visits/new/?case={w.book.cases[0].pk}",
        lambda w: {"reason": "unreachable by phone"},
        ("reason",),
        (FieldVisit,),
    ),
    Form(
        "quality:reviews",
        ("compliance",),
        lambda w: "/compliance/reviews/",
        lambda w: {
            "date_from": (w.book.today - timedelta(days=7)).isoformat(),
            "date_to": w.book.today.isoformat(),
            "per_collector": "2",
            "percent": "",
        },
        ("date_from", "date_to", "per_collector", "percent"),
        (ReviewSample,),
    ),
    Form(
        "quality:decisions",
        ("compliance",),
        lambda w: "/compliance/decisions/",
        lambda w: {"outcome": "deny"},
        ("date_from", "date_to", "outcome", "override", "rule", "collector", "channel"),
        (),
        method="get",
    ),
    Form(
        "quality:contacts",
        ("compliance",),
        lambda w: "/compliance/contacts/",
        lambda w: {"channel": "call"},
        ("date_from", "date_to", "loan", "borrower", "collector", "channel", "outcome"),
        (),
        method="get",
    ),
    Form(
        "complaints:list",
        ("compliance",),
        lambda w: "/complaints/",
        lambda w: {"status": "open"},
        ("status", "category", "overdue"),
        (),
        method="get",
    ),
    Form(
        "audit:trail",
        ("compliance",),
        lambda w: "/audit/",
        lambda w: {"case": str(w.book.cases[0].pk)},
        ("case", "subject_type", "subject_id", "actor", "from", "to"),
        (),
        method="get",
    ),
    Form(
        "agencies:case",
        ("agency",),
        lambda w: f"/agency/cases/{w.book.cases[2].pk}/",
        lambda w: {
            "action": "promise",
            "promise-amount": "100.00",
            "promise-due_date": (w.book.today + timedelta(days=3)).isoformat(),
        },
        ("promise-amount", "promise-due_date"),
        (Promise,),
    ),
    Form(
        "agencies:case",
        ("agency",),
        lambda w: f"/agency/cases/{w.book.cases[2].pk}/",
        lambda w: {
            "action": "contact",
            "contact-channel": "call",
            "contact-party": "borrower",
            "contact-outcome": "no_answer",
            "contact-note": "",
        },
        ("contact-phone", "contact-note", "contact-visitors", "contact-outcome"),
        (ContactAttempt,),
    ),
    Form(
        "portal:loan",
        ("borrower",),
        lambda w: f"/my/loans/{_loan_ref(w)}/",
        lambda w: {"on": w.book.today.isoformat(), "amount": "100.00"},
        ("on", "amount"),
        (),
        method="get",
    ),
    Form(
        "portal:plan",
        ("borrower",),
        lambda w: (
            f"/my/loans/{Loan.objects.get(borrower_id=w.book.cases[0].borrower_id).ref}/plan/"
        ),
        lambda w: {
            "action": "promise",
            "amount": "100.00",
            "on": (w.book.today + timedelta(days=3)).isoformat(),
        },
        ("action", "amount", "on", "instalments", "option"),
        (Promise, RepaymentPlan),
    ),
    Form(
        "portal:preferences",
        ("borrower",),
        lambda w: "/my/preferences/",
        lambda w: {"preferred_channel": "sms", "preferred_from": "09:00"},
        ("preferred_channel", "preferred_from", "preferred_until", "opt_outs"),
        (),
    ),
    Form(
        "portal:complaint-new",
        ("borrower",),
        lambda w: "/my/complaints/new/",
        lambda w: {"category": "other", "description": "they called at night"},
        ("category", "description", "contact"),
        (Complaint,),
    ),
)

#: Pages that handle POST but are not fuzzed here, each with its reason.
EXEMPT: dict[str, str] = {
    "set_language": "Django's own view: a language code from a fixed list, nothing written",
    "contact:receipts": "a signed provider webhook, fuzzed by the webhook tests (tests/channels)",
    "fieldwork:detail": "visit actions on an existing visit: the same bounded forms (ReportForm, "
    "ScheduleForm, LocationForm…) are checked field by field in tests/test_formfields.py",
    "complaints:detail": "acknowledge/resolve: choices and a bounded text (FileForm's fields)",
    "quality:review": "one radio choice per criterion and a bounded finding text",
    "agencies:upload": "a results file: the import fuzzers own files (CSV, Parquet, GBK)",
    "portal:sign-in": "a loan reference and a code: rate-limited sign-in with its own tests",
    "portal:code": "a six-digit code checked as ASCII digits (tests/portal/test_signin.py)",
    "portal:sign-out": "no fields",
    "web:queue-view-delete": "no fields; the view id is the URL's bounded int",
}


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield name, pattern.callback


def _handles_post(callback: Any) -> bool:
    """A view that reads a posted body (Django views; the REST API's ninja operations are the
    API's, validated by their schemas and the same services, and fuzzed with the API)."""
    view = inspect.unwrap(callback)
    module = getattr(view, "__module__", "") or ""
    if not module.startswith(("arrears.", "django.views.i18n")):
        return False
    try:
        source = inspect.getsource(view)
    except (OSError, TypeError):
        return False
    return "POST" in source


def test_the_list_covers_every_view_that_handles_post() -> None:
    handling = {
        name for name, callback in _walk(get_resolver().url_patterns) if _handles_post(callback)
    }
    listed = {form.route for form in FORMS if form.method == "post"}
    assert handling, "the resolver walk found no form page"
    missing = sorted(handling - listed - set(EXEMPT))
    assert not missing, f"form pages neither fuzzed nor exempt: {missing}"
    stale = sorted(
        (listed | set(EXEMPT)) - {name for name, _ in _walk(get_resolver().url_patterns)}
    )
    assert not stale, f"listed pages that no longer exist: {stale}"


@pytest.fixture
def office_hours(_frozen_clock: time_machine.Traveller) -> None:
    """Mid-morning, so the compliance gate lets the contact forms through to their checks."""
    _frozen_clock.move_to(datetime.combine(timezone.localdate(), time(10, 30), tzinfo=SHANGHAI))


@pytest.fixture
def world(book: Book, office_hours: None) -> World:
    clients = {who: book.client(who) for who in ("ann", "lead", "boss")}
    clients["compliance"] = _client(make_user(Role.COMPLIANCE_OFFICER, username="carol"))
    clients["admin"] = _client(make_user(Role.ADMIN, username="root"))
    agency = Agency.objects.create(
        code="acme",
        name="Acme Collections",
        licence_number="LIC-acme",
        licence_valid_to=date(2099, 12, 31),
        contract_starts=date(2000, 1, 1),
        contract_ends=date(2099, 12, 31),
        phone="+864000000000",
        permitted_channels=["call", "sms"],
        permitted_parties=[],
    )
    case = book.cases[2]
    Placement.objects.create(
        key=f"placement:{case.pk}:{book.today}",
        case=case,
        agency=agency,
        placed_on=book.today,
        ends_on=book.today + timedelta(days=29),
        bucket=case.bucket or "M1",
        dpd=case.dpd,
        total_due_minor=case.total_due_minor,
        currency=case.currency,
        method="round_robin",
    )
    clients["agency"] = _client(make_user(Role.AGENCY_USER, username="aggie", agency=agency))
    borrower = Client(HTTP_ACCEPT_LANGUAGE="en")
    loan = Loan.objects.get(borrower_id=book.cases[0].borrower_id)
    store = borrower.session
    store[portal_session.BORROWER] = loan.borrower_id
    store[portal_session.LOAN] = loan.pk
    store[portal_session.SEEN] = timezone.now().isoformat()
    store.save()
    clients["borrower"] = borrower
    return World(book=book, clients=clients)


def _client(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _counts(tables: tuple[type[Model], ...]) -> dict[str, int]:
    """Each table's row count, read in one query (a refused post is checked against the
    counts before it: five tables for a case form, twice an example, on every example)."""
    if not tables:
        return {}
    quote = connection.ops.quote_name
    columns = ", ".join(f"(SELECT COUNT(*) FROM {quote(t._meta.db_table)})" for t in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}")
        row = cursor.fetchone()
    return {table.__name__: int(n) for table, n in zip(tables, row, strict=True)}


def _fuzz(world: World, form: Form, role: str) -> None:
    client = world.clients[role]
    url = form.url(world)
    valid = form.data(world)
    # the valid submission is answered too (a form that always refuses would hide nothing)
    first = getattr(client, form.method)(url, valid)
    assert first.status_code < 500, (form.route, role, valid)

    @settings(
        max_examples=examples(),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        values=st.dictionaries(st.sampled_from(form.fuzz), HOSTILE, min_size=1, max_size=3),
    )
    def post(values: dict[str, str]) -> None:
        data = {**valid, **values}
        before = _counts(form.tables)
        response = getattr(client, form.method)(url, data)
        assert response.status_code < 500, (form.route, role, data)
        if 400 <= response.status_code < 500:
            assert _counts(form.tables) == before, (form.route, role, data)

    post()


@pytest.mark.parametrize("group", ["web", "other"])
def test_no_form_answers_a_5xx_to_hostile_values(world: World, group: str) -> None:
    chosen = [form for form in FORMS if form.route.startswith("web:") == (group == "web")]
    assert chosen
    for form in chosen:
        for role in form.roles:
            _fuzz(world, form, role)


#: Values every fuzzed field gets once, deterministically: a NUL (PostgreSQL refuses it in any
#: text column or parameter, SQLite stores it — the kind of 500 seen on one database only),
#: a thirty-digit number and an out-of-range date.
SWEEP = ("a\x00b", "9" * 30, "9999-12-31")


def test_every_field_survives_a_nul_a_huge_number_and_year_9999(world: World) -> None:
    for form in FORMS:
        client = world.clients[form.roles[0]]
        url, valid = form.url(world), form.data(world)
        for name in form.fuzz:
            for value in SWEEP:
                data = {**valid, name: value}
                before = _counts(form.tables)
                response = getattr(client, form.method)(url, data)
                assert response.status_code < 500, (form.route, name, value)
                if 400 <= response.status_code < 500:
                    assert _counts(form.tables) == before, (form.route, name, value)
