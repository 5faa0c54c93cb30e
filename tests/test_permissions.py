# ruff: noqa: E501 (the matrix is a table: one row a line, its columns aligned)
"""The permission matrix: every role (and an anonymous visitor, and a borrower signed in to the
portal) against every page and API endpoint, with the answer each must get.

The routes come from the URL resolver, so a route without a row in :data:`MATRIX` fails
:func:`test_every_route_has_a_row`: a new page is added with its row (one line). The admin is
one route (its pages follow the registered models); its rows test the door and a few pages.

A cell is what a plain ``GET`` answers:

* ``200`` shown; ``login`` a redirect to the staff sign-in; ``my`` a redirect to the portal's
  sign-in; ``302`` another redirect (the admin's own sign-in, a home page sending on);
* ``403`` the role may not use the page; ``404`` the object is someone else's (or does not
  exist) — never revealed; ``401`` an API that wants its own token; ``405`` a POST-only route.

Object rows use ids of a small world (:func:`world`): ``own`` is the collector's case, ``mate``
a case of a colleague in the same team, ``north`` a case of another team, ``acme`` a case placed
with the agency user's agency, ``bolt`` one placed with another agency.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLResolver, get_resolver
from django.utils import timezone
from ninja import NinjaAPI

from arrears.accounts.roles import Role
from arrears.agencies.models import Placement
from arrears.collections.models import Case, Collector
from arrears.complaints.models import Complaint
from arrears.fieldwork.models import FieldAgent, FieldVisit
from arrears.ledger.models import Product
from arrears.portal import session as portal_session
from tests import factories, sharing
from tests.roles import client_for, make_agency, make_team, make_user

#: The columns of the matrix, in order.
SUBJECTS = (
    "anonymous",
    Role.COLLECTOR,
    Role.TEAM_LEAD,
    Role.MANAGER,
    Role.AGENCY_USER,
    Role.FIELD_AGENT,
    Role.COMPLIANCE_OFFICER,
    Role.ADMIN,
    "borrower",
)

#: (route as the resolver spells it, path to GET with {placeholders} from the world, expected
#: answers in the order of SUBJECTS). Several rows may test one route.
# fmt: off
MATRIX: list[tuple[str, str, str]] = [
    # route                               path                                   anon  coll  lead  mgr   agency field compl admin borrower
    ("admin/",                            "/admin/",                             "302   302   200   200   302   302   200   200   302"),
    ("admin/",                            "/admin/collections/team/",            "302   302   200   200   302   302   403   200   302"),
    ("admin/",                            "/admin/collections/collector/",       "302   302   200   200   302   302   403   200   302"),
    ("admin/",                            "/admin/contact/gatedecision/",        "302   302   403   403   302   302   200   200   302"),
    ("admin/",                            "/admin/collections/contactattempt/",  "302   302   403   403   302   302   200   200   302"),
    ("admin/",                            "/admin/complaints/complaint/",        "302   302   403   403   302   302   200   200   302"),
    ("admin/",                            "/admin/fieldwork/fieldvisit/",        "302   302   403   403   302   302   200   200   302"),
    ("admin/",                            "/admin/agencies/agency/",             "302   302   403   200   302   302   403   200   302"),
    ("admin/",                            "/admin/collections/case/",            "302   302   403   403   302   302   403   200   302"),
    ("admin/",                            "/admin/auth/user/",                   "302   302   403   403   302   302   403   200   302"),
    ("accounts/login/",                   "/accounts/login/",                    "200   200   200   200   200   200   200   200   200"),
    ("accounts/logout/",                  "/accounts/logout/",                   "405   405   405   405   405   405   405   405   405"),
    ("accounts/password_change/",         "/accounts/password_change/",          "login 200   200   200   200   200   200   200   login"),
    ("accounts/password_change/done/",    "/accounts/password_change/done/",     "login 200   200   200   200   200   200   200   login"),
    ("accounts/password_reset/",          "/accounts/password_reset/",           "200   200   200   200   200   200   200   200   200"),
    ("accounts/password_reset/done/",     "/accounts/password_reset/done/",      "200   200   200   200   200   200   200   200   200"),
    ("accounts/reset/<uidb64>/<token>/",  "/accounts/reset/MQ/set-password/",    "200   200   200   200   200   200   200   200   200"),
    ("accounts/reset/done/",              "/accounts/reset/done/",               "200   200   200   200   200   200   200   200   200"),
    ("i18n/setlang/",                     "/i18n/setlang/",                      "302   302   302   302   302   302   302   302   302"),
    ("webhooks/receipts/<str:provider>/", "/webhooks/receipts/log/",             "405   405   405   405   405   405   405   405   405"),
    ("verify/",                           "/verify/",                            "200   200   200   200   200   200   200   200   200"),
    # field visits: a collector's cases' visits; an agent's assigned visits
    ("visits/",                           "/visits/",                            "login 200   200   200   404   200   404   200   login"),
    ("visits/new/",                       "/visits/new/?case={own}",             "login 200   200   200   404   404   404   200   login"),
    ("visits/new/",                       "/visits/new/?case={north}",           "login 404   404   404   404   404   404   200   login"),
    ("visits/<int:visit_id>/",            "/visits/{visit_own}/",                "login 200   200   200   404   200   404   200   login"),
    ("visits/<int:visit_id>/",            "/visits/{visit_north}/",              "login 404   404   404   404   404   404   200   login"),
    ("visits/<int:visit_id>/letter/",     "/visits/{visit_north}/letter/",       "login 404   404   404   404   404   404   404   login"),
    # complaints: compliance sees the register, a lead their team's borrowers' complaints
    ("complaints/",                       "/complaints/",                        "login 404   200   200   404   404   200   200   login"),
    ("complaints/<int:complaint_id>/",    "/complaints/{complaint_own}/",        "login 404   200   200   404   404   200   200   login"),
    ("complaints/<int:complaint_id>/",    "/complaints/{complaint_north}/",      "login 404   404   404   404   404   200   200   login"),
    ("complaints/<int:complaint_id>/letter.pdf", "/complaints/{complaint_north}/letter.pdf", "login 404 404 404 404 404   404   404   login"),
    ("complaints/case/<int:case_id>/new/", "/complaints/case/{own}/new/",        "login 405   405   405   405   405   405   405   login"),
    # the audit trail: compliance and admins
    ("audit/",                            "/audit/",                             "login 403   403   403   403   403   200   200   login"),
    ("audit/case/<int:case_id>/bundle.zip", "/audit/case/{own}/bundle.zip",      "login 403   403   403   403   403   200   200   login"),
    ("letters/<int:letter_id>/pdf",       "/letters/999999/pdf",                 "login 404   404   404   404   404   404   404   login"),
    # the agency pages: agency users, their own agency's placements only
    ("agency/",                           "/agency/",                            "login 403   403   403   200   403   403   403   login"),
    ("agency/cases/<int:case_id>/",       "/agency/cases/{acme}/",               "login 403   403   403   200   403   403   403   login"),
    ("agency/cases/<int:case_id>/",       "/agency/cases/{bolt}/",               "login 403   403   403   404   403   403   403   login"),
    ("agency/export.<str:fmt>",           "/agency/export.csv",                  "login 403   403   403   200   403   403   403   login"),
    ("agency/results/",                   "/agency/results/",                    "login 405   405   405   405   405   405   405   login"),
    # the borrower portal: its own session, never a staff login
    ("my/",                               "/my/",                                "200   200   200   200   200   200   200   200   302"),
    ("my/code/",                          "/my/code/",                           "my    my    my    my    my    my    my    my    my"),
    ("my/sign-out/",                      "/my/sign-out/",                       "405   405   405   405   405   405   405   405   405"),
    ("my/home/",                          "/my/home/",                           "my    my    my    my    my    my    my    my    200"),
    ("my/loans/<path:ref>/",              "/my/loans/L-own/",                    "my    my    my    my    my    my    my    my    200"),
    ("my/loans/<path:ref>/",              "/my/loans/L-north/",                  "my    my    my    my    my    my    my    my    404"),
    ("my/verify/",                        "/my/verify/",                         "my    my    my    my    my    my    my    my    200"),
    ("my/preferences/",                   "/my/preferences/",                    "my    my    my    my    my    my    my    my    200"),
    ("my/history/",                       "/my/history/",                        "my    my    my    my    my    my    my    my    200"),
    ("my/complaints/",                    "/my/complaints/",                     "my    my    my    my    my    my    my    my    200"),
    ("my/complaints/new/",                "/my/complaints/new/",                 "my    my    my    my    my    my    my    my    200"),
    ("my/complaints/<str:reference>/",    "/my/complaints/{complaint_own_ref}/", "my    my    my    my    my    my    my    my    200"),
    ("my/complaints/<str:reference>/",    "/my/complaints/{complaint_north_ref}/", "my  my    my    my    my    my    my    my    404"),
    ("my/notices/",                       "/my/notices/",                        "my    my    my    my    my    my    my    my    200"),
    ("my/loans/<path:ref>/plan/",         "/my/loans/L-own/plan/",               "my    my    my    my    my    my    my    my    200"),
    ("my/loans/<path:ref>/plan/",         "/my/loans/L-north/plan/",             "my    my    my    my    my    my    my    my    404"),
    ("my/plan/",                          "/my/plan/",                           "my    my    my    my    my    my    my    my    302"),
    # the APIs: bearer tokens of their own; a staff or portal session opens nothing
    ("api/v1/agency/",                    "/api/v1/agency/",                     "404   404   404   404   404   404   404   404   404"),
    ("api/v1/agency/openapi.json",        "/api/v1/agency/openapi.json",         "200   200   200   200   200   200   200   200   200"),
    ("api/v1/agency/docs",                "/api/v1/agency/docs",                 "200   200   200   200   200   200   200   200   200"),
    ("api/v1/agency/placements",          "/api/v1/agency/placements",           "401   401   401   401   401   401   401   401   401"),
    ("api/v1/agency/results",             "/api/v1/agency/results",              "405   405   405   405   405   405   405   405   405"),
    ("api/v1/my/",                        "/api/v1/my/",                         "404   404   404   404   404   404   404   404   404"),
    ("api/v1/my/openapi.json",            "/api/v1/my/openapi.json",             "200   200   200   200   200   200   200   200   200"),
    ("api/v1/my/docs",                    "/api/v1/my/docs",                     "200   200   200   200   200   200   200   200   200"),
    ("api/v1/my/sign-in",                 "/api/v1/my/sign-in",                  "405   405   405   405   405   405   405   405   405"),
    ("api/v1/my/sign-in/confirm",         "/api/v1/my/sign-in/confirm",          "405   405   405   405   405   405   405   405   405"),
    ("api/v1/my/sign-out",                "/api/v1/my/sign-out",                 "405   405   405   405   405   405   405   405   405"),
    ("api/v1/my/loans",                   "/api/v1/my/loans",                    "401   401   401   401   401   401   401   401   401"),
    ("api/v1/my/loans/<ref>",             "/api/v1/my/loans/L-own",              "401   401   401   401   401   401   401   401   401"),
    ("api/v1/my/loans/<ref>/projection",  "/api/v1/my/loans/L-own/projection",   "401   401   401   401   401   401   401   401   401"),
    ("api/v1/my/verify",                  "/api/v1/my/verify",                   "401   401   401   401   401   401   401   401   401"),
    ("api/v1/my/preferences",             "/api/v1/my/preferences",              "401   401   401   401   401   401   401   401   401"),
    ("api/v1/my/history",                 "/api/v1/my/history",                  "401   401   401   401   401   401   401   401   401"),
    ("api/v1/my/complaints",              "/api/v1/my/complaints",               "401   401   401   401   401   401   401   401   401"),
    ("api/v1/my/complaints/<reference>",  "/api/v1/my/complaints/x",             "401   401   401   401   401   401   401   401   401"),
    ("api/v1/my/notices",                 "/api/v1/my/notices",                  "401   401   401   401   401   401   401   401   401"),
    ("api/v1/my/loans/<ref>/plan",        "/api/v1/my/loans/L-own/plan",         "401   401   401   401   401   401   401   401   401"),
    ("api/v1/my/loans/<ref>/promise",     "/api/v1/my/loans/L-own/promise",      "405   405   405   405   405   405   405   405   405"),
    # the staff pages
    ("",                                  "/",                                   "302   302   302   302   302   302   302   302   302"),
    ("loans/",                            "/loans/",                             "login 403   403   403   403   403   403   200   login"),
    ("loans/<path:ref>/",                 "/loans/L-own/",                       "login 200   200   200   404   404   404   200   login"),
    ("loans/<path:ref>/",                 "/loans/L-mate/",                      "login 404   200   200   404   404   404   200   login"),
    ("loans/<path:ref>/",                 "/loans/L-north/",                     "login 404   404   404   404   404   404   200   login"),
    ("queue/",                            "/queue/",                             "login 200   200   200   403   403   403   200   login"),
    ("cases/<int:case_id>/",              "/cases/{own}/",                       "login 200   200   200   404   404   404   200   login"),
    ("cases/<int:case_id>/",              "/cases/{mate}/",                      "login 404   200   200   404   404   404   200   login"),
    ("cases/<int:case_id>/",              "/cases/{north}/",                     "login 404   404   404   404   404   404   200   login"),
    ("cases/<int:case_id>/",              "/cases/{acme}/",                      "login 404   404   404   404   404   404   200   login"),
    ("cases/<int:case_id>/",              "/cases/999999/",                      "login 404   404   404   404   404   404   404   login"),
    ("approvals/",                        "/approvals/",                         "login 403   200   200   403   403   403   200   login"),
    ("messages/",                         "/messages/",                          "login 403   403   403   403   403   200   200   login"),
    # the collector's workbench: search and today over the cases the reader may open
    ("search/",                           "/search/?q=L-own",                    "login 200   200   200   200   200   200   200   login"),
    ("search/",                           "/search/?q=L-north",                  "login 200   200   200   200   200   200   200   login"),
    ("today/",                            "/today/",                             "login 200   200   200   403   403   403   200   login"),
    ("queue/views/",                      "/queue/views/",                       "login 405   405   405   405   405   405   405   login"),
    ("queue/views/<int:view_id>/delete/", "/queue/views/999999/delete/",         "login 405   405   405   405   405   405   405   login"),
    # a team lead's and a manager's pages: their own team only
    ("team/",                             "/team/",                              "login 403   200   200   403   403   403   200   login"),
    ("team/",                             "/team/?team=north",                   "login 403   404   404   403   403   403   200   login"),
    ("team/dashboard/",                   "/team/dashboard/",                    "login 403   200   200   403   403   403   200   login"),
    ("team/dashboard/",                   "/team/dashboard/?team=north",         "login 403   404   404   403   403   403   200   login"),
    # the compliance officer's pages
    ("compliance/decisions/",             "/compliance/decisions/",              "login 403   403   403   403   403   200   200   login"),
    ("compliance/contacts/",              "/compliance/contacts/",               "login 403   403   403   403   403   200   200   login"),
    ("compliance/reviews/",               "/compliance/reviews/",                "login 403   403   403   403   403   200   200   login"),
    ("compliance/reviews/scorecards/",    "/compliance/reviews/scorecards/",     "login 403   403   403   403   403   200   200   login"),
    ("compliance/reviews/samples/<int:sample_id>/", "/compliance/reviews/samples/999999/", "login 403 403 403 403 403   404   404   login"),
    ("compliance/reviews/contacts/<int:contact_id>/", "/compliance/reviews/contacts/999999/", "login 403 403 403 403 403 404   404   login"),
    # reports: leads, managers, compliance and admins (which reports: tests/reports)
    ("reports/",                          "/reports/",                           "login 403   200   200   403   403   200   200   login"),
    ("reports/<slug:name>/",              "/reports/no-such-report/",            "login 403   404   404   403   403   404   404   login"),
    ("reports/<slug:name>/download.<str:fmt>", "/reports/no-such-report/download.csv", "login 403 404 404 403 403   404   404   login"),
    # the integrators' API: its own keys (scopes per operation: tests/api); a session opens nothing
    ("api/v1/",                           "/api/v1/",                            "404   404   404   404   404   404   404   404   404"),
    ("api/v1/openapi.json",               "/api/v1/openapi.json",                "200   200   200   200   200   200   200   200   200"),
    ("api/v1/docs",                       "/api/v1/docs",                        "200   200   200   200   200   200   200   200   200"),
    ("api/v1/loans",                      "/api/v1/loans",                       "405   405   405   405   405   405   405   405   405"),
    ("api/v1/loans/<ref>",                "/api/v1/loans/L-own",                 "401   401   401   401   401   401   401   401   401"),
    ("api/v1/loans/<ref>/state",          "/api/v1/loans/L-own/state",           "401   401   401   401   401   401   401   401   401"),
    ("api/v1/loans/<ref>/plans",          "/api/v1/loans/L-own/plans",           "401   401   401   401   401   401   401   401   401"),
    ("api/v1/payments",                   "/api/v1/payments",                    "405   405   405   405   405   405   405   405   405"),
    ("api/v1/payments/<reference>",       "/api/v1/payments/P1",                 "401   401   401   401   401   401   401   401   401"),
    ("api/v1/payments/<reference>/reversal", "/api/v1/payments/P1/reversal",     "405   405   405   405   405   405   405   405   405"),
    ("api/v1/cases",                      "/api/v1/cases",                       "401   401   401   401   401   401   401   401   401"),
    ("api/v1/cases/<case_id>",            "/api/v1/cases/{own}",                 "401   401   401   401   401   401   401   401   401"),
    ("api/v1/cases/<case_id>/contacts",   "/api/v1/cases/{own}/contacts",        "401   401   401   401   401   401   401   401   401"),
    ("api/v1/cases/<case_id>/promises",   "/api/v1/cases/{own}/promises",        "401   401   401   401   401   401   401   401   401"),
    ("api/v1/holds",                      "/api/v1/holds",                       "401   401   401   401   401   401   401   401   401"),
    ("api/v1/gate/check",                 "/api/v1/gate/check",                  "401   401   401   401   401   401   401   401   401"),
]
# fmt: on


def routes(patterns: list[object] | None = None, prefix: str = "") -> Iterator[str]:
    """Every route of the project as the resolver spells it (the admin as one: ``admin/``)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                yield prefix + str(pattern.pattern)
                continue
            yield from routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern)  # type: ignore[attr-defined]


