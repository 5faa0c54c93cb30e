"""Telling the borrower: an SMS when the account is placed with an agency and when it is recalled.

Borrowers complain that their account "was passed on without notice", and fake collectors are a
real fraud: each placement and each recall queues one outbox message (``agency_placement`` names
the agency and the number it calls from; ``agency_recall`` says the agency no longer acts for
us). The key ``placement:<id>:placed`` / ``placement:<id>:recalled`` makes it once per event
whatever re-runs. Like every message it is rendered at dispatch from the ledger as it then
stands and passes the compliance gate there (a hold or quiet hours stop or defer it). The
agency's name (its Chinese name for a zh-CN message) and phone come from the placement the key
names, through :func:`agency_extra`, which ``AgenciesConfig.ready`` registers with
``contact.render.register_extra``.
"""

from __future__ import annotations

from datetime import date

from arrears.agencies.models import Placement
from arrears.contact.models import OutboxMessage
from arrears.contact.outbox import queue_notice

PLACED_TEMPLATE = "agency_placement"
RECALLED_TEMPLATE = "agency_recall"


def notice_key(placement: Placement, event: str) -> str:
    """``placement:<id>:placed`` or ``placement:<id>:recalled``."""
    return f"placement:{placement.pk}:{event}"


def queue(placement: Placement, event: str, day: date) -> bool:
    """Queue the borrower's notice of ``event`` ('placed' or 'recalled'); False if it already
    was (idempotent by key)."""
    template = PLACED_TEMPLATE if event == "placed" else RECALLED_TEMPLATE
    return queue_notice(
        notice_key(placement, event), placement.case.borrower, placement.case, template, day
    )


def agency_extra(message: OutboxMessage) -> dict[str, str]:
    """``{"agency_name", "agency_phone"}`` for a placement or recall notice, else ``{}``."""
    if message.template not in (PLACED_TEMPLATE, RECALLED_TEMPLATE):
        return {}
    parts = message.key.split(":")
    if len(parts) != 3 or parts[0] != "placement" or not parts[1].isdigit():
        return {}
    found = Placement.objects.filter(pk=int(parts[1])).select_related("agency").first()
    if found is None:
        return {}
    agency = found.agency
    name = agency.name_zh if message.locale == "zh-CN" and agency.name_zh else agency.name
    return {"agency_name": name, "agency_phone": agency.phone}
