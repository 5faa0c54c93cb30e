"""What a message says, decided at dispatch time from the ledger as it stands *now*.

The amount in a reminder is the residual at the moment of sending (never a figure frozen when
the work item was made): a borrower who paid an hour ago gets nothing, one who paid part gets
the new amount. A pre-due reminder is about the instalment coming due that it announces, not
about arrears. When there is nothing to send, the reason says the true cause (no address,
nothing overdue any more and why, the announced instalment already paid or already past due).
The address comes from the borrower record at the same moment (a number marked wrong since is
not used).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from arrears.contact.models import OutboxMessage
from arrears.formatting import format_money
from arrears.kernel.money import Money
from arrears.ledger import selectors
from arrears.ledger.models import Borrower, Loan

#: Other apps' providers of template variables a message needs beyond the standard context
#: (``fieldwork`` gives a visit notice its ``appointment_time``); see :func:`register_extra`.
_EXTRA: list[Callable[[OutboxMessage], Mapping[str, str]]] = []


def register_extra(provider: Callable[[OutboxMessage], Mapping[str, str]]) -> None:
    """Add ``provider(message) -> {variable: text}`` to every render (once; from ``ready()``)."""
    if provider not in _EXTRA:
        _EXTRA.append(provider)


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
    attachment: bytes | None = None
    attachment_name: str = ""
    #: The body as kept on the outbox row when it must differ from what is sent: a sign-in
    #: code is a live credential, so the record keeps the text with the code blanked.
    record_body: str | None = None

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
            attachment=self.attachment,
            attachment_name=self.attachment_name,
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


@dataclass(frozen=True)
class Residual:
    """What a message is about, as of the moment it is sent.

    ``amount`` is what the borrower owes now (overdue reminders) or what falls due on the
    instalments the reminder announces (pre-due reminders); ``nothing`` says why there is
    nothing to send — the true cause, never a guess — and is '' when there is something.
    """

    amount: int
    penalty: int
    currency: str
    due: str
    nothing: str = ""


def _local_text(now: datetime) -> str:
    return f"{timezone.localtime(now):%Y-%m-%d %H:%M}"


def residual(
    borrower: Borrower,
    now: datetime,
    pre_due_from: date | None = None,
    *,
    asked_on: date | None = None,
) -> Residual:
    """The borrower's residual as of ``now`` across their loans.

    An overdue reminder (``pre_due_from`` is None) is about everything overdue now, penalty
    included. A pre-due reminder is about the amount *coming due*: the instalments falling due
    within ``PRE_DUE_HORIZON`` of ``pre_due_from`` (the day the reminder was asked for, not the
    day it happens to be sent), whatever is overdue elsewhere, less what a prepayment (the
    loan's credit) will settle on the due date. ``asked_on`` (the message's day,
    default today) is where "paid since" counts from when nothing is overdue any more.
    """
    today = timezone.localdate(now)
    amount = penalty = 0
    currency, due = "CNY", ""
    announced: list[tuple[date, int]] = []
    for loan in Loan.objects.filter(borrower=borrower, start_date__lte=today).select_related(
        "product"
    ):
        state = selectors.loan_state(loan, today)[1]
        currency = loan.currency
        if pre_due_from is None:
            amount += state.total_due
            penalty += state.penalty_outstanding + state.compound_outstanding
            continue
        credit = state.credit  # a prepayment settles the next instalment on its due date
        for inst in sorted(state.instalments, key=lambda i: i.due_date):
            if not pre_due_from <= inst.due_date <= pre_due_from + PRE_DUE_HORIZON:
                continue
            owed = inst.outstanding
            if inst.due_date >= today:
                covered = min(credit, owed)
                credit, owed = credit - covered, owed - covered
            announced.append((inst.due_date, owed))
    if pre_due_from is None:
        if amount:
            return Residual(amount, penalty, currency, due)
        since = min(asked_on or today, today)
        paid = selectors.paid_between(borrower.pk, since, today, today)
        how = (
            f"{format_money(Money(paid, currency), 'en')} paid since {since}"
            if paid
            else f"settled since {since} without a payment (a waiver, a plan or a correction)"
        )
        return Residual(0, 0, currency, due, f"nothing is overdue as of {_local_text(now)}: {how}")
    unpaid = [(d, owed) for d, owed in announced if owed > 0]
    dates = ", ".join(sorted({d.isoformat() for d, _ in announced}))
    if not announced:
        last = pre_due_from + PRE_DUE_HORIZON
        return Residual(
            0, 0, currency, due, f"no instalment falls due from {pre_due_from} to {last}"
        )
    if not unpaid:
        return Residual(
            0, 0, currency, due, f"the instalment due {dates} is already paid ({_local_text(now)})"
        )
    coming = [(d, owed) for d, owed in unpaid if d >= today]
    if not coming:
        first = min(d for d, _ in unpaid)
        return Residual(
            0,
            0,
            currency,
            due,
            f"the instalment due {first} is past due on {today}: a pre-due reminder no longer "
            "applies (the overdue reminders take over)",
        )
    return Residual(sum(owed for _, owed in coming), 0, currency, min(coming)[0].isoformat())


def render_message(message: OutboxMessage, now: datetime) -> Rendered | str:
    """The message to send now, or the reason there is nothing to send.

    A template that cannot be rendered (no active version, a variable we cannot fill) raises
    ``TemplateError``; the dispatcher fails that one message with the reason. A message that
    carries a finished document (``contact.documents``: a lawyer's letter) is rendered with the
    document's own values and hands the document on as the attachment.
    """
    from arrears.contact import documents
    from arrears.notices.context import build_context, gate_facts, purpose_of

    borrower = message.borrower
    to = address(borrower, message.channel)
    if not to:
        return f"no usable {message.channel} address for the borrower"
    if purpose_of(message.template) == "service":
        return _render_service(message, to)
    pre_due_from = (
        (message.due_on or timezone.localdate(now)) if message.template in PRE_DUE else None
    )
    owed = residual(borrower, now, pre_due_from, asked_on=message.due_on)
    if owed.nothing:
        return owed.nothing
    amount, penalty, currency, due = owed.amount, owed.penalty, owed.currency, owed.due
    locale = message.locale
    code = message.verification_code or _message_code(message, to, now)
    document = documents.for_message(message)
    extra = {"due_date": due or None, "law_firm": _setting("ARREARS_LAW_FIRM", locale) or None}
    for provider in _EXTRA:
        extra.update(provider(message))
    if document is not None:
        extra.update(document.variables)
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
    if document is not None and document.template_channel:
        subject, body = _render_template(message, context, document.template_channel)
    else:
        subject, body = _render_template(message, context)
    return Rendered(
        to=to,
        subject=subject,
        body=body,
        locale=locale,
        verification_code=code,
        amount_due_minor=amount,
        facts=gate_facts(context),
        attachment=document.content if document is not None else None,
        attachment_name=document.name if document is not None else "",
    )


#: Variables of service messages that are credentials: sent, never kept on the record.
SECRET_VARIABLES = frozenset({"sign_in_code"})


def _render_service(message: OutboxMessage, to: str) -> Rendered:
    """A message the person asked for themself (a portal sign-in code): the lender's name and
    the variables its providers give (``register_extra``), no debt figures and no verification
    code, whatever is owed — a borrower who owes nothing may still sign in. A credential
    variable is blanked in the body kept on the record."""
    from arrears.notices.context import gate_facts

    context = {"lender_name": lender_name(message.locale)}
    for provider in _EXTRA:
        context.update(provider(message))
    subject, body = _render_template(message, context)
    kept = body
    for name in SECRET_VARIABLES:
        secret = context.get(name)
        if secret:
            kept = kept.replace(secret, "•" * len(secret))
    return Rendered(
        to=to,
        subject=subject,
        body=body,
        locale=message.locale,
        verification_code="",
        amount_due_minor=0,
        facts=gate_facts(context),
        record_body=kept,
    )


#: Days a message's verification code answers "genuine" after the message is first prepared.
MESSAGE_CODE_VALID_DAYS = 90


def _message_code(message: OutboxMessage, to: str, now: datetime) -> str:
    """The verification code a message carries: a credential (80 random bits, stored hashed)
    that says the lender sent a message of this kind to this (masked) address, so the borrower
    can check it (``/verify/``, ``arrears verify``). Issued once per message and kept on it, so
    a message deferred by the gate and prepared again later carries the same code."""
    from arrears.ledger.masking import mask_address
    from arrears.notices.context import SPECS
    from arrears.verification.services import issue

    spec = SPECS.get(message.template)
    what_en, what_zh = (spec.en, spec.zh) if spec else (message.template, message.template)
    holder = mask_address(message.channel, to)
    with transaction.atomic():
        locked = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        if locked.verification_code:
            return locked.verification_code
        issued = issue(
            kind="message",
            holder=holder[:200],
            issuer_kind="lender",
            issuer_name=lender_name("zh-CN" if message.locale.startswith("zh") else "en"),
            authorises_en=f"a {message.channel} message from the lender: {what_en}"[:400],
            authorises_zh=f"贷款机构发送的{message.channel}消息：{what_zh}"[:400],
            valid_from=now,
            valid_to=now + timedelta(days=MESSAGE_CODE_VALID_DAYS),
            issued_at=now,
            case=message.case,
            document_ref=f"message:{message.pk}",
        )
        locked.verification_code = issued.code
        locked.save(update_fields=["verification_code"])
    message.verification_code = issued.code
    return issued.code


def _setting(name: str, locale: str) -> str:
    values: dict[str, str] = getattr(settings, name, {})
    return values.get(locale, "")


def _local(borrower: Borrower, now: datetime) -> datetime:
    """``now`` on the borrower's clock (the lender's when theirs is unknown)."""
    if borrower.time_zone:
        return now.astimezone(ZoneInfo(borrower.time_zone))
    return timezone.localtime(now)


def _render_template(
    message: OutboxMessage, context: dict[str, str], channel: str = ""
) -> tuple[str, str]:
    """The active template of ``message``'s code and locale for ``channel`` (default: the
    message's own channel)."""
    from arrears.notices.services import render_active

    return render_active(message.template, message.locale, channel or message.channel, context)