def test_every_route_has_a_row() -> None:
    """A new page or endpoint needs its row in MATRIX (what each role gets)."""
    covered = {route for route, _path, _cells in MATRIX}
    missing = sorted(set(routes()) - covered)
    assert not missing, f"routes without a row in tests/test_permissions.py MATRIX: {missing}"
    gone = sorted(covered - set(routes()))
    assert not gone, f"MATRIX rows for routes that no longer exist: {gone}"


def test_every_row_has_a_cell_per_subject() -> None:
    known = {"200", "302", "login", "my", "401", "403", "404", "405"}
    for route, path, cells in MATRIX:
        assert len(cells.split()) == len(SUBJECTS), (route, path)
        assert set(cells.split()) <= known, (route, path)


@dataclass
class World:
    ids: dict[str, object]
    clients: dict[str, Client]


def _case(ref: str, collector: Collector | None, owner: str, stage: str = "internal") -> Case:
    today = timezone.localdate()
    product = Product.objects.first() or factories.product()
    borrower = factories.borrower(f"B-{ref}", phone=f"+86138{abs(hash(ref)) % 10**8:08d}")
    factories.loan(f"L-{ref}", borrower, product, start=today - timedelta(days=50))
    return Case.objects.create(
        borrower=borrower,
        currency="CNY",
        opened_on=today - timedelta(days=20),
        stage=stage,
        owner=owner,
        dpd=20,
        bucket="M1",
        total_due_minor=90_000,
        collector=collector,
    )


