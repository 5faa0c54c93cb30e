"""What an agency may see and use: the one place that decides it.

An agency user (``AgencyMember``, active) sees exactly the cases *placed* with their agency
and still in its hands on the day asked: a live placement (not recalled) whose term has
begun and not ended, on an open case, while the agency's licence and contract are valid.
Everything else — another agency's case, a recalled placement, a case never placed — is
answered 404 by the callers, so the existence of a case is never revealed. The pages, the
JSON API and the file exchange all ask here; none of them filters placements on its own, so
they cannot disagree.

Data minimisation (decided here, documented in ``docs/agency-exchange.md``):

* the national ID is always masked (``110101********4518``);
* phone numbers: the borrower's own mobile numbers always; numbers that may reach someone
  else (home, work, or numbers learnt from third parties) only when the agency may contact
  third parties (``"emergency"`` in ``Agency.permitted_parties``); known wrong numbers never.
  Lists, exports and the API show them masked; the full number appears only in the contact
  form of the case page, where the agency user needs it to dial;
* e-mail and postal address only when the agency may visit (``"visit"`` in
  ``Agency.permitted_channels``);
* the parties an agency may log a contact with: the borrower always, a co-borrower or an
  emergency contact only when permitted; never an unrelated third party.

API keys (``AgencyToken``) are random 256-bit secrets shown once at creation and stored as
their SHA-256 (a database leak yields no usable key).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from arrears import errorcodes
from arrears.agencies.models import Agency, AgencyMember, AgencyToken, Placement
from arrears.api.common import check_scopes, hash_key
from arrears.collections.models import Case, ContactAttempt
from arrears.kernel.errors import ArrearsError
from arrears.ledger.masking import mask_national_id, mask_phone
from arrears.ledger.models import Borrower, Phone

#: What an API key may be allowed to do.
SCOPES = ("placements:read", "results:write")
#: Prefix of every key, so a leaked key is recognisable in logs and secret scanners.
KEY_PREFIX = "agk_"
#: ``Agency.permitted_parties`` entry → the contact log's party it allows.
PARTY_PERMISSIONS = {
    "co_borrower": ContactAttempt.Party.CO_BORROWER,
    "emergency": ContactAttempt.Party.EMERGENCY_CONTACT,
    "emergency_contact": ContactAttempt.Party.EMERGENCY_CONTACT,
}


class AgencyAccessError(ArrearsError):
    """An agency asked for something it may not have (a scope, a channel, a party)."""

    code = "agency-access"


errorcodes.define(
    {
        "agency-token-name": "a key needs a name of 1 to 80 characters",
        "agency-token-scope": "%(value)s is not one of %(allowed)s",
        "agency-token-no-scope": "a key needs at least one scope",
    }
)


# --- who is an agency user ------------------------------------------------------------------


def member_of(user: Any) -> AgencyMember | None:
    """The user's active agency membership, or ``None`` (not logged in, not an agency user,
    or a membership switched off)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        AgencyMember.objects.filter(user_id=user.pk, active=True).select_related("agency").first()
    )


def live_placements(agency: Agency, day: date) -> QuerySet[Placement]:
    """The agency's placements in force on ``day``: not recalled, term begun and not ended,
    case still open, and the agency's licence and contract still valid. A placement past its
    term, or of an agency whose licence lapsed, is out of the agency's hands even before the
    daily run recalls it."""
    return Placement.objects.filter(
        agency=agency,
        agency__licence_valid_to__gte=day,
        agency__contract_ends__gte=day,
        recalled_on__isnull=True,
        placed_on__lte=day,
        ends_on__gte=day,
        case__closed_on__isnull=True,
    )


def placed_cases(user: Any, day: date) -> QuerySet[Case]:
    """The cases ``user``'s agency may work on ``day`` (none for anyone else)."""
    member = member_of(user)
    if member is None:
        return Case.objects.none()
    return Case.objects.filter(
        pk__in=live_placements(member.agency, day).values("case_id")
    ).select_related("borrower")


