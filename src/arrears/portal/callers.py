"""Is this caller, visitor or message really from us? The portal's answer for one borrower.

A phone number is genuine when it is one of the lender's official numbers
(``ARREARS_OFFICIAL_NUMBERS``) or the official number of an agency that has a *live*
placement on one of this borrower's cases: an agency of ours that is not working this
borrower's account has no reason to call them, and the page says so. A code goes to
``verification.services.verify`` like the public page; the portal adds only whether the
document was issued for this borrower's account (a genuine authorisation shown by someone
visiting the wrong person is still a reason not to pay). Lookups are throttled per borrower
so a signed-in session cannot be used to walk the code space.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings

from arrears.agencies.models import Agency, Placement
from arrears.ledger.models import Borrower
from arrears.verification import codes
from arrears.verification.models import Credential
from arrears.verification.services import Verification, verify
from arrears.verification.throttle import over_limit

#: Lookups (numbers and codes together) one borrower may make in ``WINDOW_SECONDS``.
LOOKUPS_PER_WINDOW = 20
WINDOW_SECONDS = 600
#: What a typed number may contain besides digits (spaces, dashes, brackets, dots, a plus).
_SEPARATORS = re.compile(r"[\s\-().]")
_NUMBER = re.compile(r"^\+?[0-9]{3,20}$")


def throttled(borrower: Borrower) -> bool:
    """Count one lookup for ``borrower``; true once they made too many in the window."""
    return over_limit(f"portal-verify:{borrower.pk}", LOOKUPS_PER_WINDOW, WINDOW_SECONDS)


def national(text: str) -> str | None:
    """A phone number as comparable digits: separators dropped, ``00`` read as ``+`` and a
    mainland ``+86`` prefix removed (``+86 400-800-1234`` and ``4008001234`` are the same
    number). ``None`` when it is not a phone number at all."""
    cleaned = _SEPARATORS.sub("", text.strip())[:40]
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    if not _NUMBER.match(cleaned):
        return None
    if cleaned.startswith("+86"):
        return cleaned[3:]
    if cleaned.startswith("86") and len(cleaned) == 13:  # 86 + an 11-digit mobile
        return cleaned[2:]
    return cleaned.lstrip("+")


def official_numbers() -> list[dict[str, str]]:
    """The lender's official numbers, each ``{"number", "en", "zh-CN"}`` (what it is)."""
    return [dict(entry) for entry in getattr(settings, "ARREARS_OFFICIAL_NUMBERS", [])]


def in_language(texts: dict[str, str], chinese: bool) -> str:
    """The entry of a ``{"en", "zh-CN"}`` setting for the page's language (either if one is
    missing; ``zh`` is accepted for ``zh-CN``)."""
    zh = texts.get("zh-CN") or texts.get("zh") or ""
    en = texts.get("en") or ""
    return (zh or en) if chinese else (en or zh)


@dataclass(frozen=True)
class CallerAnswer:
    """The answer for a typed number. ``status``: ``lender`` (one of our numbers), ``agency``
    (an agency working your account now), ``agency_not_assigned`` (an agency of ours, but not
    on your account now), ``unknown`` or ``malformed``; only the first two are genuine."""

    status: str
    number: str
    label: dict[str, str] = field(default_factory=dict)
    agency: Agency | None = None
    placement: Placement | None = None

    @property
    def genuine(self) -> bool:
        return self.status in ("lender", "agency")

    def as_dict(self, chinese: bool) -> dict[str, Any]:
        found: dict[str, Any] = {
            "status": self.status,
            "genuine": self.genuine,
            "number": self.number,
        }
        if self.label:
            found["label"] = in_language(self.label, chinese)
        if self.agency is not None:
            found["agency"] = agency_name(self.agency, chinese)
            found["agency_phone"] = self.agency.phone
        if self.placement is not None:
            found["since"] = self.placement.placed_on.isoformat()
            found["until"] = self.placement.ends_on.isoformat()
        return found


def agency_name(agency: Agency, chinese: bool) -> str:
    return str((agency.name_zh or agency.name) if chinese else agency.name)


def live_placements(borrower: Borrower, on: date) -> list[Placement]:
    """The agencies working this borrower's cases on ``on`` (placed, not recalled)."""
    return list(
        Placement.objects.filter(
            case__borrower=borrower, recalled_on__isnull=True, placed_on__lte=on
        )
        .select_related("agency")
        .order_by("placed_on", "id")
    )


def check_number(borrower: Borrower, typed: str, on: date) -> CallerAnswer:
    """Whether a call from ``typed`` can be from us, for this borrower on ``on``."""
    shown = typed.strip()[:40]
    wanted = national(typed)
    if wanted is None:
        return CallerAnswer("malformed", shown)
    for entry in official_numbers():
        if national(str(entry.get("number", ""))) == wanted:
            return CallerAnswer("lender", shown, label=entry)
    for placement in live_placements(borrower, on):
        if national(placement.agency.phone) == wanted:
            return CallerAnswer("agency", shown, agency=placement.agency, placement=placement)
    for agency in Agency.objects.exclude(phone=""):
        if national(agency.phone) == wanted:
            return CallerAnswer("agency_not_assigned", shown, agency=agency)
    return CallerAnswer("unknown", shown)


@dataclass(frozen=True)
class CodeAnswer:
    """``verify``'s answer plus ``for_you``: whether the document was issued for one of this
    borrower's cases (``None`` when the code names no case or is not ours at all)."""

    verification: Verification
    for_you: bool | None

    @property
    def genuine(self) -> bool:
        return self.verification.genuine and self.for_you is not False

    def as_dict(self) -> dict[str, Any]:
        return {**self.verification.as_dict(), "for_you": self.for_you, "genuine": self.genuine}


def check_code(borrower: Borrower, typed: str, now: datetime) -> CodeAnswer:
    """Verify a code printed on a letter, an authorisation or a message, for this borrower."""
    answer = verify(typed[:64], now)
    canonical = codes.normalise(typed[:64])
    for_you = None
    if canonical is not None:
        owner = (
            Credential.objects.filter(code_hash=codes.digest(canonical), case__isnull=False)
            .values_list("case__borrower_id", flat=True)
            .first()
        )
        if owner is not None:
            for_you = owner == borrower.pk
    return CodeAnswer(answer, for_you)
