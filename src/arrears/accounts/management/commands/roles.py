"""``arrears roles sync`` (create or update the role groups to exactly their permissions; also
done after every ``migrate``) | ``arrears roles show USERNAME`` (the roles a user holds)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from arrears.accounts.roles import roles_of, sync_groups
from arrears.commands import OFFLINE_CHECKS


class Command(BaseCommand):
    requires_system_checks = OFFLINE_CHECKS  # not the URL checks: a command serves no page
    help = "Sync the role groups' permissions, or show the roles a user holds."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="sub", required=True)
        sub.add_parser("sync", help="create or update one group per role (idempotent)")
        show = sub.add_parser("show", help="the roles a user holds")
        show.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["sub"] == "sync":
            for role, count in sync_groups().items():
                self.stdout.write(f"{role.value}: {count} permissions")
            return
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user {options['username']!r}")
        self.stdout.write(", ".join(sorted(roles_of(user))) or "(no role)")
