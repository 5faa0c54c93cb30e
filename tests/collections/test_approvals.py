"""Approval limits for waivers and plan concessions: under, at and over; maker-checker; dual."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from arrears.collections import concessions
from arrears.collections.approvals import ApprovalRefused
from arrears.collections.models import ApprovalLimit, Collector
from arrears.collections.services import CollectionsError
from arrears.daily.services import day_run
from arrears.ledger import models
from tests import factories

AS_OF = date(2026, 3, 20)  # instalment 1 is 33 days late, instalment 2 five days


@pytest.fixture
def big_loan(db: None) -> models.Loan:
    """CNY 1,000,000 over 12 months: its penalty passes every waiver limit by 20 March."""
    owner = factories.borrower("B-BIG")
    loan = factories.loan("L-BIG", owner, factories.product(), principal_minor=100_000_000)
    day_run(as_of=AS_OF, engine="reference")
    return loan


def _limit(kind: str, role: str) -> ApprovalLimit:
    return ApprovalLimit.objects.get(kind=kind, role=role)


def _penalty_owed(loan: models.Loan) -> int:
    return concessions.component_outstanding(
        concessions.ledger_state(loan, AS_OF), concessions.Component.PENALTY
    )


def _waiver(loan: models.Loan, maker: Collector, amount: int) -> models.Waiver:
    return concessions.request_waiver(
        loan,
        component="penalty",
        amount_minor=amount,
        reason="hardship",
        user=maker.user,
        effective_on=AS_OF,
    )


def test_the_big_loan_owes_enough_penalty_for_every_case(big_loan: models.Loan) -> None:
    assert _penalty_owed(big_loan) > _limit("waiver", "team_lead").approve_up_to + 1


@pytest.mark.parametrize("delta", [-1, 0, 1], ids=["under", "at", "over"])
def test_a_team_lead_approves_another_makers_waiver_up_to_the_limit(
    big_loan: models.Loan, staff: dict[str, Collector], delta: int, settings: object
) -> None:
    settings.ARREARS_DUAL_APPROVAL_ABOVE = {}  # type: ignore[attr-defined]
    amount = _limit("waiver", "team_lead").approve_up_to + delta
    waiver = _waiver(big_loan, staff["ann"], amount)
    if delta > 0:
        with pytest.raises(ApprovalRefused, match="above the team_lead approval limit"):
            concessions.approve_waiver(waiver, staff["lead"].user)
        waiver.refresh_from_db()
        assert (waiver.status, waiver.approvals) == ("requested", [])
    else:
        concessions.approve_waiver(waiver, staff["lead"].user)
        waiver.refresh_from_db()
        assert waiver.status == "approved"
        assert [a["username"] for a in waiver.approvals] == ["lead"]


@pytest.mark.parametrize("delta", [-1, 0, 1], ids=["under", "at", "over"])
def test_a_collector_may_approve_their_own_small_waiver_only(
    big_loan: models.Loan, staff: dict[str, Collector], delta: int
) -> None:
    amount = _limit("waiver", "collector").self_up_to + delta
    waiver = _waiver(big_loan, staff["ann"], amount)
    if delta > 0:
        with pytest.raises(ApprovalRefused, match="maker-checker"):
            concessions.approve_waiver(waiver, staff["ann"].user)
        waiver.refresh_from_db()
        assert waiver.status == "requested"
    else:
        concessions.approve_waiver(waiver, staff["ann"].user)
        waiver.refresh_from_db()
        assert waiver.status == "approved"


def test_a_collector_cannot_approve_a_colleagues_waiver(
    big_loan: models.Loan, staff: dict[str, Collector]
) -> None:
    waiver = _waiver(big_loan, staff["ann"], 100)
    with pytest.raises(ApprovalRefused, match="collector approval limit 0"):
        concessions.approve_waiver(waiver, staff["bob"].user)


def test_above_the_dual_threshold_two_other_approvers_are_needed(
    big_loan: models.Loan, staff: dict[str, Collector], settings: object
) -> None:
    settings.ARREARS_DUAL_APPROVAL_ABOVE = {"waiver": 50_000}  # type: ignore[attr-defined]
    waiver = _waiver(big_loan, staff["ann"], 60_000)
    with pytest.raises(ApprovalRefused, match="two approvers other than the maker"):
        concessions.approve_waiver(waiver, staff["ann"].user)
    concessions.approve_waiver(waiver, staff["lead"].user)
    waiver.refresh_from_db()
    assert waiver.status == "requested"  # one is not enough
    with pytest.raises(ApprovalRefused, match="already approved"):
        concessions.approve_waiver(waiver, staff["lead"].user)
    concessions.approve_waiver(waiver, staff["boss"].user)
    waiver.refresh_from_db()
    assert waiver.status == "approved"
    assert [a["role"] for a in waiver.approvals] == ["team_lead", "manager"]


def test_an_approved_waiver_changes_the_ledger_and_a_reversal_restores_it(
    big_loan: models.Loan, staff: dict[str, Collector]
) -> None:
    before = concessions.ledger_state(big_loan, AS_OF)
    waiver = _waiver(big_loan, staff["ann"], 5_000)
    assert concessions.ledger_state(big_loan, AS_OF) == before  # requested: not in force
    concessions.approve_waiver(waiver, staff["ann"].user)
    after = concessions.ledger_state(big_loan, AS_OF)
    assert after.penalty_outstanding == before.penalty_outstanding - 5_000
    assert after.waived_total == 5_000
    with pytest.raises(CollectionsError, match="only a team lead or a manager"):
        concessions.reverse_waiver(waiver, user=staff["bob"].user, on=AS_OF, reason="no")
    concessions.reverse_waiver(waiver, user=staff["lead"].user, on=AS_OF, reason="keyed twice")
    assert concessions.ledger_state(big_loan, AS_OF).penalty_outstanding == (
        before.penalty_outstanding
    )


def test_a_waiver_larger_than_what_is_owed_is_refused(
    big_loan: models.Loan, staff: dict[str, Collector]
) -> None:
    owed = _penalty_owed(big_loan)
    with pytest.raises(CollectionsError, match=f"more than the penalty owed on {AS_OF}"):
        _waiver(big_loan, staff["ann"], owed + 1)
    assert not models.Waiver.objects.exists()


def _plan(loan: models.Loan, maker: Collector) -> models.RepaymentPlan:
    owed = concessions.ledger_state(loan, AS_OF).total_due
    first = AS_OF + timedelta(days=10)
    return concessions.propose_plan(
        loan,
        user=maker.user,
        effective_on=AS_OF,
        instalments=[(first, owed // 2), (first + timedelta(days=30), owed - owed // 2)],
    )


def test_a_plan_preview_shows_its_cost_against_the_current_path(
    big_loan: models.Loan, staff: dict[str, Collector]
) -> None:
    owed = concessions.ledger_state(big_loan, AS_OF).total_due
    first = AS_OF + timedelta(days=10)
    preview = concessions.preview_plan(
        big_loan,
        effective_on=AS_OF,
        instalments=[(first, owed // 2), (first + timedelta(days=30), owed - owed // 2)],
    )
    assert preview.total == owed
    # without the plan, penalty keeps accruing on the overdue principal until it is paid
    assert preview.current_cost > preview.plan_cost
    assert preview.concession == preview.current_cost - preview.plan_cost
    assert "penalty stops accruing" in preview.effect


@pytest.mark.parametrize("delta", [1, 0, -1], ids=["under", "at", "over"])
def test_plan_concession_limits(
    big_loan: models.Loan, staff: dict[str, Collector], delta: int, settings: object
) -> None:
    settings.ARREARS_DUAL_APPROVAL_ABOVE = {}  # type: ignore[attr-defined]
    plan = _plan(big_loan, staff["ann"])
    assert plan.concession_minor > 0
    ApprovalLimit.objects.filter(kind="plan", role="team_lead").update(
        approve_up_to=plan.concession_minor + delta
    )
    if delta < 0:
        with pytest.raises(ApprovalRefused, match="above the team_lead approval limit"):
            concessions.approve_plan(plan, staff["lead"].user)
        plan.refresh_from_db()
        assert plan.status == "requested"
    else:
        concessions.approve_plan(plan, staff["lead"].user)
        plan.refresh_from_db()
        assert plan.status == "approved"


def test_a_collector_cannot_approve_their_own_plan_above_their_limit(
    big_loan: models.Loan, staff: dict[str, Collector]
) -> None:
    plan = _plan(big_loan, staff["ann"])
    ApprovalLimit.objects.filter(kind="plan", role="collector").update(
        self_up_to=plan.concession_minor - 1
    )
    with pytest.raises(ApprovalRefused, match="maker-checker"):
        concessions.approve_plan(plan, staff["ann"].user)
    plan.refresh_from_db()
    assert plan.status == "requested"


def test_someone_without_a_collections_role_cannot_approve(
    big_loan: models.Loan, staff: dict[str, Collector]
) -> None:
    from django.contrib.auth.models import User

    outsider = User.objects.create_user("outsider")
    waiver = _waiver(big_loan, staff["ann"], 100)
    with pytest.raises(ApprovalRefused, match="no collections role"):
        concessions.approve_waiver(waiver, outsider)
