"""Group membership follows the profiles, by signal.

A ``Collector``, ``AgencyMember`` or ``FieldAgent`` is created in many places — the admin (and
its inline on the user page), the demo and partner seeding, the CLI, tests — and a collector's
``role`` or a membership's ``active`` flag is edited in the admin. A ``post_save`` receiver
catches every one of them, where a call in each service would be missed by the admin's
forms. The receiver only adds or removes the profile's own role group; groups given by hand
(a compliance officer, an admin) are never touched.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from arrears.accounts.roles import COLLECTOR_ROLES, Role, sync_groups


def _group(role: Role) -> Any:
    from django.contrib.auth.models import Group

    group, _ = Group.objects.get_or_create(name=role.value)
    return group


def _set(user: Any, role: Role, held: bool) -> None:
    if held:
        user.groups.add(_group(role))
    else:
        user.groups.remove(*user.groups.filter(name=role.value))


def _collector_saved(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    """The user is in exactly the group of their collections role (a change of role moves
    them). A save of other fields only (``available``, ``capacity``) changes nothing here."""
    if update_fields is not None and "role" not in update_fields:
        return
    for role in COLLECTOR_ROLES:
        _set(instance.user, role, instance.role == role.value)


def _collector_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    for role in COLLECTOR_ROLES:
        _set(instance.user, role, False)


def _member_saved(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    if update_fields is not None and "active" not in update_fields:
        return
    _set(instance.user, Role.AGENCY_USER, bool(instance.active))


def _member_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    _set(instance.user, Role.AGENCY_USER, False)


def _agent_saved(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    if update_fields is not None and "active" not in update_fields:
        return
    _set(instance.user, Role.FIELD_AGENT, bool(instance.active))


def _agent_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    _set(instance.user, Role.FIELD_AGENT, False)


def connect() -> None:
    """Connect the receivers (``AccountsConfig.ready``)."""
    from arrears.agencies.models import AgencyMember
    from arrears.collections.models import Collector
    from arrears.fieldwork.models import FieldAgent

    post_save.connect(_collector_saved, sender=Collector, dispatch_uid="accounts:collector")
    post_delete.connect(_collector_deleted, sender=Collector, dispatch_uid="accounts:collector-")
    post_save.connect(_member_saved, sender=AgencyMember, dispatch_uid="accounts:member")
    post_delete.connect(_member_deleted, sender=AgencyMember, dispatch_uid="accounts:member-")
    post_save.connect(_agent_saved, sender=FieldAgent, dispatch_uid="accounts:agent")
    post_delete.connect(_agent_deleted, sender=FieldAgent, dispatch_uid="accounts:agent-")


def after_migrate(sender: Any, using: str = "default", verbosity: int = 1, **kwargs: Any) -> None:
    """Sync the groups after ``migrate``. Every app's permissions are created first: Django
    creates them app by app in the same signal, and apps after this one in
    ``INSTALLED_APPS`` would otherwise not have theirs yet."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    for config in apps.get_app_configs():
        create_permissions(config, verbosity=0, using=using)
    held = sync_groups(using=using)
    if verbosity >= 2:
        print("roles: " + ", ".join(f"{role.value}={n}" for role, n in held.items()))
