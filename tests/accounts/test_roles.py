"""The role groups: exactly their permissions, kept in step with the profiles, read back by
``roles_of`` from groups and profiles alike."""

from __future__ import annotations

import logging
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command

from arrears.accounts import roles
from arrears.accounts.roles import GROUP_PERMISSIONS, Role, has_role, roles_of, sync_groups
from arrears.agencies.models import AgencyMember
from arrears.collections.models import Collector
from tests.roles import make_agency, make_team, make_user


def _held(role: Role) -> set[str]:
    group = Group.objects.get(name=role.value)
    return {
        f"{app}.{code}"
        for app, code in group.permissions.values_list("content_type__app_label", "codename")
    }


def test_the_roles_are_the_seven_of_the_issue() -> None:
    assert [role.value for role in Role] == [
        "collector",
        "team_lead",
        "manager",
        "agency_user",
        "field_agent",
        "compliance_officer",
        "admin",
    ]
    assert set(GROUP_PERMISSIONS) == set(Role)


@pytest.mark.django_db
def test_migrate_made_one_group_per_role_with_exactly_its_permissions() -> None:
    """The test database was migrated, so post_migrate already synced the groups."""
    installed = {app for app, _ in Permission.objects.values_list("content_type__app_label", "id")}
    for role in Role:
        wanted = GROUP_PERMISSIONS[role]
        if wanted == (roles.EVERYTHING,):
            assert len(_held(role)) == Permission.objects.count()
        else:
            assert _held(role) == {p for p in wanted if p.split(".")[0] in installed}, role
    assert "contact.view_gatedecision" in _held(Role.COMPLIANCE_OFFICER)
    assert "audit.view_auditentry" not in _held(Role.TEAM_LEAD)


@pytest.mark.django_db
def test_sync_is_idempotent_and_puts_back_what_was_changed_by_hand() -> None:
    lead = Group.objects.get(name="team_lead")
    lead.permissions.add(Permission.objects.get(codename="view_auditentry"))
    lead.permissions.remove(Permission.objects.get(codename="view_team"))
    before = sync_groups()
    assert sync_groups() == before
    assert "audit.view_auditentry" not in _held(Role.TEAM_LEAD)
    assert "collections.view_team" in _held(Role.TEAM_LEAD)
    assert Group.objects.filter(name__in=[r.value for r in Role]).count() == len(Role)


@pytest.mark.django_db
def test_a_permission_of_an_app_not_installed_is_skipped_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(
        GROUP_PERMISSIONS,
        Role.FIELD_AGENT,
        ("fieldwork.view_fieldvisit", "nosuchapp.view_thing"),
    )
    with caplog.at_level(logging.WARNING, logger="arrears.accounts.roles"):
        sync_groups()
    assert _held(Role.FIELD_AGENT) == {"fieldwork.view_fieldvisit"}
    assert "nosuchapp.view_thing" in caplog.text


@pytest.mark.django_db
def test_a_misspelt_permission_of_an_installed_app_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(GROUP_PERMISSIONS, Role.FIELD_AGENT, ("fieldwork.view_fieldvisitt",))
    with pytest.raises(LookupError, match="view_fieldvisitt"):
        sync_groups()


@pytest.mark.django_db
def test_the_command_syncs() -> None:
    Group.objects.get(name="compliance_officer").permissions.clear()
    out = StringIO()
    call_command("roles", "sync", stdout=out)
    assert "contact.view_gatedecision" in _held(Role.COMPLIANCE_OFFICER)
    assert "collector: 0 permissions" in out.getvalue()
    out = StringIO()
    make_user(Role.TEAM_LEAD, username="lead")
    call_command("roles", "show", "lead", stdout=out)
    assert out.getvalue().strip() == "team_lead"


@pytest.mark.django_db
def test_each_factory_role_is_the_one_role_its_user_holds() -> None:
    for role in Role:
        user = make_user(role)
        assert roles_of(user) == {role}, role
        assert has_role(user, role) and not has_role(user, *(set(Role) - {role}))


