"""Approval limits for waivers and plan concessions: under, at and over; maker-checker; dual;
running totals per loan and borrower in a window; what is owed re-checked at approval."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone, translation

from arrears import errorcodes
from arrears.collections import concessions
from arrears.collections.approvals import ApprovalRefused
from arrears.collections.models import ApprovalLimit, Collector, Team
from arrears.collections.services import CollectionsError
from arrears.daily.services import day_run
from arrears.kernel.money import Money
from arrears.ledger import models
from arrears.ledger import services as ledger
from tests import factories, sharing
from tests.collections.conftest import make_collector

AS_OF = date(2026, 3, 20)  # instalment 1 is 33 days late, instalment 2 five days


@dataclass(frozen=True)
class Keys:
    """What a test needs to load the module's book afresh: the loan and the staff by name."""

    loan: int
    staff: tuple[tuple[str, int], ...]


def _build() -> Keys:
    """The internal team's four staff (boss unavailable) and a CNY 1,000,000 loan over 12
    months, run on :data:`AS_OF`: its penalty passes every waiver limit by then."""
    team = Team.objects.create(code="internal", name="Internal team", owner="internal_team")
    staff = {
        "ann": make_collector("ann", team),
        "bob": make_collector("bob", team),
        "lead": make_collector("lead", team, role="team_lead"),
        "boss": make_collector("boss", team, role="manager", available=False),
    }
    owner = factories.borrower("B-BIG")
    loan = factories.loan("L-BIG", owner, factories.product(), principal_minor=100_000_000)
    day_run(as_of=AS_OF, engine="reference")
    return Keys(loan=loan.pk, staff=tuple((who, c.pk) for who, c in staff.items()))


@pytest.fixture(scope="module")
def _book(django_db_setup: None, django_db_blocker: Any) -> Iterator[Keys]:
    """The book, built once for the module (tests/sharing.py)."""
    yield from sharing.module_book(django_db_blocker, _build, lambda keys: keys)


@pytest.fixture
def big_loan(_book: Keys, db: None) -> models.Loan:
    """The module's loan, loaded afresh (each test in its own savepoint)."""
    return models.Loan.objects.get(pk=_book.loan)


@pytest.fixture
def staff(_book: Keys, db: None) -> dict[str, Collector]:
    """The module's staff, loaded afresh."""
    found = Collector.objects.select_related("user").in_bulk([pk for _, pk in _book.staff])
    return {who: found[pk] for who, pk in _book.staff}


@pytest.fixture
def no_dual(settings: Any) -> None:
    settings.ARREARS_DUAL_APPROVAL_ABOVE = {}


def _limit(kind: str, role: str) -> ApprovalLimit:
    return ApprovalLimit.objects.get(kind=kind, role=role)


def _set_limit(kind: str, role: str, up_to: int) -> None:
    ApprovalLimit.objects.filter(kind=kind, role=role).update(approve_up_to=up_to)


def _penalty_owed(loan: models.Loan) -> int:
    return concessions.component_outstanding(
        concessions.ledger_state(loan, AS_OF), concessions.Component.PENALTY
    )


def _waiver(
    loan: models.Loan, maker: Collector, amount: int, component: str = "penalty"
) -> models.Waiver:
    return concessions.request_waiver(
        loan,
        component=component,
        amount_minor=amount,
        reason="hardship",
        user=maker.user,
        effective_on=AS_OF,
    )


def _refusal(action: Any, *args: Any) -> ApprovalRefused | CollectionsError:
    with pytest.raises((ApprovalRefused, CollectionsError)) as raised:
        action(*args)
    error = raised.value
    assert isinstance(error, (ApprovalRefused, CollectionsError))
    return error


def test_the_big_loan_owes_enough_penalty_for_every_case(big_loan: models.Loan) -> None:
    assert _penalty_owed(big_loan) > _limit("waiver", "team_lead").approve_up_to + 1


