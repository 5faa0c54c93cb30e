"""Who may release a hold depends on its reason (issue 9 item 3: a collector released complaint,
legal and deceased holds on her borrower)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import translation

from arrears import errorcodes
from arrears.collections import holds, services
from arrears.collections.models import CaseEvent, Collector, Hold
from arrears.collections.services import CollectionsError
from tests import factories

TODAY = date(2026, 12, 2)

#: The release policy as a lender states it: a collector may end only the borrower's own
#: hardship pause; complaints and disputes need a supervisor; deceased and legal a manager.
EXPECTED = {
    "hardship": {"collector", "team_lead", "manager"},
    "complaint": {"team_lead", "manager"},
    "dispute": {"team_lead", "manager"},
    "deceased": {"manager"},
    "legal": {"manager"},
    "plan_request": {"collector", "team_lead", "manager"},
}


def _hold(reason: str, user: User | None = None) -> Hold:
    owner = factories.borrower(f"B-{reason}", phone=None)
    return services.place_hold(
        owner.pk,
        reason=reason,
        starts_on=TODAY,
        ends_on=TODAY + timedelta(days=30),
        user=user,
        today=TODAY,
    )


def test_the_table_covers_every_hold_reason() -> None:
    assert set(holds.RELEASE_ROLES) == set(Hold.Reason.values) == set(EXPECTED)


@pytest.mark.parametrize("reason", sorted(EXPECTED))
@pytest.mark.parametrize("who", ["ann", "lead", "boss"])
def test_who_may_release_a_hold_depends_on_its_reason(
    staff: dict[str, Collector], reason: str, who: str
) -> None:
    hold = _hold(reason, staff["ann"].user)  # anyone may place any hold
    user = staff[who].user
    if staff[who].role in EXPECTED[reason]:
        services.release_hold(hold, user=user, today=TODAY)
        hold.refresh_from_db()
        assert (hold.released_on, hold.released_by) == (TODAY, user)
    else:
        with pytest.raises(CollectionsError) as raised:
            services.release_hold(hold, user=user, today=TODAY)
        assert raised.value.code == "hold-release-not-allowed"
        hold.refresh_from_db()
        assert hold.released_on is None
        with translation.override("zh-hans"):
            assert "不能解除" in errorcodes.describe(raised.value)


def test_a_refusal_says_who_may_release_it(staff: dict[str, Collector]) -> None:
    hold = _hold("complaint")
    with pytest.raises(CollectionsError) as raised:
        services.release_hold(hold, user=staff["ann"].user, today=TODAY)
    assert str(raised.value) == (
        "ann (Collector) may not release a complaint hold; releasing it needs: "
        "Team lead, Collections manager (or compliance)"
    )


def test_compliance_and_superusers_release_any_hold(db: None) -> None:
    compliance = User.objects.create_user("carol")
    compliance.user_permissions.add(Permission.objects.get(codename="release_any_hold"))
    compliance = User.objects.get(pk=compliance.pk)  # a fresh permission cache
    root = User.objects.create_superuser("root")
    for user, reason in ((compliance, "legal"), (root, "deceased")):
        hold = _hold(reason)
        assert reason in holds.releasable_reasons(user)
        services.release_hold(hold, user=user, today=TODAY)
        hold.refresh_from_db()
        assert hold.released_by == user


def test_a_release_names_who_made_it_and_happens_once(staff: dict[str, Collector]) -> None:
    hold = _hold("hardship")
    with pytest.raises(CollectionsError) as raised:
        services.release_hold(hold, user=None, today=TODAY)
    assert raised.value.code == "hold-release-needs-user"
    services.release_hold(hold, user=staff["ann"].user, today=TODAY)
    with pytest.raises(CollectionsError) as raised:
        services.release_hold(hold, user=staff["lead"].user, today=TODAY)
    assert raised.value.code == "hold-already-released"
    stale = Hold.objects.get(pk=hold.pk)
    stale.released_on = None  # a copy read before the release: the locked re-read refuses
    with pytest.raises(CollectionsError):
        services.release_hold(stale, user=staff["lead"].user, today=TODAY)
    assert Hold.objects.get(pk=hold.pk).released_by == staff["ann"].user


def test_a_collector_sees_which_reasons_she_may_release(staff: dict[str, Collector]) -> None:
    assert holds.releasable_reasons(staff["ann"].user) == {"hardship", "plan_request"}
    assert holds.releasable_reasons(staff["boss"].user) == set(EXPECTED)
    assert not CaseEvent.objects.exists()  # nothing was written by asking
