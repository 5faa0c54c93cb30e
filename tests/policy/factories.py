"""Small builders for gate tests: a request, a call record, a local time."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from arrears.policy import ContactRecord, ContactRequest, load_pack

CN = load_pack("cn")
REGF = load_pack("us-regf")
DEFAULT = load_pack("default")
PACKS = {"cn": CN, "us-regf": REGF, "default": DEFAULT}

NY = ZoneInfo("America/New_York")
SH = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")


def at(zone: ZoneInfo, y: int, mo: int, d: int, h: int = 12, mi: int = 0, s: int = 0) -> datetime:
    """A local wall time (fold 0) as an aware datetime."""
    return datetime(y, mo, d, h, mi, s, tzinfo=zone)


def req(**fields: Any) -> ContactRequest:
    base: dict[str, Any] = {
        "debt_id": "D1",
        "person_id": "P1",
        "party": "borrower",
        "channel": "voice",
        "action": "call",
        "timezone": "America/New_York",
        "address": "+1 212 555 0100",
    }
    base.update(fields)
    return ContactRequest(**base)


def call(when: datetime, **fields: Any) -> ContactRecord:
    base: dict[str, Any] = {
        "at": when,
        "channel": "voice",
        "action": "call",
        "person_id": "P1",
        "debt_id": "D1",
        "address": "+1 212 555 0100",
    }
    base.update(fields)
    return ContactRecord(**base)