@pytest.mark.django_db
def test_a_profile_puts_the_user_in_its_group_and_a_change_moves_them() -> None:
    user = User.objects.create_user("kim")
    profile = Collector.objects.create(user=user, team=make_team(), role="collector")
    assert list(user.groups.values_list("name", flat=True)) == ["collector"]
    profile.role = "manager"
    profile.save()
    assert list(user.groups.values_list("name", flat=True)) == ["manager"]
    assert user.has_perm("collections.view_team") and not user.has_perm("collections.change_team")
    assert not user.has_perm("collections.view_contactattempt")  # book-wide: compliance's
    profile.delete()
    assert not user.groups.exists()


@pytest.mark.django_db
def test_an_agency_membership_switched_off_leaves_the_group() -> None:
    user = User.objects.create_user("amy")
    member = AgencyMember.objects.create(user=user, agency=make_agency())
    assert roles_of(user) == {Role.AGENCY_USER}
    member.active = False
    member.save(update_fields=["active"])
    assert roles_of(User.objects.get(pk=user.pk)) == frozenset()


@pytest.mark.django_db
def test_profiles_without_groups_still_have_their_role() -> None:
    """Data from before the groups existed: the profile alone gives the role."""
    user = make_user(Role.TEAM_LEAD)
    user.groups.clear()
    assert roles_of(User.objects.get(pk=user.pk)) == {Role.TEAM_LEAD}


@pytest.mark.django_db
def test_anonymous_and_inactive_users_hold_no_role() -> None:
    from django.contrib.auth.models import AnonymousUser

    assert roles_of(AnonymousUser()) == frozenset()
    user = make_user(Role.ADMIN)
    user.is_active = False
    assert roles_of(user) == frozenset()


@pytest.mark.django_db
def test_only_compliance_and_admins_hold_permissions_on_case_or_borrower_data() -> None:
    """A model permission is book-wide (the admin lists every row); everyone else's cases,
    placements and visits are their own, scoped by the selectors. A model with case or
    borrower data is one that is, or points at, a case, borrower or loan."""
    from django.apps import apps

    personal = {"collections.case", "ledger.borrower", "ledger.loan"}

    def carries_personal_data(label: str) -> bool:
        model = apps.get_model(label)
        if label in personal:
            return True
        return any(
            field.related_model is not None and field.related_model._meta.label_lower in personal
            for field in model._meta.get_fields()
            if field.many_to_one or field.one_to_one
        )

    for role in set(Role) - {Role.COMPLIANCE_OFFICER, Role.ADMIN}:
        for name in _held(role):
            app_label, codename = name.split(".")
            model = Permission.objects.get(
                content_type__app_label=app_label, codename=codename
            ).content_type.model
            assert not carries_personal_data(f"{app_label}.{model}"), (role, name)
    assert carries_personal_data("collections.contactattempt")  # the check can say yes


@pytest.mark.django_db
def test_roles_are_read_once_per_user_object(django_assert_num_queries: Any) -> None:
    """The header asks on every page; the second ask is free, a fresh object asks again."""
    user = User.objects.get(pk=make_user(Role.AGENCY_USER).pk)
    with django_assert_num_queries(4):
        assert roles_of(user) == {Role.AGENCY_USER}
    with django_assert_num_queries(0):
        assert has_role(user, Role.AGENCY_USER)
    member = AgencyMember.objects.get(user=user)
    member.active = False
    member.save()
    assert has_role(user, Role.AGENCY_USER)  # this object's answer is kept…
    assert roles_of(User.objects.get(pk=user.pk)) == frozenset()  # …the next request's is new


@pytest.mark.django_db
def test_the_admins_door_agrees_with_the_roles() -> None:
    from arrears.accounts.security import ADMIN_ROLES, may_enter_admin

    for role in Role:
        user = make_user(role)
        fresh = User.objects.get(pk=user.pk)
        assert may_enter_admin(fresh) == has_role(User.objects.get(pk=user.pk), *ADMIN_ROLES)
        assert may_enter_admin(fresh) == (role in ADMIN_ROLES), role
    clerk = User.objects.create_user("clerk", is_staff=True)
    assert may_enter_admin(clerk) and not roles_of(clerk)