@pytest.mark.parametrize("delta", [-1, 0, 1], ids=["under", "at", "over"])
def test_a_team_lead_approves_another_makers_waiver_up_to_the_limit(
    big_loan: models.Loan, staff: dict[str, Collector], delta: int, no_dual: None
) -> None:
    amount = _limit("waiver", "team_lead").approve_up_to + delta
    waiver = _waiver(big_loan, staff["ann"], amount)
    if delta > 0:
        error = _refusal(concessions.approve_waiver, waiver, staff["lead"].user)
        assert error.code == "approval-above-limit"
        assert error.params["limit"] == Money(_limit("waiver", "team_lead").approve_up_to, "CNY")
        # … and says who could: the manager, with their limit
        assert "it needs a Collections manager (limit CN¥10,000.00)" in str(error)
        waiver.refresh_from_db()
        assert (waiver.status, waiver.approvals) == ("requested", [])
    else:
        concessions.approve_waiver(waiver, staff["lead"].user)
        waiver.refresh_from_db()
        assert waiver.status == "approved"
        assert [a["username"] for a in waiver.approvals] == ["lead"]
        assert waiver.approvals[0]["total"] == amount  # what the approver approved against


@pytest.mark.parametrize("maker", ["ann", "lead", "boss"])
def test_the_maker_never_approves_their_own_request_whatever_the_amount_and_limit(
    big_loan: models.Loan, staff: dict[str, Collector], maker: str, no_dual: None
) -> None:
    """Issue 9 item 1: ann approved her own CNY 50 waiver. Even with a limit far above the
    amount, and at one fen, the maker is refused; someone else then approves."""
    for role in Collector.Role.values:
        _set_limit("waiver", role, 10**9)
    waiver = _waiver(big_loan, staff[maker], 1)
    error = _refusal(concessions.approve_waiver, waiver, staff[maker].user)
    assert error.code == "approval-own-request"
    waiver.refresh_from_db()
    assert (waiver.status, waiver.approvals) == ("requested", [])
    checker = "bob" if maker != "bob" else "ann"
    concessions.approve_waiver(waiver, staff[checker].user)
    waiver.refresh_from_db()
    assert waiver.status == "approved"


def test_the_maker_cannot_approve_their_own_plan_either(
    big_loan: models.Loan, staff: dict[str, Collector], no_dual: None
) -> None:
    plan = _plan(big_loan, staff["lead"])
    _set_limit("plan", "team_lead", 10**12)
    error = _refusal(concessions.approve_plan, plan, staff["lead"].user)
    assert error.code == "approval-own-request"
    plan.refresh_from_db()
    assert plan.status == "requested"


def test_a_collector_cannot_approve_a_colleagues_waiver(
    big_loan: models.Loan, staff: dict[str, Collector]
) -> None:
    waiver = _waiver(big_loan, staff["ann"], 100)
    error = _refusal(concessions.approve_waiver, waiver, staff["bob"].user)
    assert error.code == "approval-above-limit"
    assert error.params["limit"] == Money(0, "CNY")
    assert "needs a Team lead" in str(error)


def test_above_the_dual_threshold_two_other_approvers_are_needed(
    big_loan: models.Loan, staff: dict[str, Collector], settings: Any
) -> None:
    settings.ARREARS_DUAL_APPROVAL_ABOVE = {"waiver": 50_000}
    waiver = _waiver(big_loan, staff["ann"], 60_000)
    assert _refusal(concessions.approve_waiver, waiver, staff["ann"].user).code == (
        "approval-own-request"
    )
    concessions.approve_waiver(waiver, staff["lead"].user)
    waiver.refresh_from_db()
    assert waiver.status == "requested"  # one is not enough
    assert _refusal(concessions.approve_waiver, waiver, staff["lead"].user).code == (
        "approval-already-given"
    )
    concessions.approve_waiver(waiver, staff["boss"].user)
    waiver.refresh_from_db()
    assert waiver.status == "approved"
    assert [a["role"] for a in waiver.approvals] == ["team_lead", "manager"]


def test_above_the_lead_limit_a_lead_may_second_a_manager_but_not_stand_in_for_one(
    big_loan: models.Loan, staff: dict[str, Collector], settings: Any
) -> None:
    """Above the dual threshold one approver needs the authority (a limit covering the total);
    the other is the second pair of eyes. Two who both fall short cannot approve it."""
    settings.ARREARS_DUAL_APPROVAL_ABOVE = {"waiver": 100_000}
    amount = _limit("waiver", "team_lead").approve_up_to + 50_000  # CNY 1,500
    waiver = _waiver(big_loan, staff["ann"], amount)
    second_lead = _another_lead(staff)
    concessions.approve_waiver(waiver, staff["lead"].user)  # accepted as the second pair of eyes
    error = _refusal(concessions.approve_waiver, waiver, second_lead.user)
    assert error.code == "approval-above-limit" and "needs a Collections manager" in str(error)
    waiver.refresh_from_db()
    assert waiver.status == "requested"
    concessions.approve_waiver(waiver, staff["boss"].user)
    waiver.refresh_from_db()
    assert waiver.status == "approved"


