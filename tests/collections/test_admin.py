"""Teams, roles and approval limits in the admin (issue 9 item 2): an admin manages them; the
people the limits bind may look but never change them; nobody is sent to an empty admin."""

from __future__ import annotations

from django.contrib.auth.models import Permission, User
from django.test import Client

from arrears.collections.models import ApprovalLimit, Collector, Team


def _client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _grant(user: User, *codenames: str) -> User:
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return User.objects.get(pk=user.pk)  # a fresh permission cache


def test_an_admin_edits_limits_roles_and_teams(staff: dict[str, Collector]) -> None:
    root = _client(User.objects.create_superuser("root", password="pw-root-123"))
    limit = ApprovalLimit.objects.get(kind="waiver", role="manager")
    page = root.get("/admin/collections/approvallimit/")
    assert page.status_code == 200 and "Approval limits" in page.content.decode()
    response = root.post(
        f"/admin/collections/approvallimit/{limit.pk}/change/",
        {"kind": "waiver", "role": "manager", "approve_up_to": "2500000"},
    )
    assert response.status_code == 302
    limit.refresh_from_db()
    assert limit.approve_up_to == 2_500_000
    ann = staff["ann"]
    response = root.post(
        f"/admin/collections/collector/{ann.pk}/change/",
        {"user": ann.user_id, "team": ann.team_id, "role": "team_lead", "capacity": "80"},
    )
    assert response.status_code == 302
    ann.refresh_from_db()
    assert (ann.role, ann.capacity) == ("team_lead", 80)
    assert root.get("/admin/collections/team/add/").status_code == 200
    # a user's collector profile (team and role) is on the user's own page
    page = root.get(f"/admin/auth/user/{ann.user_id}/change/").content.decode()
    assert "Collector profile" in page


def test_someone_the_limits_bind_may_look_at_them_but_not_change_them(
    staff: dict[str, Collector],
) -> None:
    """A manager given every permission on limits still cannot raise their own limit."""
    boss = staff["boss"].user
    boss.is_staff = True
    boss.save()
    boss = _grant(boss, "view_approvallimit", "change_approvallimit", "change_collector")
    client = _client(boss)
    limit = ApprovalLimit.objects.get(kind="waiver", role="manager")
    assert client.get("/admin/collections/approvallimit/").status_code == 200
    response = client.post(
        f"/admin/collections/approvallimit/{limit.pk}/change/",
        {"kind": "waiver", "role": "manager", "approve_up_to": "99999999"},
    )
    assert response.status_code == 403
    limit.refresh_from_db()
    assert limit.approve_up_to != 99_999_999
    own = staff["boss"]
    response = client.post(f"/admin/collections/collector/{own.pk}/change/", {"role": "manager"})
    assert response.status_code == 403


def test_a_staff_user_outside_the_chain_may_be_given_the_limits(db: None) -> None:
    clerk = User.objects.create_user("risk", password="pw-risk-123", is_staff=True)
    clerk = _grant(clerk, "view_approvallimit", "change_approvallimit", "view_team")
    client = _client(clerk)
    limit = ApprovalLimit.objects.get(kind="plan", role="team_lead")
    response = client.post(
        f"/admin/collections/approvallimit/{limit.pk}/change/",
        {"kind": "plan", "role": "team_lead", "approve_up_to": "400000"},
    )
    assert response.status_code == 302
    limit.refresh_from_db()
    assert limit.approve_up_to == 400_000
    Team.objects.create(code="north", name="North", owner="north_desk")
    assert client.get("/admin/collections/team/").status_code == 200


def test_the_admin_link_is_shown_only_to_those_the_admin_has_something_for(
    staff: dict[str, Collector],
) -> None:
    """A collector made staff (for the back-office pages) holds no admin permission: the link
    used to open "You don't have permission to view or edit anything". A lead's group lets
    them see teams, collectors and limits (``arrears.accounts.roles``), so theirs is shown."""
    ann = staff["ann"].user
    ann.is_staff = True
    ann.save()
    assert 'href="/admin/"' not in _client(ann).get("/queue/").content.decode()
    lead = _client(staff["lead"].user)
    assert 'href="/admin/"' in lead.get("/queue/").content.decode()
    assert "Approval limits" in lead.get("/admin/").content.decode()
    root = User.objects.create_superuser("root", password="pw-root-123")
    assert 'href="/admin/"' in _client(root).get("/queue/").content.decode()
    clerk = _grant(User.objects.create_user("risk", is_staff=True), "view_approvallimit")
    assert 'href="/admin/"' in _client(clerk).get("/loans/").content.decode()
    page = _client(clerk).get("/admin/").content.decode()
    assert "Approval limits" in page
