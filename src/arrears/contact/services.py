"""Recording what a borrower asked about being contacted (opt-outs, cease, not at work)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from arrears import errorcodes
from arrears.contact.models import ContactPreference
from arrears.kernel.errors import ArrearsError
from arrears.ledger.models import Borrower
from arrears.policy.model import CHANNELS


class ContactError(ArrearsError):
    code = "contact-invalid"


errorcodes.define(
    {
        "preference-unknown-channels": "unknown channel(s) %(channels)s",
        "preference-source": "say how the request came (call, letter, portal …)",
    }
)


def set_preferences(
    borrower: Borrower,
    *,
    opt_outs: list[str] | None = None,
    cease: bool | None = None,
    not_at_work: bool | None = None,
    source: str,
    user: Any = None,
) -> ContactPreference:
    """Record the borrower's request; every change is appended to the preference's history."""
    unknown = sorted(set(opt_outs or ()) - CHANNELS)
    if unknown:
        raise errorcodes.refuse(
            ContactError, "preference-unknown-channels", field="opt_outs", channels=unknown
        )
    if not source.strip():
        raise errorcodes.refuse(ContactError, "preference-source", field="source")
    with transaction.atomic():
        preference, _ = ContactPreference.objects.select_for_update().get_or_create(
            borrower=borrower
        )
        if opt_outs is not None:
            preference.opt_outs = sorted(set(opt_outs))
        if cease is not None:
            preference.cease = cease
        if not_at_work is not None:
            preference.not_at_work = not_at_work
        preference.history = [
            *preference.history,
            {
                "at": timezone.now().isoformat(),
                "source": source,
                "by": user.get_username() if user is not None else "",
                "opt_outs": preference.opt_outs,
                "cease": preference.cease,
                "not_at_work": preference.not_at_work,
            },
        ]
        preference.save()
    return preference