def _another_lead(staff: dict[str, Collector]) -> Collector:
    user = User.objects.create_user("lena")
    return Collector.objects.create(user=user, team=staff["lead"].team, role="team_lead")


def test_an_approved_waiver_changes_the_ledger_and_a_reversal_restores_it(
    big_loan: models.Loan, staff: dict[str, Collector]
) -> None:
    before = concessions.ledger_state(big_loan, AS_OF)
    waiver = _waiver(big_loan, staff["ann"], 5_000)
    assert concessions.ledger_state(big_loan, AS_OF) == before  # requested: not in force
    concessions.approve_waiver(waiver, staff["lead"].user)
    after = concessions.ledger_state(big_loan, AS_OF)
    assert after.penalty_outstanding == before.penalty_outstanding - 5_000
    assert after.waived_total == 5_000
    error = _refusal(
        lambda: concessions.reverse_waiver(waiver, user=staff["bob"].user, on=AS_OF, reason="no")
    )
    assert error.code == "waiver-reverse-supervisor-only"
    concessions.reverse_waiver(waiver, user=staff["lead"].user, on=AS_OF, reason="keyed twice")
    stored = type(waiver).objects.get(pk=waiver.pk)
    assert stored.reversed_at is not None and stored.reversed_at >= stored.created_at
    assert concessions.ledger_state(big_loan, AS_OF).penalty_outstanding == (
        before.penalty_outstanding
    )


def test_a_waiver_larger_than_what_is_owed_is_refused(
    big_loan: models.Loan, staff: dict[str, Collector]
) -> None:
    owed = _penalty_owed(big_loan)
    error = _refusal(_waiver, big_loan, staff["ann"], owed + 1)
    assert (error.code, error.field) == ("waiver-above-owed", "amount")
    assert error.params["left"] == Money(owed, "CNY")
    assert not models.Waiver.objects.exists()


# --- running totals: splitting does not get past a limit -----------------------------------


def test_four_small_waivers_do_not_get_past_a_limit_one_does_not(
    big_loan: models.Loan, staff: dict[str, Collector], no_dual: None
) -> None:
    """Issue 9 item 3: four 50.00 waivers requested and approved by someone with a 50.00
    limit waived 200.00. Requested one after the other, each tried before the next, only the
    first is approved: the approved first one is in the running total of the others."""
    _set_limit("waiver", "team_lead", 5_000)
    first = _waiver(big_loan, staff["ann"], 5_000)
    concessions.approve_waiver(first, staff["lead"].user)
    for n in range(1, 4):
        waiver = _waiver(big_loan, staff["ann"], 5_000)
        error = _refusal(concessions.approve_waiver, waiver, staff["lead"].user)
        assert error.code == "approval-above-limit"
        # the approved first one and every request still waiting, this one included
        assert error.params["total"] == Money(5_000 * (n + 1), "CNY")
        waiver.refresh_from_db()
        assert waiver.status == "requested"
    approved = models.Waiver.objects.filter(status="approved")
    assert sum(w.amount_minor for w in approved) == 5_000


def test_waiting_requests_count_in_the_running_total_too(
    big_loan: models.Loan, staff: dict[str, Collector], no_dual: None
) -> None:
    """Four 50.00 requests made at once weigh 200.00 each time one of them is approved."""
    _set_limit("waiver", "team_lead", 5_000)
    waivers = [_waiver(big_loan, staff["ann"], 5_000) for _ in range(4)]
    for waiver in waivers:
        error = _refusal(concessions.approve_waiver, waiver, staff["lead"].user)
        assert error.params["total"] == Money(20_000, "CNY")
    # rejecting three leaves one request that is within the limit on its own
    for waiver in waivers[1:]:
        concessions.reject(waiver, user=staff["boss"].user, reason="one waiver is enough")
    concessions.approve_waiver(waivers[0], staff["lead"].user)
    waivers[0].refresh_from_db()
    assert waivers[0].status == "approved"


