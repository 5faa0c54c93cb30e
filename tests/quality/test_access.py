"""Who may open the compliance pages: the officer's permissions or a superuser; a collector
never (whatever they were given); anyone else 403; nobody logged in goes to the login page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from arrears.collections.models import Case
from tests.quality.conftest import DAY, PERMS, at, client_for, contact, grant

PAGES = (
    "/compliance/decisions/",
    "/compliance/decisions/?format=csv",
    "/compliance/contacts/",
    "/compliance/reviews/",
    "/compliance/reviews/scorecards/",
)


@pytest.mark.parametrize("page", PAGES)
def test_the_officer_and_a_superuser_open_every_page(officer: User, page: str) -> None:
    root = User.objects.create_superuser("root", password="x")
    assert client_for(officer).get(page).status_code == 200
    assert client_for(root).get(page).status_code == 200


@pytest.mark.parametrize("page", PAGES)
def test_a_collector_gets_403_even_holding_the_permissions(ann: User, page: str) -> None:
    assert client_for(ann).get(page).status_code == 403
    assert client_for(grant(ann, *PERMS)).get(page).status_code == 403


@pytest.mark.parametrize("page", PAGES)
def test_a_user_without_the_permissions_gets_403_and_a_stranger_the_login(
    db: None, page: str
) -> None:
    assert client_for(User.objects.create_user("nobody")).get(page).status_code == 403
    response = client_for(None).get(page)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    ("perm", "allowed"),
    [
        (("contact", "view_gatedecision"), {"/compliance/decisions/"}),
        (("collections", "view_contactattempt"), {"/compliance/contacts/"}),
        (
            ("quality", "view_contactreview"),
            {"/compliance/reviews/", "/compliance/reviews/scorecards/"},
        ),
    ],
)
def test_each_page_asks_for_its_own_permission(
    db: None, perm: tuple[str, str], allowed: set[str]
) -> None:
    user = grant(User.objects.create_user("partial"), perm)
    client = client_for(user)
    for page in PAGES:
        expected = 200 if page.split("?")[0] in allowed else 403
        assert client.get(page).status_code == expected, page


def test_a_team_lead_with_the_permissions_is_let_in(team: object) -> None:
    from tests.quality.conftest import collector

    lead = grant(collector("lead", team, role="team_lead"), *PERMS)  # type: ignore[arg-type]
    assert client_for(lead).get("/compliance/decisions/").status_code == 200


def test_viewing_reviews_without_the_add_permission_cannot_draw_or_score(
    case: Case, ann: User
) -> None:
    viewer = grant(User.objects.create_user("viewer"), ("quality", "view_contactreview"))
    client = client_for(viewer)
    page = client.get("/compliance/reviews/")
    assert page.status_code == 200 and b'id="draw-sample"' not in page.content
    drawn = client.post(
        "/compliance/reviews/", {"date_from": DAY, "date_to": DAY, "per_collector": 1}
    )
    assert drawn.status_code == 403
    made = contact(case, ann, at(DAY, 10))
    assert client.get(f"/compliance/reviews/contacts/{made.pk}/").status_code == 200
    assert client.post(f"/compliance/reviews/contacts/{made.pk}/", {}).status_code == 403


def test_the_navigation_links_the_pages_for_the_officer_only(officer: User, ann: User) -> None:
    assert b'id="nav-compliance"' in client_for(officer).get("/compliance/contacts/").content
    home = client_for(ann).get("/")
    assert b'id="nav-compliance"' not in home.content


def test_the_pages_read_in_chinese(officer: User) -> None:
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(officer)
    assert "合规闸门决定" in client.get("/compliance/decisions/").content.decode()
    scorecards = client.get("/compliance/reviews/scorecards/").content.decode()
    assert "无威胁或辱骂性语言" in scorecards and "（关键项：不合格则总分为 0）" in scorecards
