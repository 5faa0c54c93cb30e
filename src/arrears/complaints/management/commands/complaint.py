"""``arrears complaint list|show|resolve``: the complaint register from the command line, over
the same services the pages use (a resolution here releases the hold and queues the letter)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from arrears.collections.workflow import business_date
from arrears.commands import OFFLINE_CHECKS
from arrears.complaints import services
from arrears.complaints.models import Complaint
from arrears.kernel.calendar import parse_date
from arrears.kernel.errors import ArrearsError


def as_dict(complaint: Complaint) -> dict[str, Any]:
    """The complaint as plain JSON values (no phone or ID number: the borrower's reference)."""
    return {
        "reference": complaint.reference,
        "borrower": complaint.borrower.ref,
        "case": complaint.case_id,
        "kind": complaint.kind,
        "category": complaint.category,
        "channel": complaint.channel,
        "status": complaint.status,
        "received_at": complaint.received_at.isoformat(),
        "acknowledge_by": complaint.acknowledge_by.isoformat(),
        "resolve_by": complaint.resolve_by.isoformat(),
        "acknowledged_at": (
            complaint.acknowledged_at.isoformat() if complaint.acknowledged_at else None
        ),
        "resolved_at": complaint.resolved_at.isoformat() if complaint.resolved_at else None,
        "root_cause": complaint.root_cause,
        "upheld": complaint.upheld,
        "description": complaint.description,
        "resolution": complaint.resolution,
        "hold": complaint.hold_id,
        "collectors": sorted(u.get_username() for u in complaint.collectors.all()),
        "agencies": sorted(a.code for a in complaint.agencies.all()),
        "contacts": sorted(complaint.contacts.values_list("pk", flat=True)),
    }


class Command(BaseCommand):
    requires_system_checks = OFFLINE_CHECKS  # not the URL checks: a command serves no page
    help = (
        "Complaints and disputes. `complaint list [--open] [--overdue] [--as-of D] [--json]`, "
        "`complaint show REF [--json]`, `complaint resolve REF --by USER --root-cause CODE "
        "--resolution TEXT (--upheld | --not-upheld)`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="the complaint register, newest first")
        listing.add_argument("--open", action="store_true", help="only those not resolved")
        listing.add_argument("--overdue", action="store_true", help="only those past an SLA")
        listing.add_argument("--as-of", dest="as_of", help="YYYY-MM-DD for --overdue")
        listing.add_argument("--json", action="store_true")
        show = sub.add_parser("show", help="one complaint")
        show.add_argument("reference")
        show.add_argument("--json", action="store_true")
        resolve = sub.add_parser("resolve", help="close a complaint and release its hold")
        resolve.add_argument("reference")
        resolve.add_argument("--by", required=True, help="username of the resolver")
        resolve.add_argument("--root-cause", dest="root_cause", required=True)
        resolve.add_argument("--resolution", required=True)
        verdict = resolve.add_mutually_exclusive_group(required=True)
        verdict.add_argument("--upheld", dest="upheld", action="store_true")
        verdict.add_argument("--not-upheld", dest="not_upheld", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            self._list(options)
        elif action == "show":
            self._show(options)
        else:
            self._resolve(options)

    def _find(self, reference: str) -> Complaint:
        found = Complaint.objects.filter(reference=reference.strip()[:20]).first()
        if found is None:
            raise CommandError(f"complaint {reference[:40]!r} does not exist")
        return found

    def _list(self, options: dict[str, Any]) -> None:
        try:
            as_of = (
                parse_date(options["as_of"], field_name="--as-of")
                if options["as_of"]
                else business_date()
            )
        except ArrearsError as error:
            raise CommandError(str(error)) from None
        rows = services.overdue(as_of) if options["overdue"] else Complaint.objects.all()
        if options["open"]:
            rows = rows.exclude(status=Complaint.Status.RESOLVED)
        found = list(rows.select_related("borrower").order_by("received_at", "id"))
        if options["json"]:
            self.stdout.write(json.dumps([as_dict(c) for c in found], ensure_ascii=False))
            return
        for c in found:
            self.stdout.write(
                f"{c.reference}  {c.status:<12} {c.kind:<9} {c.category:<19} "
                f"{c.borrower.ref}  ack by {c.acknowledge_by}  resolve by {c.resolve_by}"
            )
        self.stdout.write(f"{len(found)} complaint(s)")

    def _show(self, options: dict[str, Any]) -> None:
        data = as_dict(self._find(options["reference"]))
        if options["json"]:
            self.stdout.write(json.dumps(data, ensure_ascii=False))
            return
        for key, value in data.items():
            self.stdout.write(f"{key}: {value if value not in (None, '') else '-'}")

    def _resolve(self, options: dict[str, Any]) -> None:
        complaint = self._find(options["reference"])
        user = get_user_model().objects.filter(username=options["by"]).first()
        if user is None:
            raise CommandError(f"user {options['by'][:40]!r} does not exist")
        try:
            done = services.resolve(
                complaint,
                by=user,
                root_cause=options["root_cause"],
                resolution=options["resolution"],
                upheld=bool(options["upheld"]),
            )
        except ArrearsError as error:
            raise CommandError(str(error)) from None
        verdict = "upheld" if done.upheld else "not upheld"
        self.stdout.write(f"{done.reference} resolved ({done.root_cause}, {verdict})")