def test_splitting_a_waiver_does_not_avoid_the_second_approver(
    big_loan: models.Loan, staff: dict[str, Collector], settings: Any
) -> None:
    settings.ARREARS_DUAL_APPROVAL_ABOVE = {"waiver": 100_000}
    _set_limit("waiver", "team_lead", 200_000)
    first = _waiver(big_loan, staff["ann"], 60_000)
    concessions.approve_waiver(first, staff["lead"].user)
    first.refresh_from_db()
    assert first.status == "approved"  # 600.00 alone is under the threshold
    second = _waiver(big_loan, staff["ann"], 60_000)
    concessions.approve_waiver(second, staff["lead"].user)
    second.refresh_from_db()
    assert second.status == "requested"  # 1,200.00 together: two approvers
    concessions.approve_waiver(second, staff["boss"].user)
    second.refresh_from_db()
    assert second.status == "approved"


def test_the_running_total_covers_every_loan_of_the_borrower(
    big_loan: models.Loan, staff: dict[str, Collector], no_dual: None
) -> None:
    other = factories.loan("L-BIG-2", big_loan.borrower, big_loan.product, principal_minor=10**8)
    day_run(as_of=AS_OF, engine="reference")
    _set_limit("waiver", "team_lead", 5_000)
    concessions.approve_waiver(_waiver(big_loan, staff["ann"], 3_000), staff["lead"].user)
    waiver = _waiver(other, staff["ann"], 3_000)
    exposure = concessions.exposure(waiver)
    assert (exposure.loan_total, exposure.borrower_total) == (3_000, 6_000)
    error = _refusal(concessions.approve_waiver, waiver, staff["lead"].user)
    assert error.params["total"] == Money(6_000, "CNY")


def test_the_running_total_forgets_old_rejected_and_reversed_concessions(
    big_loan: models.Loan, staff: dict[str, Collector], no_dual: None, settings: Any
) -> None:
    settings.ARREARS_CONCESSION_WINDOW_DAYS = 30
    _set_limit("waiver", "team_lead", 5_000)
    old = _waiver(big_loan, staff["ann"], 5_000)
    concessions.approve_waiver(old, staff["lead"].user)
    reversed_ = _waiver(big_loan, staff["ann"], 1_000)
    concessions.approve_waiver(reversed_, staff["boss"].user)
    concessions.reverse_waiver(reversed_, user=staff["lead"].user, on=AS_OF, reason="keyed twice")
    rejected = _waiver(big_loan, staff["ann"], 1_000)
    concessions.reject(rejected, user=staff["lead"].user, reason="no evidence")
    models.Waiver.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    waiver = _waiver(big_loan, staff["ann"], 5_000)
    assert concessions.exposure(waiver).borrower_total == 5_000
    concessions.approve_waiver(waiver, staff["lead"].user)
    models.Waiver.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=29))
    assert concessions.exposure(waiver).borrower_total == 10_000


# --- what is owed, again at approval time ----------------------------------------------------


def test_a_second_waiver_of_a_penalty_already_waived_is_refused_at_approval(
    big_loan: models.Loan, staff: dict[str, Collector], no_dual: None
) -> None:
    """Issue 9 item 3: three penalty waivers of the whole penalty were all approved (two
    "nothing to waive, unused"). Each request is within what is owed when made; the second
    approval finds nothing left and says so."""
    _set_limit("waiver", "team_lead", 10**12)
    owed = _penalty_owed(big_loan)
    waivers = [_waiver(big_loan, staff["ann"], owed) for _ in range(3)]
    concessions.approve_waiver(waivers[0], staff["lead"].user)
    for waiver in waivers[1:]:
        error = _refusal(concessions.approve_waiver, waiver, staff["lead"].user)
        assert error.code == "waiver-owed-changed"
        assert error.params["left"] == Money(0, "CNY")
        assert "but only CN¥0.00 is left to waive" in str(error)
        waiver.refresh_from_db()
        assert (waiver.status, waiver.approvals) == ("requested", [])
    state = concessions.ledger_state(big_loan, AS_OF)
    assert state.waived_penalty == owed and all(w.unused == 0 for w in state.waivers)
    with translation.override("zh-hans"):
        assert "仅剩" in errorcodes.describe(error)


