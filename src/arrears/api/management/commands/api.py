"""``arrears api token create|list|revoke``: the keys of the integrators' REST API.

``create --integration NAME --scopes loans:write,payments:write`` makes the integration when
it is new (with a service account its writes are recorded under) and prints the key once;
only its SHA-256 is kept, so a lost key is revoked and replaced, never recovered.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from arrears.api import access
from arrears.api.models import IntegrationToken
from arrears.commands import OFFLINE_CHECKS
from arrears.kernel.errors import ArrearsError


class Command(BaseCommand):
    requires_system_checks = OFFLINE_CHECKS  # not the URL checks: a command serves no page
    help = "Keys of the integrators' REST API (/api/v1)."

    def add_arguments(self, parser: CommandParser) -> None:
        area = parser.add_subparsers(dest="area", required=True)
        token = area.add_parser("token", help="create, list or revoke API keys")
        actions = token.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a key (printed once)")
        create.add_argument("--integration", required=True, help="the system's name")
        create.add_argument(
            "--scopes", required=True, help=f"comma-separated: {', '.join(access.SCOPES)}"
        )
        create.add_argument(
            "--rate-limit",
            type=int,
            default=access.DEFAULT_RATE_LIMIT,
            help="requests per minute (default %(default)s)",
        )
        actions.add_parser("list", help="every key (hint, scopes, last use)")
        revoke = actions.add_parser("revoke", help="switch a key off for good")
        revoke.add_argument("id", type=int, help="the key's id (from `list`)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except ArrearsError as error:
            raise CommandError(str(error)) from None

    def _create(self, options: dict[str, Any]) -> None:
        owner = access.integration(options["integration"])
        scopes = [s for s in options["scopes"].split(",") if s.strip()]
        key = access.create_token(owner, scopes, rate_limit=options["rate_limit"])
        self.stdout.write(f"{owner.name}: API key (shown once): {key}")

    def _list(self, options: dict[str, Any]) -> None:
        for token in IntegrationToken.objects.select_related("integration").order_by("id"):
            state = "revoked" if token.revoked_at else "active"
            used = token.last_used.isoformat(timespec="seconds") if token.last_used else "never"
            self.stdout.write(
                f"{token.pk:>5}  {token.integration.name:<24} …{token.key_hint}  {state:<8}"
                f"  {token.rate_limit:>6}/min  last used {used}  {','.join(token.scopes)}"
            )

    def _revoke(self, options: dict[str, Any]) -> None:
        token = IntegrationToken.objects.filter(pk=options["id"]).first()
        if token is None:
            raise CommandError(f"no key {options['id']}")
        access.revoke_token(token)
        self.stdout.write(f"key {token.pk} (…{token.key_hint}) revoked")