def _complaint(case: Case, reference: str) -> Complaint:
    today = timezone.localdate()
    return Complaint.objects.create(
        reference=reference,
        borrower=case.borrower,
        case=case,
        kind="complaint",
        category="other",
        channel="phone",
        description="test",
        received_at=timezone.now(),
        acknowledge_by=today + timedelta(days=1),
        resolve_by=today + timedelta(days=15),
    )


def _visit(case: Case, by: User, agent: FieldAgent | None) -> FieldVisit:
    visit = FieldVisit.objects.create(
        case=case, reason="test", requested_by=by, requested_at=timezone.now()
    )
    if agent is not None:
        visit.agents.add(agent)
    return visit


@dataclass(frozen=True)
class WorldKeys:
    """What a test needs to load the module's world afresh (tests/sharing.py): the object ids
    the matrix's paths name, and the username of each signed-in subject."""

    ids: dict[str, object]
    usernames: dict[str, str]

    def load(self) -> World:
        """The world with a client per subject, signed in now (new sessions each test)."""
        users = User.objects.in_bulk(list(self.usernames.values()), field_name="username")
        clients = {
            subject: client_for(users[username]) for subject, username in self.usernames.items()
        }
        clients["anonymous"] = client_for(None)
        borrower = Client(HTTP_ACCEPT_LANGUAGE="en")
        loan = Case.objects.get(pk=self.ids["own"]).borrower.loans.get()
        store = borrower.session
        store[portal_session.BORROWER] = loan.borrower_id
        store[portal_session.LOAN] = loan.pk
        store[portal_session.SEEN] = timezone.now().isoformat()
        store.save()
        clients["borrower"] = borrower
        return World(ids=dict(self.ids), clients=clients)


