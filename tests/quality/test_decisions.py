"""The gate decision log: its index follows the gate, the filters, counts by rule, paging with
a bounded number of queries, and the CSV export (filtered, bounded, masked)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from arrears.collections import services as collections
from arrears.collections.models import Case, Hold
from arrears.contact.models import GateDecision
from arrears.quality import views
from arrears.quality.models import GateLogEntry, GateLogRule
from tests.quality.conftest import DAY, at, client_for, contact, decide, message

FULL = "+8613800000001"
MASKED = "+86138****0001"


@pytest.fixture
def log(case: Case, ann: User, bob: User) -> dict[str, GateDecision]:
    """Five decisions: ann's allowed call, bob's overridden deny, a deferred SMS message, a
    denied message with two rules, and ann's allowed call the next day."""
    first = contact(case, ann, at(DAY, 10))
    reason = f"borrower asked, call back on {FULL}"
    late = contact(case, bob, at(DAY, 22, 30), overridden=True, override_reason=reason)
    sms = message(case, at(DAY, 23), status="suppressed")
    held = message(case, at(DAY, 12), status="suppressed", template="final")
    second = contact(case, ann, at(DAY + timedelta(days=1), 11))
    return {
        "ann": decide(at(DAY, 10), logged=first),
        "bob": decide(
            at(DAY, 22, 30),
            "deny",
            ("cn.hours",),
            logged=late,
            overridden=True,
            reason=reason,
        ),
        "defer": decide(at(DAY, 23), "defer", ("cn.hours",), message=sms),
        "deny": decide(at(DAY, 12), "deny", ("cn.holds", "cn.frequency"), message=held),
        "next": decide(at(DAY + timedelta(days=1), 11), logged=second),
    }


def _shown(officer: User, **query: Any) -> list[int]:
    response = client_for(officer).get("/compliance/decisions/", query)
    assert response.status_code == 200
    return [row["entry"].decision_id for row in response.context["shown"]]


def test_every_decision_is_indexed_with_what_it_was_about(
    log: dict[str, GateDecision], bob: User
) -> None:
    entry = GateLogEntry.objects.get(decision=log["bob"])
    assert (entry.outcome, entry.channel, entry.overridden) == ("deny", "call", True)
    assert (entry.collector, entry.case_id) == (bob, entry.contact.case_id)
    assert [r.rule for r in entry.fired.all()] == ["cn.hours"]
    message_entry = GateLogEntry.objects.get(decision=log["deny"])
    assert (message_entry.channel, message_entry.collector, message_entry.message_id) == (
        "sms",
        None,
        log["deny"].message_id,
    )
    assert sorted(message_entry.fired.values_list("rule", flat=True)) == [
        "cn.frequency",
        "cn.holds",
    ]
    log["deny"].delete()
    assert not GateLogEntry.objects.filter(pk=message_entry.pk).exists()


def test_a_contact_logged_against_the_real_gate_is_indexed_as_overridden(
    case: Case, ann: User
) -> None:
    Hold.objects.create(
        borrower=case.borrower, reason="complaint", starts_on=DAY, ends_on=DAY + timedelta(9)
    )
    logged = collections.log_contact(
        case,
        channel="call",
        direction="outbound",
        party="borrower",
        outcome="rpc",
        collector=ann,
        at=at(DAY, 11),
        override_reason="legal asked",
    )
    entry = GateLogEntry.objects.get(contact=logged)
    assert (entry.outcome, entry.overridden, entry.collector, entry.channel) == (
        "deny",
        True,
        ann,
        "call",
    )
    assert list(entry.fired.values_list("rule", flat=True)) == ["cn.holds"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["next", "defer", "bob", "deny", "ann"]),
        ({"outcome": "deny"}, ["bob", "deny"]),
        ({"outcome": "defer"}, ["defer"]),
        ({"override": "yes"}, ["bob"]),
        ({"override": "no"}, ["next", "defer", "deny", "ann"]),
        ({"rule": "cn.hours"}, ["defer", "bob"]),
        ({"rule": "cn.frequency"}, ["deny"]),
        ({"rule": "cn.nothing"}, []),
        ({"collector": "ann"}, ["next", "ann"]),
        ({"collector": "bob", "outcome": "allow"}, []),
        ({"channel": "sms"}, ["defer", "deny"]),
        ({"channel": "call"}, ["next", "bob", "ann"]),
        ({"date_from": DAY + timedelta(days=1)}, ["next"]),
        ({"date_to": DAY}, ["defer", "bob", "deny", "ann"]),
        ({"date_from": DAY, "date_to": DAY, "outcome": "deny", "rule": "cn.holds"}, ["deny"]),
    ],
)
def test_the_filters(
    log: dict[str, GateDecision], officer: User, query: dict[str, Any], expected: list[str]
) -> None:
    assert _shown(officer, **query) == [log[name].pk for name in expected]


def test_an_invalid_filter_lists_nothing_and_says_why(
    log: dict[str, GateDecision], officer: User
) -> None:
    response = client_for(officer).get(
        "/compliance/decisions/", {"date_from": "2026-11-20", "date_to": "2026-11-01"}
    )
    assert response.context["shown"] == []
    assert b"The end date is before the start date." in response.content


