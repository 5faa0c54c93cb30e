"""What a message says, decided at dispatch time from the ledger as it stands *now*.

The amount in a reminder is the residual at the moment of sending (never a figure frozen when
the work item was made): a borrower who paid an hour ago gets nothing, one who paid part gets
the new amount. The address comes from the borrower record at the same moment (a number marked
wrong since is not used).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from arrears.contact.models import OutboxMessage
from arrears.formatting import format_money
from arrears.kernel.money import Money
from arrears.ledger import selectors
from arrears.ledger.models import Borrower, Loan

#: Templates about an instalment not yet due (the amount is what falls due, not arrears).
PRE_DUE = frozenset({"pre_due_reminder"})
PRE_DUE_HORIZON = timedelta(days=7)


@dataclass(frozen=True)
class Rendered:
    """A message ready for its channel, with the facts the gate's content rules check."""

    to: str
    subject: str
    body: str
    locale: str
    verification_code: str
    amount_due_minor: int
    facts: dict[str, str] = field(default_factory=dict)

    @property
    def text_for_gate(self) -> str:
        return f"{self.subject}\n{self.body}".strip()

    def outbound(self, message: OutboxMessage) -> Any:
        from arrears.channels import OutboundMessage

        return OutboundMessage(
            idempotency_key=message.key,
            channel=message.channel,
            to=self.to,
            subject=self.subject,
            body=self.body,
            locale=self.locale,
            sender_name=lender_name(self.locale),
            metadata={"template": message.template, "verification_code": self.verification_code},
        )


def lender_name(locale: str) -> str:
    names: dict[str, str] = getattr(
        settings, "ARREARS_LENDER_NAME", {"zh-CN": "演示消费金融", "en": "Demo Consumer Finance"}
    )
    return names.get(locale, next(iter(names.values())))


def address(borrower: Borrower, channel: str) -> str:
    """The borrower's address for ``channel`` now ('' when there is none)."""
    if channel in ("sms", "voice"):
        phone = borrower.phones.filter(is_valid=True, kind="mobile").order_by("id").first()
        return phone.number if phone else ""
    if channel == "email":
        return borrower.email
    if channel == "letter":
        return f"{borrower.name}\n{borrower.postal_address}" if borrower.postal_address else ""
    return borrower.ref  # in-app: the borrower's portal inbox


def residual(borrower: Borrower, now: datetime, pre_due: bool) -> tuple[int, int, str, str]:
    """(amount due, penalty, currency, due date) across the borrower's loans as of ``now``.

    For a pre-due reminder the amount is what falls due within the next week instead.
    """
    today = timezone.localdate(now)
    amount = penalty = 0
    currency, due = "CNY", ""
    for loan in Loan.objects.filter(borrower=borrower, start_date__lte=today).select_related(
        "product"
    ):
        state = selectors.loan_state(loan, today)[1]
        currency = loan.currency
        if pre_due:
            for inst in state.instalments:
                if today <= inst.due_date <= today + PRE_DUE_HORIZON and inst.outstanding:
                    amount += inst.outstanding
                    due = min(due, inst.due_date.isoformat()) if due else inst.due_date.isoformat()
        else:
            amount += state.total_due
            penalty += state.penalty_outstanding + state.compound_outstanding
    return amount, penalty, currency, due


def render_message(message: OutboxMessage, now: datetime) -> Rendered | str:
    """The message to send now, or the reason there is nothing to send."""
    borrower = message.borrower
    to = address(borrower, message.channel)
    if not to:
        return f"no usable {message.channel} address for the borrower"
    amount, penalty, currency, due = residual(borrower, now, message.template in PRE_DUE)
    if amount == 0:
        return (
            f"nothing is owed as of {timezone.localtime(now):%Y-%m-%d %H:%M} (paid before dispatch)"
        )
    locale = message.locale
    code = message.verification_code or f"{secrets.randbelow(10**6):06d}"
    context = {
        "lender_name": lender_name(locale),
        "borrower_name": borrower.name,
        "amount_due": format_money(Money(amount, currency), locale),
        "penalty": format_money(Money(penalty, currency), locale),
        "as_of": timezone.localtime(now).strftime("%Y-%m-%d %H:%M"),
        "due_date": due,
        "verification_code": code,
        "repayment_channels": getattr(settings, "ARREARS_REPAYMENT_CHANNELS", {}).get(locale, ""),
        "complaint_channel": getattr(settings, "ARREARS_COMPLAINT_CHANNEL", {}).get(locale, ""),
    }
    subject, body = _render_template(message, context)
    facts = {  # the values the pack's required-content rule looks for in the text
        "lender_name": context["lender_name"],
        "amount_due": context["amount_due"],
        "penalty": context["penalty"],
        "repayment_channel": context["repayment_channels"],
        "complaint_channel": context["complaint_channel"],
        "verification_code": code,
    }
    return Rendered(
        to=to,
        subject=subject,
        body=body,
        locale=locale,
        verification_code=code,
        amount_due_minor=amount,
        facts=facts,
    )


def _render_template(message: OutboxMessage, context: dict[str, str]) -> tuple[str, str]:
    from arrears.notices.services import render_active

    return render_active(message.template, message.locale, message.channel, context)