def build_world() -> WorldKeys:
    """Two teams, two agencies, a user of each role and their colleagues, five cases (the
    collector's, a teammate's, the north team's, one placed with each agency), a field visit
    on the collector's case and one on north's, and a complaint on each of those two."""
    internal = make_team("internal", owner="internal_team")
    north = make_team("north", owner="north_team")
    acme, bolt = make_agency("acme"), make_agency("bolt")
    users: dict[str, User] = {
        Role.COLLECTOR: make_user(Role.COLLECTOR, username="ann", team=internal),
        Role.TEAM_LEAD: make_user(Role.TEAM_LEAD, username="lead", team=internal),
        Role.MANAGER: make_user(Role.MANAGER, username="boss", team=internal),
        Role.AGENCY_USER: make_user(Role.AGENCY_USER, username="amy", agency=acme),
        Role.FIELD_AGENT: make_user(Role.FIELD_AGENT, username="fay"),
        Role.COMPLIANCE_OFFICER: make_user(Role.COMPLIANCE_OFFICER, username="cora"),
        Role.ADMIN: make_user(Role.ADMIN, username="root"),
    }
    mate = make_user(Role.COLLECTOR, username="bob", team=internal)
    nick = make_user(Role.COLLECTOR, username="nick", team=north)
    make_user(Role.TEAM_LEAD, username="olga", team=north)
    cases = {
        "own": _case("own", users[Role.COLLECTOR].collector, "internal_team"),
        "mate": _case("mate", mate.collector, "internal_team"),
        "north": _case("north", nick.collector, "north_team"),
        "acme": _case("acme", None, "agency", stage="external"),
        "bolt": _case("bolt", None, "agency", stage="external"),
    }
    today = timezone.localdate()
    for key, agency in (("acme", acme), ("bolt", bolt)):
        case = cases[key]
        Placement.objects.create(
            key=f"placement:{case.pk}",
            case=case,
            agency=agency,
            placed_on=today - timedelta(days=2),
            ends_on=today + timedelta(days=28),
            bucket="M1",
            dpd=20,
            total_due_minor=90_000,
            currency="CNY",
            method="round_robin",
        )
    agent = users[Role.FIELD_AGENT].field_agent
    ids: dict[str, object] = {key: case.pk for key, case in cases.items()}
    ids["ann"] = users[Role.COLLECTOR].collector.pk
    ids["visit_own"] = _visit(cases["own"], users[Role.COLLECTOR], agent).pk
    ids["visit_north"] = _visit(cases["north"], nick, None).pk
    for key in ("own", "north"):
        complaint = _complaint(cases[key], f"CP-20261202-{ids[key]:04d}")
        ids[f"complaint_{key}"] = complaint.pk
        ids[f"complaint_{key}_ref"] = complaint.reference
    usernames = {str(role): user.get_username() for role, user in users.items()}
    return WorldKeys(ids=ids, usernames=usernames)


