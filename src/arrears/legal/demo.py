"""The demo's law firm (``make demo`` seeds it so the ladder's letters are issued)."""

from __future__ import annotations

from arrears.legal.models import LawFirm

DEMO_FIRM = {
    "name": "Demo Law LLP",
    "name_zh": "演示律师事务所",
    "licence_number": "31310000MA1DEMO01X",
    "address": "上海市浦东新区世纪大道100号 20楼 / 20F, 100 Century Avenue, Shanghai",
    "phone": "021-6000-0000",
}


def seed_firm() -> LawFirm:
    """The demo firm, created once (a second call returns it unchanged)."""
    firm, _ = LawFirm.objects.get_or_create(code="demo-law", defaults=DEMO_FIRM)
    return firm
