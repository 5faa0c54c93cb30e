"""Helpers for the placement tests: a book whose borrowers reach ``external`` through the real
daily run and workflow, agencies with Chinese names and commission tiers, and the day's steps."""

from __future__ import annotations

from datetime import date

from arrears.agencies.models import Agency, CommissionTier
from arrears.agencies.placement import place_day
from arrears.collections.workflow import evaluate_day
from arrears.daily.services import day_run
from arrears.ledger import models
from tests import factories

#: 2026-04-20: a loan started 2026-01-15 with nothing paid is 64 days past due, ~CNY 1,700 due.
DAY = date(2026, 4, 20)


def new_agency(code: str, **kw: object) -> Agency:
    fields: dict[str, object] = {
        "name": f"{code.title()} Recovery Ltd.",
        "name_zh": f"{code}信息咨询有限公司",
        "licence_number": f"LIC-{code}",
        "licence_valid_to": date(2027, 12, 31),
        "contract_starts": date(2026, 1, 1),
        "contract_ends": date(2027, 12, 31),
        "phone": "400-800-0001",
        "capacity": 100,
    }
    fields.update(kw)
    return Agency.objects.create(code=code, **fields)


def two_agencies() -> tuple[Agency, Agency]:
    alpha = new_agency("alpha")
    beta = new_agency("beta", phone="400-800-0002")
    CommissionTier.objects.create(agency=alpha, bucket="", above_minor=0, rate_bp=1000)
    return alpha, beta


def loans(count: int) -> list[models.Loan]:
    product = factories.product()
    return [
        factories.loan(f"L{n}", factories.borrower(f"B{n}", phone=f"+86138000001{n:02d}"), product)
        for n in range(count)
    ]


def run(day: date) -> str:
    """The day pipeline's first steps: ledger, workflow, agencies (not the outbox)."""
    day_run(as_of=day, engine="reference")
    evaluate_day(day)
    return place_day(day)