@pytest.fixture(autouse=True)
def _sessions_in_memory(settings: Any) -> None:
    """The module's sessions in the (in-process) cache instead of the database: the matrix is
    over a thousand requests, each reading its session back, and where a session is kept is
    not what a cell checks (the same middleware, session and user lookups run; no view here
    reads the session table)."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"


@pytest.fixture(scope="module")
def _world(django_db_setup: None, django_db_blocker: Any) -> Iterator[WorldKeys]:
    """The world, built once for the module (tests/sharing.py)."""
    yield from sharing.module_book(django_db_blocker, build_world, lambda keys: keys)


@pytest.fixture
def world(request: pytest.FixtureRequest, _world: WorldKeys, db: None) -> World:
    """The module's world as built, with fresh clients (each test in its own savepoint)."""
    sharing.refuse_transactional(request, "build_world()")
    return _world.load()


def answer(client: Client, path: str) -> str:
    response = client.get(path)
    if response.status_code == 302:
        where = response["Location"]
        if where.startswith("/accounts/login/"):
            return "login"
        if where == "/my/" or where.startswith("/my/?"):
            return "my"
    return str(response.status_code)


@pytest.fixture
def schema_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each API's OpenAPI schema generated once for the matrix, not once a subject.

    The schema is built from the API's routes alone — who asks changes nothing in it — and
    generating it is most of the cost of its nine cells. Each cell still takes the whole way
    through the view and its answer; only the identical schema is reused (the first subject's
    request generates it for real, so a schema that cannot be built still fails its cell)."""
    real = NinjaAPI.get_openapi_schema
    made: dict[tuple[int, str | None, tuple[tuple[str, Any], ...]], Any] = {}

    def once(
        api: NinjaAPI, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> Any:
        key = (id(api), path_prefix, tuple(sorted((path_params or {}).items())))
        if key not in made:
            made[key] = real(api, path_prefix=path_prefix, path_params=path_params)
        return made[key]

    monkeypatch.setattr(NinjaAPI, "get_openapi_schema", once)


def test_the_matrix(world: World, schema_once: None) -> None:
    """Every cell at once, so one run shows every disagreement (not only the first)."""
    wrong = []
    for _route, path, cells in MATRIX:
        url = path.format(**world.ids)
        for subject, expected in zip(SUBJECTS, cells.split(), strict=True):
            got = answer(world.clients[str(subject)], url)
            if got != expected:
                wrong.append(f"{url} as {subject}: expected {expected}, got {got}")
    assert not wrong, "\n".join(wrong)


#: Writes are scoped like reads: (subject, path, form) → status. A POST on someone else's
#: object is the same 404 as the GET; a role without the action is refused.
WRITES: list[tuple[str, str, dict[str, str], int]] = [
    (Role.COLLECTOR, "/queue/", {"case": "{own}", "collector": ""}, 403),
    (Role.TEAM_LEAD, "/queue/", {"case": "{north}", "collector": ""}, 404),
    (Role.TEAM_LEAD, "/cases/{north}/", {"action": "note"}, 404),
    (Role.TEAM_LEAD, "/complaints/case/{north}/new/", {}, 404),
    (Role.TEAM_LEAD, "/complaints/{complaint_north}/", {"action": "acknowledge"}, 404),
    (Role.COLLECTOR, "/visits/new/?case={mate}", {"reason": "x"}, 404),
    (Role.AGENCY_USER, "/agency/cases/{bolt}/", {"action": "contact"}, 404),
    (Role.FIELD_AGENT, "/visits/{visit_north}/", {"action": "check_in"}, 404),
    (Role.COMPLIANCE_OFFICER, "/approvals/", {"action": "approve"}, 403),
    # a bulk reassignment naming one case of another team is refused whole (and moves nothing)
    (Role.TEAM_LEAD, "/team/", {"cases": "{north}", "collector": "{ann}"}, 400),
    (Role.COLLECTOR, "/team/", {"cases": "{own}", "collector": "{ann}"}, 403),
    (Role.TEAM_LEAD, "/compliance/reviews/", {"size": "5"}, 403),
]


def test_writes_on_someone_elses_objects_are_refused(world: World) -> None:
    wrong = []
    for subject, path, form, expected in WRITES:
        url = path.format(**world.ids)
        data = {key: value.format(**world.ids) for key, value in form.items()}
        got = world.clients[str(subject)].post(url, data).status_code
        if got != expected:
            wrong.append(f"POST {url} as {subject}: expected {expected}, got {got}")
    assert not wrong, "\n".join(wrong)
    assert Case.objects.get(pk=world.ids["north"]).collector.user.username == "nick"


def test_the_lead_of_the_case_team_may_reassign_it(world: World) -> None:
    """The control for the 404 above: the same POST by the case's own lead goes through."""
    lead = world.clients[str(Role.TEAM_LEAD)]
    response = lead.post("/queue/", {"case": str(world.ids["own"]), "collector": ""})
    assert response.status_code == 302
    assert Case.objects.get(pk=world.ids["own"]).collector is None


