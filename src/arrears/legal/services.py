"""Issuing and withdrawing lawyer's letters, and the day step that issues the ladder's letters.

**What a letter states.** The amounts by component as of the end of its letter date, per
contract, from the same call the explain page and ``arrears explain`` make
(``kernel.explain.explain(*ledger.selectors.loan_state(loan, day))``), so a borrower who asks
"where does this figure come from?" gets the same answer on the explain page for that date.
The ledger has no fee component: ``fees`` is always 0 and the letter leaves the column out.

**Once.** A letter is identified by (case, template, letter date); issuing it again returns the
first one. Its outbox message uses the key the work item of the same contact has —
``wi:`` + ``collections.workflow.contact_key(borrower, "letter", template, day)`` — and is
created in the same transaction as the letter, so the outbox's ``enqueue_due`` (which skips work
items that already have a message, and keys that exist) never queues a second, text-only
letter, and nobody gets the letter twice whichever path asked for it.

**Delivery.** By post (the ``letter`` channel prints the PDF as issued) when the borrower has a
postal address and has not opted out of letters; otherwise by e-mail (the letter's text, the PDF
attached) when there is an address and e-mail is not opted out; otherwise by post anyway, which
the dispatcher suppresses with the true cause ("no usable letter address"). Either way the gate
decides at dispatch on the rendered text, whose disclosures it checks.

**Verification.** Each letter gets a credential (``verification.services.issue``, kind
``lawyer_letter``, issued by the firm): its code is printed on the PDF, given to the message's
template as ``verification_code`` and never stored in plain text by this app. Withdrawing a
letter revokes it (a borrower checking the code learns it no longer stands).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from arrears import errorcodes
from arrears.collections import events
from arrears.collections.models import Case, CaseEvent, WorkItem
from arrears.collections.workflow import contact_key
from arrears.contact import documents
from arrears.contact.models import ContactPreference, OutboxMessage
from arrears.contact.outbox import LOCALES, valid_until
from arrears.contact.render import lender_name
from arrears.kernel.errors import ArrearsError
from arrears.kernel.explain import explain
from arrears.ledger import selectors as ledger_selectors
from arrears.ledger.models import Borrower, Loan
from arrears.legal import pdf
from arrears.legal.models import LawFirm, LegalLetter
from arrears.verification import services as verification
from arrears.verification.services import check_url

errorcodes.define(
    {
        "legal-template": "%(template)s is not a letter template (lawyer_letter, legal_notice)",
        "legal-no-firm": "no active law firm is set up to issue letters",
        "legal-firm-inactive": "the law firm %(firm)s is not active",
        "legal-locale": "letters are written in zh-CN or en, not %(locale)s",
        "legal-nothing-overdue": "nothing is overdue on %(day)s: there is no debt to write about",
        "legal-pdf-damaged": "the PDF of letter %(reference)s is missing or no longer matches "
        "its recorded SHA-256; it is not sent",
        "legal-withdraw-reason": "give a reason for withdrawing the letter",
        "legal-withdrawn": "letter %(reference)s has been withdrawn; it is not sent",
    }
)


class LegalError(ArrearsError):
    """A letter that cannot be issued, sent or withdrawn as asked."""


#: Templates that are letters from a law firm (the ladder's ``letter`` treatments).
TEMPLATES = frozenset(LegalLetter.Template.values)
#: Letter locales (the message template locales).
LETTER_LOCALES = frozenset({"zh-CN", "en"})
#: Days a letter's verification code answers "valid" after its letter date (default a year).
DEFAULT_VALID_DAYS = 365

_AUTHORISES = {
    "lawyer_letter": (
        "a lawyer's letter dated %(date)s for %(lender)s asking for repayment through the "
        "lender's official channels only",
        "%(date)s 受%(lender)s委托出具的律师函（仅通过官方渠道还款）",
    ),
    "legal_notice": (
        "a legal notice dated %(date)s for %(lender)s asking for repayment through the "
        "lender's official channels only",
        "%(date)s 受%(lender)s委托出具的法律催告函（仅通过官方渠道还款）",
    ),
}


def letter_dir() -> Path:
    """Where letter PDFs are kept (``ARREARS_LEGAL_DIR``, default ``<data dir>/legal``)."""
    configured = str(getattr(settings, "ARREARS_LEGAL_DIR", "") or "")
    return Path(configured) if configured else Path(settings.DATA_DIR) / "legal"


@dataclass(frozen=True, slots=True)
class LetterAmounts:
    """The amounts a letter states: per contract and in total (minor units)."""

    currency: str
    rows: tuple[pdf.Amounts, ...]
    total: pdf.Amounts


def amounts_on(borrower: Borrower, day: date) -> LetterAmounts:
    """Every contract of ``borrower`` with something due at the end of ``day``, by component,
    exactly as ``explain`` shows them for that date."""
    rows: list[pdf.Amounts] = []
    currency = ""
    loans = Loan.objects.filter(borrower=borrower, start_date__lte=day).select_related("product")
    for loan in loans.order_by("ref"):
        totals = explain(*ledger_selectors.loan_state(loan, day))["totals"]
        if not totals["total_due"]["minor"]:
            continue
        currency = currency or loan.currency
        rows.append(
            pdf.Amounts(
                label=loan.ref,
                principal=totals["overdue_principal"]["minor"],
                interest=totals["overdue_interest"]["minor"],
                penalty=totals["penalty_outstanding"]["minor"],
                compound=totals["compound_outstanding"]["minor"],
                fees=0,
                total=totals["total_due"]["minor"],
            )
        )
    total = pdf.Amounts(
        label="",
        principal=sum(r.principal for r in rows),
        interest=sum(r.interest for r in rows),
        penalty=sum(r.penalty for r in rows),
        compound=sum(r.compound for r in rows),
        fees=sum(r.fees for r in rows),
        total=sum(r.total for r in rows),
    )
    return LetterAmounts(currency, tuple(rows), total)


def delivery_channel(borrower: Borrower) -> str:
    """``letter`` or ``email`` for this borrower now (see the module docstring)."""
    preference = ContactPreference.objects.filter(borrower=borrower).first()
    opted_out = set(preference.opt_outs) if preference else set()
    if borrower.postal_address.strip() and "letter" not in opted_out:
        return "letter"
    if borrower.email and "email" not in opted_out:
        return "email"
    return "letter"


def _firm(firm: LawFirm | None) -> LawFirm:
    if firm is None:
        found = LawFirm.objects.filter(active=True).order_by("code").first()
        if found is None:
            raise errorcodes.refuse(LegalError, "legal-no-firm", field="firm")
        return found
    if not firm.active:
        raise errorcodes.refuse(LegalError, "legal-firm-inactive", field="firm", firm=firm.name)
    return firm


def _reference(case: Case, template: str, day: date) -> str:
    prefix = "LL" if template == "lawyer_letter" else "LN"
    return f"{prefix}-{day:%Y%m%d}-{case.pk:06d}"


def _setting(name: str, locale: str) -> str:
    values: dict[str, str] = getattr(settings, name, {})
    return values.get(locale, "")


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def issue_letter(
    case: Case,
    as_of: date,
    *,
    template: str = "lawyer_letter",
    firm: LawFirm | None = None,
    locale: str | None = None,
    work_item: WorkItem | None = None,
) -> LegalLetter:
    """The case's ``template`` letter for ``as_of``: issued now (credential, PDF, case event,
    outbox message) or, when it exists, the one already issued."""
    if template not in TEMPLATES:
        raise errorcodes.refuse(LegalError, "legal-template", field="template", template=template)
    existing = LegalLetter.objects.filter(case=case, template=template, letter_date=as_of).first()
    if existing is not None:
        _link_work_item(existing, work_item)
        return existing
    borrower = case.borrower
    locale = locale or LOCALES.get(borrower.locale, "zh-CN")
    if locale not in LETTER_LOCALES:
        raise errorcodes.refuse(LegalError, "legal-locale", field="locale", locale=locale)
    issuer = _firm(firm)
    owed = amounts_on(borrower, as_of)
    if not owed.total.total:
        raise errorcodes.refuse(LegalError, "legal-nothing-overdue", field="as_of", day=as_of)
    try:
        return _issue(case, as_of, template, issuer, locale, owed, work_item)
    except IntegrityError:  # issued meanwhile by another process: that one stands
        letter = LegalLetter.objects.get(case=case, template=template, letter_date=as_of)
        _link_work_item(letter, work_item)
        return letter


def _issue(
    case: Case,
    as_of: date,
    template: str,
    issuer: LawFirm,
    locale: str,
    owed: LetterAmounts,
    work_item: WorkItem | None,
) -> LegalLetter:
    """Credential, PDF, letter, message and case event, all or nothing."""
    borrower = case.borrower
    now = timezone.now()
    reference = _reference(case, template, as_of)
    lender = lender_name(locale)
    valid_days = int(getattr(settings, "ARREARS_LEGAL_LETTER_VALID_DAYS", DEFAULT_VALID_DAYS))
    en, zh = _AUTHORISES[template]
    with transaction.atomic():
        issued = verification.issue(
            kind="lawyer_letter",
            holder=issuer.display_name(locale),
            issuer_kind="law_firm",
            issuer_name=issuer.display_name(locale),
            authorises_en=en % {"date": as_of.isoformat(), "lender": lender_name("en")},
            authorises_zh=zh % {"date": as_of.isoformat(), "lender": lender_name("zh-CN")},
            valid_from=_start_of(as_of),
            valid_to=_start_of(as_of + timedelta(days=max(1, valid_days))),
            issued_at=now,
            case=case,
            document_ref=reference,
        )
        content = pdf.render(
            pdf.LetterFacts(
                template=template,
                locale=locale,
                reference=reference,
                letter_date=as_of,
                firm=pdf.Firm(
                    issuer.display_name(locale), issuer.licence_number, issuer.address, issuer.phone
                ),
                lender_name=lender,
                borrower_name=borrower.name,
                borrower_address=borrower.postal_address.strip(),
                currency=owed.currency,
                rows=owed.rows,
                total=owed.total,
                repayment_channels=_setting("ARREARS_REPAYMENT_CHANNELS", locale),
                complaint_channel=_setting("ARREARS_COMPLAINT_CHANNEL", locale),
                code=issued.code,
                verify_url=check_url(issued.code),
            )
        )
        sha256 = hashlib.sha256(content).hexdigest()
        path = _store(f"{reference}-{sha256[:12]}", content)
        channel = delivery_channel(borrower)
        letter = LegalLetter.objects.create(
            case=case,
            firm=issuer,
            template=template,
            letter_date=as_of,
            locale=locale,
            reference=reference,
            currency=owed.currency,
            principal_overdue_minor=owed.total.principal,
            interest_minor=owed.total.interest,
            penalty_minor=owed.total.penalty,
            compound_minor=owed.total.compound,
            fees_minor=owed.total.fees,
            total_minor=owed.total.total,
            loans=[_row(r) for r in owed.rows],
            credential=issued.credential,
            pdf_path=str(path),
            pdf_sha256=sha256,
            channel=channel,
            issued_at=now,
        )
        letter.message = _queue(letter, issued.code, channel, work_item)
        letter.save(update_fields=["message"])
        events.record(
            case,
            CaseEvent.Kind.LETTER,
            "",
            "",
            f"{_label(template)} {reference} issued by {issuer.name}, "
            f"code …{issued.credential.code_hint}; queued to go by {channel} through the gate",
            None,
            as_of,
            key=f"legal:{reference}:issued",
        )
    return letter


def _values(row: pdf.Amounts) -> tuple[int, int, int, int, int, int]:
    return (row.principal, row.interest, row.penalty, row.compound, row.fees, row.total)


def _row(row: pdf.Amounts) -> dict[str, Any]:
    names = ("principal_overdue", "interest", "penalty", "compound", "fees", "total")
    return {"ref": row.label, **dict(zip(names, _values(row), strict=True))}


def _label(template: str) -> str:
    return "lawyer's letter" if template == "lawyer_letter" else "legal notice"


def _store(name: str, content: bytes) -> Path:
    """Write the PDF as ``<dir>/<name>.pdf`` (atomically: a temporary file renamed). The name
    holds the reference and the start of the SHA-256, so a second issuer racing for the same
    letter (whose transaction then fails) never overwrites the file of the one that stands."""
    directory = letter_dir()
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{name}.pdf"
    partial = directory / f".{name}.pdf.part"
    partial.write_bytes(content)
    partial.replace(target)
    return target


def _queue(letter: LegalLetter, code: str, channel: str, work_item: WorkItem | None) -> Any:
    """The letter's outbox message under the contact's own key (see the module docstring)."""
    borrower = letter.case.borrower
    key = contact_key(borrower.pk, "letter", letter.template, letter.letter_date)
    item = work_item or WorkItem.objects.filter(key=key).first()
    message, _ = OutboxMessage.objects.get_or_create(
        key=f"wi:{key}",
        defaults={
            "work_item": item,
            "borrower": borrower,
            "case_id": letter.case_id,
            "channel": channel,
            "template": letter.template,
            "locale": letter.locale,
            "not_before": _start_of(letter.letter_date),
            "due_on": letter.letter_date,
            "expires_at": valid_until(channel, letter.template, letter.letter_date),
            "verification_code": code,
        },
    )
    return message


def _link_work_item(letter: LegalLetter, work_item: WorkItem | None) -> None:
    if work_item is not None and letter.message_id is not None:
        OutboxMessage.objects.filter(pk=letter.message_id, work_item__isnull=True).update(
            work_item=work_item
        )


def withdraw_letter(letter: LegalLetter, *, by: Any, reason: str, at: datetime) -> LegalLetter:
    """Withdraw a letter: its code stops verifying from ``at``, a message not yet sent is
    suppressed, and the case records why. Withdrawing twice keeps the first withdrawal."""
    if not reason.strip():
        raise errorcodes.refuse(LegalError, "legal-withdraw-reason", field="reason")
    with transaction.atomic():
        locked = LegalLetter.objects.select_for_update().get(pk=letter.pk)
        if locked.status == LegalLetter.Status.WITHDRAWN:
            return locked
        verification.revoke(locked.credential, by=by, reason=reason, at=at)
        locked.status = LegalLetter.Status.WITHDRAWN
        locked.withdrawn_at = at
        locked.withdrawn_by = by
        locked.withdrawn_reason = reason.strip()[:400]
        locked.save(update_fields=["status", "withdrawn_at", "withdrawn_by", "withdrawn_reason"])
        if locked.message_id is not None:
            OutboxMessage.objects.filter(
                pk=locked.message_id, status=OutboxMessage.Status.QUEUED
            ).update(
                status=OutboxMessage.Status.SUPPRESSED,
                status_reason=f"letter withdrawn: {locked.withdrawn_reason}",
            )
        events.record(
            locked.case,
            CaseEvent.Kind.LETTER,
            "",
            "",
            f"{_label(locked.template)} {locked.reference} withdrawn: {locked.withdrawn_reason}",
            by,
            timezone.localdate(at),
            key=f"legal:{locked.reference}:withdrawn",
        )
    return locked


def letters_day(day: date) -> str:
    """The day step: every pending letter work item of ``day`` becomes a letter and its message
    (re-running the day issues nothing new). A work item whose letter cannot be issued is
    cancelled with the reason, so the outbox does not send a text-only letter in its place.

    When no firm is active, every item that would be issued now (no letter yet, a letter
    locale) is refused for that one reason in one UPDATE, instead of asking for the firm
    once per item: a book's first day can ask for thousands of letters."""
    items = list(
        WorkItem.objects.filter(
            due_on=day,
            status=WorkItem.Status.PENDING,
            channel="letter",
            template__in=TEMPLATES,
            case__isnull=False,
        )
        .exclude(messages__isnull=False)
        .select_related("case__borrower")
    )
    no_firm = None
    if items:
        try:
            _firm(None)
        except ArrearsError as error:
            no_firm = error
    issued_before: set[tuple[int, str]] = set()
    if no_firm is not None:
        cases = sorted({item.case_id for item in items if item.case_id is not None})
        for start in range(0, len(cases), 5000):
            issued_before.update(
                LegalLetter.objects.filter(
                    case_id__in=cases[start : start + 5000], letter_date=day
                ).values_list("case_id", "template")
            )
    issued = refused = 0
    unissuable: list[int] = []
    for item in items:
        assert item.case is not None
        locale = LOCALES.get(item.case.borrower.locale, "zh-CN")
        if (
            no_firm is not None
            and (item.case_id, item.template) not in issued_before
            and locale in LETTER_LOCALES
        ):
            unissuable.append(item.pk)
            continue
        try:
            issue_letter(item.case, day, template=item.template, work_item=item)
        except ArrearsError as error:
            WorkItem.objects.filter(pk=item.pk, status=WorkItem.Status.PENDING).update(
                status=WorkItem.Status.CANCELLED,
                status_reason=f"cannot issue the letter: {error}"[:200],
                completed_at=timezone.now(),
            )
            refused += 1
            continue
        issued += 1
    for start in range(0, len(unissuable), 5000):
        refused += WorkItem.objects.filter(
            pk__in=unissuable[start : start + 5000], status=WorkItem.Status.PENDING
        ).update(
            status=WorkItem.Status.CANCELLED,
            status_reason=f"cannot issue the letter: {no_firm}"[:200],
            completed_at=timezone.now(),
        )
    return f"{day}: {issued} letter(s) issued, {refused} refused"


def document_for(message: OutboxMessage) -> documents.Document | None:
    """The issued PDF of the letter ``message`` carries (``contact.documents`` provider)."""
    if message.template not in TEMPLATES:
        return None
    letter = LegalLetter.objects.filter(message=message).select_related("firm").first()
    if letter is None:
        return None
    if letter.status == LegalLetter.Status.WITHDRAWN:
        raise errorcodes.refuse(LegalError, "legal-withdrawn", reference=letter.reference)
    return documents.Document(
        content=letter_pdf(letter),
        name=f"{letter.reference}.pdf",
        variables={"law_firm": letter.firm.display_name(letter.locale)},
        template_channel="letter",
    )


def letter_pdf(letter: LegalLetter) -> bytes:
    """The letter's PDF as issued; refused when the file is gone or its SHA-256 differs."""
    try:
        content = Path(letter.pdf_path).read_bytes()
    except OSError:
        content = b""
    if hashlib.sha256(content).hexdigest() != letter.pdf_sha256:
        raise errorcodes.refuse(LegalError, "legal-pdf-damaged", reference=letter.reference)
    return content
