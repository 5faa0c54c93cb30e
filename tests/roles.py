"""Users of each role, made the way the application makes them: the profile a role needs
(``Collector``, ``AgencyMember``, ``FieldAgent``) and the group it joins by signal; the
compliance officer by group membership alone; the admin a superuser.

``make_user(Role.TEAM_LEAD, team=north)`` — every argument but the role is optional; a team or
an agency that is not given is made (or reused) by code.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.models import Group, User
from django.test import Client

from arrears.accounts.roles import Role
from arrears.agencies.models import Agency, AgencyMember
from arrears.collections.models import Collector, Team
from arrears.fieldwork.models import FieldAgent
from tests import factories

__all__ = ["Role", "client_for", "make_agency", "make_team", "make_user"]


def make_team(code: str = "internal", owner: str | None = None) -> Team:
    team, _ = Team.objects.get_or_create(
        code=code, defaults={"name": f"{code.title()} team", "owner": owner or f"{code}_team"}
    )
    return team


def make_agency(code: str = "acme", **extra: object) -> Agency:
    fields: dict[str, object] = {
        "name": f"{code.title()} Collections",
        "licence_number": f"LIC-{code}",
        "licence_valid_to": date(2027, 12, 31),
        "contract_starts": date(2026, 1, 1),
        "contract_ends": date(2027, 12, 31),
        "phone": "+864000000000",
        "permitted_channels": ["call", "sms"],
        "permitted_parties": [],
    }
    fields.update(extra)
    agency, _ = Agency.objects.get_or_create(code=code, defaults=fields)
    return agency


def make_user(
    role: Role | str,
    *,
    username: str | None = None,
    team: Team | None = None,
    agency: Agency | None = None,
    **user_fields: Any,
) -> User:
    """A user holding ``role`` and nothing more (no staff flag unless ``is_staff=True``)."""
    role = Role(role)
    name = username or f"{role.value}-{User.objects.count() + 1}"
    if role is Role.ADMIN:
        return User.objects.create_superuser(name, password=None, **user_fields)
    user = User.objects.create_user(name, **user_fields)
    if role in (Role.COLLECTOR, Role.TEAM_LEAD, Role.MANAGER):
        Collector.objects.create(user=user, team=team or make_team(), role=role.value)
    elif role is Role.AGENCY_USER:
        AgencyMember.objects.create(user=user, agency=agency or make_agency())
    elif role is Role.FIELD_AGENT:
        FieldAgent.objects.create(
            user=user,
            full_name=f"Agent {name}",
            id_number=factories.valid_ric(),
            agency=agency,
            employer=agency.name if agency else FieldAgent.LENDER,
        )
    else:  # compliance officer: a group, no profile (they work no cases)
        user.groups.add(Group.objects.get(name=role.value))
    return user


def client_for(user: User | None, language: str = "en") -> Client:
    """A test client signed in as ``user`` (anonymous for ``None``)."""
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        client.force_login(user)
    return client