def test_a_partly_waived_penalty_leaves_what_is_left_to_waive(
    big_loan: models.Loan, staff: dict[str, Collector], no_dual: None
) -> None:
    _set_limit("waiver", "team_lead", 10**12)
    owed = _penalty_owed(big_loan)
    whole = _waiver(big_loan, staff["ann"], owed)
    half = _waiver(big_loan, staff["bob"], owed // 2)
    concessions.approve_waiver(half, staff["lead"].user)
    error = _refusal(concessions.approve_waiver, whole, staff["lead"].user)
    assert error.params["left"] == Money(owed - owed // 2, "CNY")


# --- plans -----------------------------------------------------------------------------------


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
    big_loan: models.Loan, staff: dict[str, Collector], delta: int, no_dual: None
) -> None:
    plan = _plan(big_loan, staff["ann"])
    assert plan.concession_minor > 0
    _set_limit("plan", "team_lead", plan.concession_minor + delta)
    if delta < 0:
        error = _refusal(concessions.approve_plan, plan, staff["lead"].user)
        assert error.code == "approval-above-limit"
        plan.refresh_from_db()
        assert plan.status == "requested"
    else:
        concessions.approve_plan(plan, staff["lead"].user)
        plan.refresh_from_db()
        assert plan.status == "approved"


def test_a_plan_on_a_loan_paid_off_since_the_proposal_is_refused_at_approval(
    big_loan: models.Loan, staff: dict[str, Collector], no_dual: None
) -> None:
    plan = _plan(big_loan, staff["ann"])
    payoff = concessions.ledger_state(big_loan, AS_OF + timedelta(days=1)).payoff
    ledger.record_payment(
        loan=big_loan,
        ref="PAY-OFF",
        value_date=AS_OF + timedelta(days=1),
        amount_minor=payoff,
        currency="CNY",
    )
    error = _refusal(concessions.approve_plan, plan, staff["lead"].user)
    assert error.code == "plan-nothing-owed"
    plan.refresh_from_db()
    assert plan.status == "requested"


def test_someone_without_a_collections_role_cannot_approve(
    big_loan: models.Loan, staff: dict[str, Collector]
) -> None:
    outsider = User.objects.create_user("outsider")
    waiver = _waiver(big_loan, staff["ann"], 100)
    assert _refusal(concessions.approve_waiver, waiver, outsider).code == "approval-no-role"


# --- who may approve -------------------------------------------------------------------------


def _who(item: models.Waiver | models.RepaymentPlan) -> list[str]:
    return [user for user, _role in concessions.who_may_approve(item).users]


def test_who_may_approve_names_the_approvers_and_never_the_maker(
    big_loan: models.Loan, staff: dict[str, Collector], no_dual: None
) -> None:
    small = _waiver(big_loan, staff["ann"], 500)
    assert _who(small) == ["boss", "lead"]  # the supervisors of the team, not the maker
    by_lead = _waiver(big_loan, staff["lead"], 500)
    assert _who(by_lead) == ["boss"]
    above_lead = _waiver(big_loan, staff["ann"], _limit("waiver", "team_lead").approve_up_to)
    need = concessions.who_may_approve(above_lead)
    assert [u for u, _r in need.users] == ["boss"]  # the running total is above the lead
    assert need.roles == (("manager", _limit("waiver", "manager").approve_up_to),)


def test_a_request_nobody_can_approve_says_who_could(
    big_loan: models.Loan, staff: dict[str, Collector], no_dual: None
) -> None:
    manager_limit = _limit("waiver", "manager").approve_up_to
    # only a manager could approve it, and the only manager is the maker
    by_boss = _waiver(big_loan, staff["boss"], manager_limit, "principal")
    need = concessions.who_may_approve(by_boss)
    assert need.users == () and need.roles[0] == ("manager", manager_limit)
    models.Waiver.objects.filter(pk=by_boss.pk).update(status="rejected")
    above_all = _waiver(big_loan, staff["ann"], manager_limit + 1, "principal")
    need = concessions.who_may_approve(above_all)
    assert need.users == () and need.roles == ()
    assert need.highest == ("manager", manager_limit)
    error = _refusal(concessions.approve_waiver, above_all, staff["boss"].user)
    assert error.code == "approval-above-every-limit"
    assert "raise a limit in Admin → Approval limits" in str(error)