def test_the_start_page_sends_each_role_to_its_work(world: World) -> None:
    expected = {
        "anonymous": "/loans/",  # and from there to the sign-in
        Role.COLLECTOR: "/queue/",
        Role.TEAM_LEAD: "/queue/",
        Role.MANAGER: "/queue/",
        Role.AGENCY_USER: "/agency/",
        Role.FIELD_AGENT: "/visits/",
        Role.COMPLIANCE_OFFICER: "/messages/",
        Role.ADMIN: "/loans/",
    }
    got = {who: world.clients[str(who)].get("/")["Location"] for who in expected}
    assert got == expected


def test_search_finds_only_what_the_reader_may_open(world: World) -> None:
    """Search answers everyone signed in, and shows a case only to those who may open it: the
    matrix's 200s for other roles are empty result lists, never someone else's loan."""

    def shown(subject: object, key: str) -> bool:
        page = world.clients[str(subject)].get(f"/search/?q=L-{key}").text
        return f'data-case="{world.ids[key]}"' in page or f'data-loan="L-{key}"' in page

    found = {
        str(subject): {f"L-{key}" for key in ("own", "mate", "north") if shown(subject, key)}
        for subject in SUBJECTS[1:-1]
    }
    assert found == {
        Role.COLLECTOR: {"L-own"},
        Role.TEAM_LEAD: {"L-own", "L-mate"},
        Role.MANAGER: {"L-own", "L-mate"},
        Role.AGENCY_USER: set(),
        Role.FIELD_AGENT: set(),
        Role.COMPLIANCE_OFFICER: set(),
        Role.ADMIN: {"L-own", "L-mate", "L-north"},
    }
