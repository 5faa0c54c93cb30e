"""Demo data for agencies: two licensed agencies with commission tiers and one agency user
each, so ``make demo`` places the ladder's external cases with them (round robin) and the agency
pages have something to show."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model

from arrears.agencies import placement, register
from arrears.agencies.models import Agency, AgencyMember, Placement, QualityReview
from arrears.collections.models import Collector, Team

PASSWORD = "arrears-demo"
#: (code, name, name_zh, phone, capacity, tiers, channels, parties)
AGENCIES = (
    (
        "huabei",
        "Huabei Credit Services",
        "华北信用管理有限公司",
        "400-820-0001",
        100,
        ("M3:0:1200", "M3:500000:1500", ":0:1800"),
        ("call", "sms"),
        (),
    ),
    (
        "donghai",
        "Donghai Recovery Partners",
        "东海资产管理有限公司",
        "400-820-0002",
        100,
        (":0:1500", ":1000000:2000"),
        ("call", "sms", "visit"),
        ("emergency",),
    ),
)
#: (username, agency code)
MEMBERS = (("agency1", "huabei"), ("agency2", "donghai"))
#: The lender's agency-management lead (委外管理): the team that owns the strategy's placement
#: stage, so its lead sees placed cases, approves the plans agencies propose and recalls.
MANAGER = "vera"


def seed_agencies(as_of: date, password: str = PASSWORD) -> list[tuple[str, str, str]]:
    """The two agencies and their users (idempotent); returns (username, password, what)."""
    users = get_user_model()
    for code, name, name_zh, phone, capacity, tiers, channels, parties in AGENCIES:
        if Agency.objects.filter(code=code).exists():
            continue
        register.add_agency(
            code=code,
            name=name,
            name_zh=name_zh,
            licence=f"DEMO-LIC-{code.upper()}",
            licence_valid_to=as_of + timedelta(days=730),
            contract_starts=as_of - timedelta(days=365),
            contract_ends=as_of + timedelta(days=365),
            phone=phone,
            capacity=capacity,
            tiers=[register.parse_tier(t) for t in tiers],
            channels=channels,
            parties=parties,
        )
    team, _ = Team.objects.get_or_create(
        code="agency-mgmt",
        defaults={"name": "委外管理 Agency management", "owner": "agency_placement"},
    )
    vera = users.objects.filter(username=MANAGER).first()
    if vera is None:
        vera = users.objects.create_user(MANAGER, password=password, is_staff=True)
    Collector.objects.get_or_create(
        user=vera, defaults={"team": team, "role": Collector.Role.TEAM_LEAD, "capacity": 0}
    )
    logins = [(MANAGER, password, "agency-management lead: placed cases, agencies' plans, recalls")]
    for username, code in MEMBERS:
        user = users.objects.filter(username=username).first()
        if user is None:
            user = users.objects.create_user(username, password=password)
        agency = Agency.objects.get(code=code)
        AgencyMember.objects.get_or_create(user=user, defaults={"agency": agency})
        logins.append((username, password, f"agency user at {agency.name}: its placed cases"))
    return logins


def seed_outcomes(as_of: date, by: Any) -> dict[str, int]:
    """After the day placed cases: recall one placement on request (so a recalled placement and
    its notice exist) and record a quality review of another. Idempotent."""
    done = {"recalled": 0, "reviewed": 0}
    if not Placement.objects.filter(recall_reason=Placement.RecallReason.REQUEST).exists():
        live = Placement.objects.filter(recalled_on__isnull=True).order_by("id").first()
        if live is not None:
            placement.recall(
                live, by=by, note="demo: borrower asked to deal with the lender", on=as_of
            )
            done["recalled"] = 1
    if not QualityReview.objects.exists():
        live = Placement.objects.filter(recalled_on__isnull=True).order_by("-id").first()
        if live is not None:
            QualityReview.objects.create(
                placement=live,
                reviewer=by,
                reviewed_on=as_of,
                score=85,
                finding="demo: script followed, disclosures given",
            )
            done["reviewed"] = 1
    return done
