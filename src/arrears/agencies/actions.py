"""What an agency user does on a placed case: log a contact, take a promise, propose a plan.

The same services as the internal team (``collections.services.log_contact`` — gated —,
``make_promise``, ``collections.concessions.propose_plan``), with what an agency adds: the
contact and the promise carry the agency (``ContactAttempt.agency``, ``Promise.agency``); a
channel or party outside the agency's contract is refused before the gate is asked; a number
the agency may not use is refused; and an agency never overrides the compliance gate — a
contact the gate would not allow is refused, citing its rules (an override is a lender's
decision, reported to compliance, not an agency's). The pages and the result batches (API and
files) both come here, so the rules cannot differ between them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from arrears import errorcodes
from arrears.agencies import access
from arrears.agencies.models import Placement
from arrears.collections import concessions
from arrears.collections import services as collections
from arrears.collections.models import ContactAttempt, Promise
from arrears.collections.services import CollectionsError
from arrears.kernel.errors import ArrearsError
from arrears.ledger.models import Loan, Phone, RepaymentPlan


class AgencyActionError(ArrearsError):
    """An agency user's action was refused; nothing was recorded."""

    code = "agency-action"


errorcodes.define(
    {
        "agency-channel-not-permitted": "your agency may not use the channel %(channel)s",
        "agency-party-not-permitted": "your agency may not contact %(party)s",
        "agency-phone-not-usable": "this number is not one your agency may use",
        "agency-loan-not-on-case": "loan %(loan)s is not on this case",
        "agency-gate-denied": "the compliance gate does not allow this contact (%(rules)s)",
        "agency-gate-deferred": (
            "the compliance gate does not allow this contact before %(next)s (%(rules)s)"
        ),
    }
)

#: Outcomes an agency reports. A callback request needs a consent window the agency forms
#: do not collect yet; it is logged as a right-party contact with a note instead.
OUTCOMES = tuple(o for o in ContactAttempt.Outcome.values if o != ContactAttempt.Outcome.CALLBACK)


def log_contact(
    placement: Placement,
    *,
    channel: str,
    party: str,
    outcome: str,
    at: datetime | None = None,
    phone: Phone | None = None,
    note: str = "",
    user: Any = None,
    visitors: list[str] | tuple[str, ...] = (),
) -> ContactAttempt:
    """Log an outbound contact an agency made on ``placement``'s case, through the gate."""
    agency = placement.agency
    if channel not in access.permitted_channels(agency):
        raise errorcodes.refuse(
            AgencyActionError, "agency-channel-not-permitted", field="channel", channel=channel
        )
    if party not in access.permitted_parties(agency):
        raise errorcodes.refuse(
            AgencyActionError, "agency-party-not-permitted", field="party", party=party
        )
    if outcome not in OUTCOMES:
        raise errorcodes.refuse(
            CollectionsError,
            "contact-unknown-value",
            field="outcome",
            value=repr(outcome),
            allowed=", ".join(OUTCOMES),
        )
    case = placement.case
    if phone is not None and phone.pk not in {
        p.pk for p in access.usable_phones(agency, case.borrower)
    }:
        raise errorcodes.refuse(AgencyActionError, "agency-phone-not-usable", field="phone")
    try:
        return collections.log_contact(
            case,
            channel=channel,
            direction=ContactAttempt.Direction.OUTBOUND,
            party=party,
            outcome=outcome,
            collector=user,
            phone=phone,
            note=note,
            at=at,
            visitors=visitors,
            agency=agency,
        )
    except CollectionsError as error:
        raise _gate(error) from None


def _gate(error: CollectionsError) -> ArrearsError:
    """The gate's refusal without the override advice (agencies cannot override)."""
    if error.code == "contact-gate-denied":
        return errorcodes.refuse(
            AgencyActionError, "agency-gate-denied", field="at", rules=error.params["rules"]
        )
    if error.code == "contact-gate-deferred":
        return errorcodes.refuse(
            AgencyActionError,
            "agency-gate-deferred",
            field="at",
            next=error.params["next"],
            rules=error.params["rules"],
        )
    return error


def make_promise(
    placement: Placement,
    *,
    amount_minor: int,
    due_date: date,
    tolerance_minor: int = 0,
    user: Any = None,
    contact: ContactAttempt | None = None,
) -> Promise:
    """A promise to pay the agency took; the ledger alone later says whether it was kept."""
    return collections.make_promise(
        placement.case,
        amount_minor=amount_minor,
        due_date=due_date,
        tolerance_minor=tolerance_minor,
        user=user,
        contact=contact,
        agency=placement.agency,
    )


def propose_plan(
    placement: Placement,
    loan: Loan,
    *,
    user: Any,
    instalments: list[tuple[date, int]],
    grace_days: int = 3,
    tolerance_minor: int = 0,
    waive_rest: bool = False,
    note: str = "",
) -> RepaymentPlan:
    """Propose a repayment plan on one of the case's loans; the agency user is the maker and
    the lender's approvers decide (the maker never approves, and an agency user has no
    approval limit at all)."""
    if loan.borrower_id != placement.case.borrower_id:
        raise errorcodes.refuse(
            AgencyActionError, "agency-loan-not-on-case", field="loan", loan=loan.ref
        )
    prefix = f"[agency {placement.agency.code}] "
    return concessions.propose_plan(
        loan,
        user=user,
        instalments=instalments,
        grace_days=grace_days,
        tolerance_minor=tolerance_minor,
        waive_rest=waive_rest,
        note=(prefix + note)[:2000],
    )