def test_counts_by_rule_follow_the_filters(log: dict[str, GateDecision], officer: User) -> None:
    response = client_for(officer).get("/compliance/decisions/")
    assert response.context["counts"] == [("cn.hours", 2), ("cn.frequency", 1), ("cn.holds", 1)]
    assert response.context["page"].paginator.count == 5
    denied = client_for(officer).get("/compliance/decisions/", {"outcome": "deny"})
    assert denied.context["counts"] == [("cn.frequency", 1), ("cn.holds", 1), ("cn.hours", 1)]


def test_the_page_shows_override_reasons_and_masked_numbers_only(
    log: dict[str, GateDecision], officer: User
) -> None:
    content = client_for(officer).get("/compliance/decisions/").content.decode()
    assert "borrower asked" in content
    assert MASKED in content
    assert FULL not in content


def _page_queries(officer: User, query: dict[str, Any]) -> int:
    client = client_for(officer)
    client.get("/compliance/decisions/", query)  # warm: sessions, content types
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/compliance/decisions/", query).status_code == 200
    return len(captured)


def test_the_query_count_does_not_grow_with_the_rows(case: Case, ann: User, officer: User) -> None:
    def add(start: int, n: int) -> None:
        for i in range(start, start + n):
            logged = contact(case, ann, at(DAY, 9) + timedelta(minutes=i))
            decide(logged.at, "deny", ("cn.hours", "cn.holds"), logged=logged, overridden=True)
            decide(logged.at, "defer", ("cn.frequency",), message=message(case, logged.at))

    add(0, 2)
    few = _page_queries(officer, {"rule": "cn.hours"})
    add(2, 30)
    many = _page_queries(officer, {"rule": "cn.hours"})
    assert many == few <= 12  # the page and the header (the admin link, the approvals badge)


def test_pages_of_fifty(case: Case, ann: User, officer: User) -> None:
    for i in range(views.PAGE_ROWS + 3):
        decide(at(DAY, 9) + timedelta(minutes=i))
    first = client_for(officer).get("/compliance/decisions/", {"outcome": "allow"})
    assert len(first.context["shown"]) == views.PAGE_ROWS
    assert b"outcome=allow&amp;page=2" in first.content
    second = client_for(officer).get("/compliance/decisions/", {"outcome": "allow", "page": 2})
    assert len(second.context["shown"]) == 3


def _csv(officer: User, **query: Any) -> tuple[Any, list[dict[str, str]]]:
    response = client_for(officer).get("/compliance/decisions/", {**query, "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return response, list(csv.DictReader(io.StringIO(response.content.decode())))


def test_the_csv_holds_the_filtered_rows_masked(
    log: dict[str, GateDecision], officer: User
) -> None:
    response, rows = _csv(officer, outcome="deny")
    assert [r["contact"] or r["message"] for r in rows] == [
        str(log["bob"].request["contact"]),
        str(log["deny"].message_id),
    ]
    bob = rows[0]
    assert (bob["rules"], bob["overridden"], bob["collector"], bob["to"]) == (
        "cn.hours",
        "yes",
        "bob",
        "'" + MASKED,  # a leading + would be a formula to a spreadsheet
    )
    assert bob["override_reason"] == "borrower asked, call back on +86138****0001"
    assert rows[1]["rules"] == "cn.holds cn.frequency" and rows[1]["template"] == "final"
    assert FULL not in response.content.decode()
    assert "X-Arrears-Truncated" not in response


def test_the_csv_is_bounded(
    log: dict[str, GateDecision], officer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "CSV_LIMIT", 2)
    response, rows = _csv(officer)
    assert len(rows) == 2 and response["X-Arrears-Truncated"] == "2"
    assert [r["at"][:16] for r in rows] == ["2026-11-17T11:00", "2026-11-16T23:00"]


def test_a_formula_in_a_reason_is_not_run_by_a_spreadsheet(case: Case, officer: User) -> None:
    logged = contact(case, None, at(DAY, 10))
    decide(at(DAY, 10), "deny", ("cn.hours",), logged=logged, overridden=True, reason="=1+1")
    _, rows = _csv(officer)
    assert rows[0]["override_reason"] == "'=1+1"


def test_the_migration_indexes_decisions_recorded_before_the_app(
    log: dict[str, GateDecision],
) -> None:
    from importlib import import_module

    migration = import_module("arrears.quality.migrations.0002_index_existing_decisions")
    GateLogEntry.objects.all().delete()
    migration.index_existing(apps, None)
    assert GateLogEntry.objects.count() == 5
    assert GateLogRule.objects.filter(rule="cn.hours").count() == 2
    assert GateLogEntry.objects.get(decision=log["bob"]).overridden


def test_a_changed_decision_is_indexed_again(log: dict[str, GateDecision]) -> None:
    decision = log["deny"]
    decision.outcome, decision.rules = "allow", [{"id": "cn.quiet", "message": ""}]
    decision.save()
    entry = GateLogEntry.objects.get(decision=decision)
    assert entry.outcome == "allow"
    assert list(entry.fired.values_list("rule", flat=True)) == ["cn.quiet"]
    assert GateLogEntry.objects.count() == 5
