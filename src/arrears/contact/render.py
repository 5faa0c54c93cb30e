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
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from arrears.contact.models import OutboxMessage
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
    """The message to send now, or the reason there is nothing to send.

    A template that cannot be rendered (no active version, a variable we cannot fill) raises
    ``TemplateError``; the dispatcher fails that one message with the reason.
    """
    from arrears.notices.context import build_context, gate_facts

    borrower = message.borrower
    to = address(borrower, message.channel)
    if not to:
        return f"no usable {message.channel} address for the borrower"
    amount, penalty, currency, due = residual(borrower, now, message.template in PRE_DUE)
    if amount == 0:
        local = timezone.localtime(now)
        return f"nothing is owed as of {local:%Y-%m-%d %H:%M} (paid before dispatch)"
    locale = message.locale
    code = message.verification_code or f"{secrets.randbelow(10**6):06d}"
    extra = {"due_date": due or None, "law_firm": _setting("ARREARS_LAW_FIRM", locale) or None}
    context = build_context(
        locale,
        lender_name=lender_name(locale),
        borrower_name=borrower.name,
        amount_due=Money(amount, currency),
        penalty=Money(penalty, currency),
        as_of=_local(borrower, now),
        verification_code=code,
        repayment_channels=_setting("ARREARS_REPAYMENT_CHANNELS", locale),
        complaint_channel=_setting("ARREARS_COMPLAINT_CHANNEL", locale),
        **extra,
    )
    subject, body = _render_template(message, context)
    return Rendered(
        to=to,
        subject=subject,
        body=body,
        locale=locale,
        verification_code=code,
        amount_due_minor=amount,
        facts=gate_facts(context),
    )


def _setting(name: str, locale: str) -> str:
    values: dict[str, str] = getattr(settings, name, {})
    return values.get(locale, "")


def _local(borrower: Borrower, now: datetime) -> datetime:
    """``now`` on the borrower's clock (the lender's when theirs is unknown)."""
    if borrower.time_zone:
        return now.astimezone(ZoneInfo(borrower.time_zone))
    return timezone.localtime(now)


def _render_template(message: OutboxMessage, context: dict[str, str]) -> tuple[str, str]:
    from arrears.notices.services import render_active

    return render_active(message.template, message.locale, message.channel, context)