def placement_of(agency: Agency, case_id: int, day: date) -> Placement:
    """The agency's live placement of case ``case_id``; :class:`Http404` otherwise — a case of
    another agency, recalled or never placed looks exactly like one that does not exist."""
    found = (
        live_placements(agency, day)
        .filter(case_id=case_id)
        .select_related("case", "case__borrower", "agency")
        .first()
    )
    if found is None:
        raise Http404("no such case")
    return found


# --- what the agency may use ----------------------------------------------------------------


def permitted_parties(agency: Agency) -> list[str]:
    """The contact log's parties the agency may contact: the borrower, and what its contract
    adds (co-borrower, emergency contact)."""
    parties = [str(ContactAttempt.Party.BORROWER)]
    for entry in agency.permitted_parties or []:
        party = PARTY_PERMISSIONS.get(str(entry))
        if party is not None and party not in parties:
            parties.append(str(party))
    return parties


def permitted_channels(agency: Agency) -> list[str]:
    """The contact channels the agency may use, in the contact log's order."""
    allowed = {str(c) for c in agency.permitted_channels or []}
    return [c for c in ContactAttempt.Channel.values if c in allowed]


def may_contact_third_parties(agency: Agency) -> bool:
    return ContactAttempt.Party.EMERGENCY_CONTACT in permitted_parties(agency)


def may_visit(agency: Agency) -> bool:
    return ContactAttempt.Channel.VISIT in permitted_channels(agency)


def usable(agency: Agency, phones: Iterable[Phone]) -> list[Phone]:
    """Of ``phones`` (one borrower's), the numbers the agency may dial: the borrower's own
    valid mobiles; other valid numbers only when it may contact third parties (they may reach
    someone else). Known wrong numbers never."""
    wide = may_contact_third_parties(agency)
    return [
        phone
        for phone in phones
        if phone.is_valid
        and (wide or (phone.kind == Phone.Kind.MOBILE and phone.source != Phone.Source.THIRD_PARTY))
    ]


def usable_phones(agency: Agency, borrower: Borrower) -> list[Phone]:
    """The borrower's numbers the agency may dial (:func:`usable`), oldest first."""
    return usable(agency, borrower.phones.order_by("id"))


@dataclass(frozen=True)
class Person:
    """The borrower as an agency sees them (already minimised)."""

    name: str
    masked_id: str
    masked_phones: tuple[str, ...]
    email: str
    address: str


def person(agency: Agency, borrower: Borrower) -> Person:
    """The borrower's details the agency may see, masked where the rules say so."""
    visit = may_visit(agency)
    return Person(
        name=borrower.name,
        masked_id=mask_national_id(borrower.national_id or ""),
        masked_phones=tuple(mask_phone(p.number) for p in usable_phones(agency, borrower)),
        email=borrower.email if visit else "",
        address=borrower.postal_address if visit else "",
    )


# --- API keys -------------------------------------------------------------------------------


def _hash(key: str) -> str:
    return hash_key(key)


def create_token(agency: Agency, name: str, scopes: list[str] | tuple[str, ...]) -> str:
    """A new API key for ``agency`` with ``scopes``; returns the plain key, which is shown
    once and never stored (only its SHA-256 and last four characters are)."""
    name = name.strip()
    if not name or len(name) > 80:
        raise errorcodes.refuse(AgencyAccessError, "agency-token-name", field="name")
    wanted = sorted(set(scopes))
    check_scopes(
        wanted,
        SCOPES,
        AgencyAccessError,
        none="agency-token-no-scope",
        unknown="agency-token-scope",
    )
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    AgencyToken.objects.create(
        agency=agency, name=name, key_hash=_hash(key), key_hint=key[-4:], scopes=wanted
    )
    return key


def token_for(key: str) -> AgencyToken | None:
    """The unrevoked token whose key is ``key`` (looked up by hash), or ``None``."""
    if not key or len(key) > 200:
        return None
    return (
        AgencyToken.objects.filter(key_hash=_hash(key), revoked_at__isnull=True)
        .select_related("agency")
        .first()
    )


def revoke_token(token: AgencyToken) -> None:
    """Switch a key off for good (keeps the row for the record)."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
