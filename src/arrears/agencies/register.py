"""Adding an agency to the lender's register (合作机构名单), with its commission tiers.

One service for the command line and any later page: every field is bounded and checked, and
a refusal names the field (``errorcodes``), so a typo never becomes an agency borrowers are told
about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.db import transaction

from arrears import errorcodes
from arrears.agencies.models import Agency, CommissionTier
from arrears.kernel.errors import ArrearsError

errorcodes.define(
    {
        "agency-code-invalid": (
            "%(given)s is not an agency code: use 2 to 40 lowercase letters, digits or hyphens"
        ),
        "agency-code-taken": "there is already an agency %(given)s",
        "agency-field-required": "%(name)s is required",
        "agency-field-too-long": "%(name)s is longer than %(most)s characters",
        "agency-contract-dates": "the contract ends (%(ends)s) before it starts (%(starts)s)",
        "agency-capacity-invalid": "capacity must be 1 to %(most)s cases, got %(value)s",
        "agency-tier-invalid": (
            "tier %(tier)s: write BUCKET:ABOVE:BP, e.g. M3:100000:1500 or :0:1000 for any bucket"
        ),
        "agency-tier-rate": "tier %(tier)s: the rate must be 0 to 10000 basis points",
        "agency-tier-duplicate": "tier %(tier)s is given twice",
        "agency-permission-unknown": "%(given)s is not a channel or party an agency may be given",
    }
)

CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
TIER = re.compile(r"^([A-Za-z0-9+]{0,16}):(\d{1,15}):(\d{1,5})$")
MOST_CAPACITY = 1_000_000
LIMITS = {"name": 200, "name_zh": 200, "licence": 80, "phone": 40}


class AgencyError(ArrearsError):
    """An agency record cannot be made as asked."""

    code = "agency-invalid"


@dataclass(frozen=True, slots=True)
class Tier:
    bucket: str
    above_minor: int
    rate_bp: int


#: Contact channels and parties an agency's contract may permit (the contact log's names).
CHANNELS = ("call", "sms", "email", "letter", "visit")
PARTIES = ("co_borrower", "emergency")
DEFAULT_CHANNELS = ("call", "sms")


def parse_tier(text: str) -> Tier:
    """``BUCKET:ABOVE:BP`` → a tier; ``:0:1000`` is 10% from the first fen for any bucket."""
    found = TIER.match(text.strip())
    if not found:
        raise errorcodes.refuse(AgencyError, "agency-tier-invalid", field="tier", tier=text[:40])
    rate = int(found.group(3))
    if rate > 10_000:
        raise errorcodes.refuse(AgencyError, "agency-tier-rate", field="tier", tier=text)
    return Tier(found.group(1), int(found.group(2)), rate)


def _text(name: str, value: str, *, required: bool = True) -> str:
    text = value.strip()
    if required and not text:
        raise errorcodes.refuse(AgencyError, "agency-field-required", field=name, name=name)
    if len(text) > LIMITS[name]:
        raise errorcodes.refuse(
            AgencyError, "agency-field-too-long", field=name, name=name, most=LIMITS[name]
        )
    return text


def add_agency(
    *,
    code: str,
    name: str,
    licence: str,
    licence_valid_to: date,
    contract_starts: date,
    contract_ends: date,
    phone: str,
    capacity: int,
    name_zh: str = "",
    tiers: list[Tier] | tuple[Tier, ...] = (),
    weight: int = 1,
    channels: list[str] | tuple[str, ...] = DEFAULT_CHANNELS,
    parties: list[str] | tuple[str, ...] = (),
) -> Agency:
    """Register an agency with its commission tiers (all or nothing). ``channels`` are the
    contact channels its contract permits (default: calls and SMS); ``parties`` who it may
    contact besides the borrower (``co_borrower``, ``emergency``; default nobody)."""
    for channel in channels:
        if channel not in CHANNELS:
            raise errorcodes.refuse(
                AgencyError, "agency-permission-unknown", field="channels", given=channel[:40]
            )
    for party in parties:
        if party not in PARTIES:
            raise errorcodes.refuse(
                AgencyError, "agency-permission-unknown", field="parties", given=party[:40]
            )
    if not CODE.match(code):
        raise errorcodes.refuse(AgencyError, "agency-code-invalid", field="code", given=code[:60])
    if Agency.objects.filter(code=code).exists():
        raise errorcodes.refuse(AgencyError, "agency-code-taken", field="code", given=code)
    if contract_ends < contract_starts:
        raise errorcodes.refuse(
            AgencyError,
            "agency-contract-dates",
            field="contract",
            starts=contract_starts,
            ends=contract_ends,
        )
    if not 1 <= capacity <= MOST_CAPACITY:
        raise errorcodes.refuse(
            AgencyError,
            "agency-capacity-invalid",
            field="capacity",
            most=MOST_CAPACITY,
            value=capacity,
        )
    seen = set()
    for tier in tiers:
        if (tier.bucket, tier.above_minor) in seen:
            shown = f"{tier.bucket}:{tier.above_minor}"
            raise errorcodes.refuse(AgencyError, "agency-tier-duplicate", field="tier", tier=shown)
        seen.add((tier.bucket, tier.above_minor))
    with transaction.atomic():
        agency = Agency.objects.create(
            code=code,
            name=_text("name", name),
            name_zh=_text("name_zh", name_zh, required=False),
            licence_number=_text("licence", licence),
            licence_valid_to=licence_valid_to,
            contract_starts=contract_starts,
            contract_ends=contract_ends,
            phone=_text("phone", phone),
            capacity=capacity,
            weight=max(1, min(weight, 1000)),
            permitted_channels=sorted(set(channels)),
            permitted_parties=sorted(set(parties)),
        )
        CommissionTier.objects.bulk_create(
            CommissionTier(
                agency=agency, bucket=t.bucket, above_minor=t.above_minor, rate_bp=t.rate_bp
            )
            for t in tiers
        )
    return agency
