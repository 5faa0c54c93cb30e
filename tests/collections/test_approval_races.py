"""Approve, reject and reverse lock the request and read it again inside their transaction.

Issue 9 item 4: ``_approve`` read the request without a lock, so an approval racing a rejection
could turn a rejected request into an approved one, and two approvals could lose one. The
first tests replay the race with two copies of the request read before either acts (what two
browser tabs hold) and run on any database; the last ones race two real threads, each on its
own connection, and need PostgreSQL's row locks (``DATABASE_URL=postgresql://…``).
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.db import connection

from arrears.collections import concessions
from arrears.collections.approvals import ApprovalRefused
from arrears.collections.models import ApprovalLimit, Collector
from arrears.collections.services import CollectionsError
from arrears.daily.services import day_run
from arrears.ledger import models
from tests import factories

AS_OF = date(2026, 3, 20)
Refusal = (ApprovalRefused, CollectionsError)


def _book(staff: dict[str, Collector]) -> models.Waiver:
    owner = factories.borrower("B-RACE")
    loan = factories.loan("L-RACE", owner, factories.product(), principal_minor=100_000_000)
    day_run(as_of=AS_OF, engine="reference")
    return concessions.request_waiver(
        loan,
        component="penalty",
        amount_minor=60_000,
        reason="hardship",
        user=staff["ann"].user,
        effective_on=AS_OF,
    )


def _copy(waiver: models.Waiver) -> models.Waiver:
    return models.Waiver.objects.select_related("loan", "requested_by").get(pk=waiver.pk)


@pytest.fixture
def dual(settings: Any) -> None:
    settings.ARREARS_DUAL_APPROVAL_ABOVE = {"waiver": 50_000}
    _default_limits()


def _default_limits() -> None:
    """The data migration's default limits. A transactional test starts from whatever the last
    one left: a flushed database has lost the migration's rows (restoring them by serialized
    rollback collides with the content types a flush re-creates), so they are put back here."""
    shipped = importlib.import_module("arrears.collections.migrations.0002_default_approval_limits")
    for kind, role, _self_up_to, approve_up_to in shipped.DEFAULTS:
        ApprovalLimit.objects.get_or_create(
            kind=kind, role=role, defaults={"approve_up_to": approve_up_to}
        )


@pytest.mark.django_db
def test_an_approval_from_a_stale_copy_cannot_undo_a_rejection(
    staff: dict[str, Collector], settings: Any
) -> None:
    settings.ARREARS_DUAL_APPROVAL_ABOVE = {}
    waiver = _book(staff)
    for_lead, for_boss = _copy(waiver), _copy(waiver)
    concessions.reject(for_boss, user=staff["boss"].user, reason="no evidence")
    with pytest.raises(CollectionsError) as raised:
        concessions.approve_waiver(for_lead, staff["lead"].user)
    assert raised.value.code == "concession-not-requested"
    waiver.refresh_from_db()
    assert (waiver.status, waiver.approvals) == ("rejected", [])


@pytest.mark.django_db
def test_a_rejection_from_a_stale_copy_cannot_undo_an_approval(
    staff: dict[str, Collector], settings: Any
) -> None:
    settings.ARREARS_DUAL_APPROVAL_ABOVE = {}
    waiver = _book(staff)
    for_lead, for_boss = _copy(waiver), _copy(waiver)
    concessions.approve_waiver(for_lead, staff["lead"].user)
    with pytest.raises(CollectionsError) as raised:
        concessions.reject(for_boss, user=staff["boss"].user, reason="too late")
    assert raised.value.code == "concession-not-requested"
    waiver.refresh_from_db()
    assert waiver.status == "approved"


@pytest.mark.django_db
def test_two_approvals_from_stale_copies_keep_both(staff: dict[str, Collector], dual: None) -> None:
    waiver = _book(staff)
    for_lead, for_boss = _copy(waiver), _copy(waiver)
    concessions.approve_waiver(for_lead, staff["lead"].user)
    concessions.approve_waiver(for_boss, staff["boss"].user)
    waiver.refresh_from_db()
    assert waiver.status == "approved"
    assert [a["username"] for a in waiver.approvals] == ["lead", "boss"]


# --- two threads on PostgreSQL ---------------------------------------------------------------

needs_postgres = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
    reason="needs PostgreSQL row locks and a connection per thread (SQLite's in-memory test "
    "database is one connection); run with DATABASE_URL=postgresql://…",
)


def _race(*actions: Callable[[], object]) -> list[object]:
    """Run ``actions`` at the same moment, one thread (and connection) each; returns what each
    returned or raised."""
    start = threading.Barrier(len(actions))
    results: list[object] = [None] * len(actions)

    def run(n: int, action: Callable[[], object]) -> None:
        try:
            start.wait(timeout=10)
            results[n] = action()
        except Exception as error:  # a refusal is a result here, kept to assert on
            results[n] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, a)) for n, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@needs_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_an_approval_racing_a_rejection_on_postgres_leaves_exactly_one_winner(
    staff: dict[str, Collector], settings: Any, attempt: int
) -> None:
    settings.ARREARS_DUAL_APPROVAL_ABOVE = {}
    _default_limits()
    assert ApprovalLimit.objects.filter(kind="waiver", role="team_lead").exists()
    waiver = _book(staff)
    for_lead, for_boss = _copy(waiver), _copy(waiver)
    approved, rejected = _race(
        lambda: concessions.approve_waiver(for_lead, staff["lead"].user),
        lambda: concessions.reject(for_boss, user=staff["boss"].user, reason="no evidence"),
    )
    refused = [r for r in (approved, rejected) if isinstance(r, Refusal)]
    assert len(refused) == 1, (approved, rejected)
    assert refused[0].code == "concession-not-requested"
    unexpected = [r for r in (approved, rejected) if isinstance(r, Exception)]
    assert unexpected == refused, unexpected
    waiver.refresh_from_db()
    if isinstance(approved, Refusal):
        assert (waiver.status, waiver.approvals) == ("rejected", [])
    else:
        assert waiver.status == "approved" and len(waiver.approvals) == 1


@needs_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_approvals_racing_on_postgres_keep_both(
    staff: dict[str, Collector], dual: None, attempt: int
) -> None:
    waiver = _book(staff)
    for_lead, for_boss = _copy(waiver), _copy(waiver)
    results = _race(
        lambda: concessions.approve_waiver(for_lead, staff["lead"].user),
        lambda: concessions.approve_waiver(for_boss, staff["boss"].user),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    waiver.refresh_from_db()
    assert waiver.status == "approved"
    assert sorted(a["username"] for a in waiver.approvals) == ["boss", "lead"]
