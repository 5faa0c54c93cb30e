"""Who in an agency sees what: only the agency's live placements, minimised."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.http import Http404

from arrears.agencies import access
from arrears.agencies.models import AgencyToken
from arrears.ledger.models import Phone
from arrears.web import selectors
from tests.agencies.conftest import Agencies


def _ids(agencies: Agencies, who: str) -> set[int]:
    user = agencies.members[who].user
    return set(access.placed_cases(user, agencies.book.today).values_list("pk", flat=True))


def test_an_agency_user_sees_only_its_agencys_live_placed_cases(agencies: Agencies) -> None:
    cases = agencies.book.cases
    assert _ids(agencies, "amy") == {cases[0].pk, cases[1].pk}
    assert _ids(agencies, "ben") == {cases[2].pk}


def test_another_agencys_case_is_a_404_like_a_missing_one(agencies: Agencies) -> None:
    day = agencies.book.today
    assert access.placement_of(agencies.acme, agencies.book.cases[0].pk, day).agency == (
        agencies.acme
    )
    with pytest.raises(Http404):
        access.placement_of(agencies.acme, agencies.book.cases[2].pk, day)
    with pytest.raises(Http404):
        access.placement_of(agencies.acme, 999_999, day)


def test_a_recalled_or_ended_or_future_placement_gives_nothing(agencies: Agencies) -> None:
    day = agencies.book.today
    first, second, _ = agencies.placements
    first.recalled_on, first.recall_reason = day, "request"
    first.save()
    assert _ids(agencies, "amy") == {second.case_id}
    # the term is over: out of the agency's hands even before the day step recalls it
    assert not access.placed_cases(agencies.members["amy"].user, second.ends_on + timedelta(1))
    # not yet begun
    assert not access.placed_cases(agencies.members["amy"].user, second.placed_on - timedelta(1))


def test_an_inactive_member_or_a_stranger_sees_nothing(agencies: Agencies) -> None:
    amy = agencies.members["amy"]
    amy.active = False
    amy.save()
    assert access.member_of(amy.user) is None
    assert not _ids(agencies, "amy")
    stranger = User.objects.create_user("zed")
    assert access.member_of(stranger) is None
    assert not access.placed_cases(stranger, agencies.book.today)
    assert access.member_of(agencies.book.staff["ann"].user) is None


def test_agency_users_get_nothing_of_the_internal_pages_selectors(agencies: Agencies) -> None:
    """No collector profile: the internal queue and case pages show them nothing."""
    amy = agencies.members["amy"].user
    assert not selectors.visible_cases(amy).exists()
    assert not selectors.queue(amy, agencies.book.today).exists()
    assert not selectors.visible_plans(amy).exists()


def test_phones_are_only_those_the_agency_may_use(agencies: Agencies) -> None:
    borrower = agencies.book.cases[0].borrower
    mobile = borrower.phones.get()
    home = Phone.objects.create(borrower=borrower, number="+862112345678", kind="home")
    learnt = Phone.objects.create(borrower=borrower, number="+8613911112222", source="third_party")
    Phone.objects.create(borrower=borrower, number="+8613911113333", is_valid=False)
    acme = agencies.acme
    assert access.usable_phones(acme, borrower) == [mobile]
    acme.permitted_parties = ["emergency"]
    assert access.usable_phones(acme, borrower) == [mobile, home, learnt]
    assert access.permitted_parties(acme) == ["borrower", "emergency_contact"]


def test_the_person_is_masked_and_address_only_with_visits(agencies: Agencies) -> None:
    borrower = agencies.book.cases[0].borrower
    borrower.email, borrower.postal_address = "zs@example.cn", "上海市浦东新区 1 号"
    borrower.save()
    seen = access.person(agencies.acme, borrower)
    assert seen.masked_id.startswith("110101") and "*" in seen.masked_id
    assert seen.masked_phones == ("+86138****0001",)
    assert (seen.email, seen.address) == ("", "")
    agencies.acme.permitted_channels = ["call", "visit"]
    seen = access.person(agencies.acme, borrower)
    assert (seen.email, seen.address) == ("zs@example.cn", "上海市浦东新区 1 号")


def test_a_token_is_shown_once_and_stored_hashed(agencies: Agencies) -> None:
    key = access.create_token(agencies.acme, "crm", ["placements:read"])
    row = AgencyToken.objects.get()
    assert key.startswith("agk_") and len(key) > 40
    assert key not in (row.key_hash, row.key_hint) and row.key_hint == key[-4:]
    assert access.token_for(key) == row
    assert access.token_for(key + "x") is None
    access.revoke_token(row)
    assert access.token_for(key) is None


@pytest.mark.parametrize(
    ("name", "scopes", "code"),
    [
        ("", ["placements:read"], "agency-token-name"),
        ("crm", [], "agency-token-no-scope"),
        ("crm", ["results:delete"], "agency-token-scope"),
    ],
)
def test_a_bad_token_request_is_refused(
    agencies: Agencies, name: str, scopes: list[str], code: str
) -> None:
    with pytest.raises(access.AgencyAccessError) as refused:
        access.create_token(agencies.acme, name, scopes)
    assert refused.value.code == code
    assert not AgencyToken.objects.exists()


@pytest.mark.parametrize("field", ["licence_valid_to", "contract_ends"])
def test_an_agency_whose_licence_or_contract_lapsed_sees_nothing(
    agencies: Agencies, field: str
) -> None:
    acme = agencies.acme
    setattr(acme, field, agencies.book.today - timedelta(days=1))
    if field == "contract_ends":
        acme.contract_starts = acme.contract_ends - timedelta(days=30)
    acme.save()
    assert not _ids(agencies, "amy")
    assert _ids(agencies, "ben") == {agencies.book.cases[2].pk}
