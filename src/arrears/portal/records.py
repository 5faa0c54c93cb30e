"""What the history, complaints and notices pages read — always scoped to one borrower.

Like ``portal.selectors``: every query starts from the signed-in borrower, so an id typed
into a URL is only ever looked up among their own records (404 for anyone else's, whether
or not it exists). Names shown are the ones people are meant to see — a collector's display
name, an agency's name, a field agent's name as printed on their authorisation — never a
login name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.translation import gettext, pgettext

from arrears.agencies.models import Placement
from arrears.collections.models import ContactAttempt
from arrears.complaints.models import Complaint
from arrears.contact.models import OutboxMessage
from arrears.fieldwork.models import FieldVisit
from arrears.ledger.masking import mask_phone
from arrears.ledger.models import Borrower
from arrears.notices.context import SPECS
from arrears.portal.callers import agency_name, in_language

#: Messages that left us (an uncertain one may have reached the borrower: it is shown).
SENT = (
    OutboxMessage.Status.SENT,
    OutboxMessage.Status.DELIVERED,
    OutboxMessage.Status.UNCERTAIN,
)
#: Rows on one page of the history.
PAGE_SIZE = 20


def channel_label(channel: str) -> str:
    """A channel in plain words (outbox channels and logged ones; ``voice`` is a robocall)."""
    labels = {
        "sms": pgettext("portal channel", "Text message"),
        "voice": pgettext("portal channel", "Recorded voice call"),
        "call": pgettext("portal channel", "Phone call"),
        "email": pgettext("portal channel", "E-mail"),
        "letter": pgettext("portal channel", "Letter"),
        "in_app": pgettext("portal channel", "In-app message"),
        "visit": pgettext("portal channel", "Home visit"),
    }
    return str(labels.get(channel, channel))


def party_label(party: str) -> str:
    labels = {
        "borrower": pgettext("portal party", "You"),
        "co_borrower": pgettext("portal party", "Your co-borrower"),
        "emergency_contact": pgettext("portal party", "Your emergency contact"),
        "third_party": pgettext("portal party", "Someone else"),
    }
    return str(labels.get(party, party))


def template_label(code: str, chinese: bool) -> str:
    """A template's human name from ``notices.context.SPECS`` in the page's language."""
    spec = SPECS.get(code)
    if spec is None:
        return gettext("Message")
    return spec.zh if chinese else spec.en


def lender_name(chinese: bool) -> str:
    return in_language(dict(getattr(settings, "ARREARS_LENDER_NAME", {})), chinese)


@dataclass(frozen=True)
class HistoryRow:
    """One contact as the borrower sees it."""

    at: datetime
    channel: str
    what: str
    who: str
    to: str
    contact_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "channel": self.channel,
            "what": self.what,
            "who": self.who,
            "to": self.to,
            "contact": self.contact_id,
        }


def sent_messages(borrower: Borrower) -> QuerySet[OutboxMessage]:
    return (
        OutboxMessage.objects.filter(borrower=borrower, status__in=SENT)
        .annotate(when=Coalesce("sent_at", "handed_at", "created_at"))
        .order_by("-when", "-id")
    )


def contacts_of(borrower: Borrower) -> QuerySet[ContactAttempt]:
    """Contacts the lender's people and its agencies made about this borrower (outbound)."""
    return (
        ContactAttempt.objects.filter(
            case__borrower=borrower, direction=ContactAttempt.Direction.OUTBOUND
        )
        .select_related("collector", "agency", "phone")
        .order_by("-at", "-id")
    )


def contact_of(borrower: Borrower, contact_id: int) -> ContactAttempt:
    """One of the borrower's contacts; 404 for anyone else's."""
    found: ContactAttempt | None = contacts_of(borrower).filter(pk=contact_id).first()
    if found is None:
        raise Http404("no such contact")
    return found


def who_contacted(contact: ContactAttempt, visitors: list[str], chinese: bool) -> str:
    """The visitors' names, the agency, the collector's display name or our team — in that
    order; never a login name."""
    if visitors:
        return ", ".join(visitors)
    if contact.agency is not None:
        return agency_name(contact.agency, chinese)
    if contact.collector is not None and contact.collector.get_full_name().strip():
        return str(contact.collector.get_full_name().strip())
    return gettext("%(lender)s collections team") % {"lender": lender_name(chinese)}


def _visitors(contact_ids: list[int]) -> dict[int, list[str]]:
    """Field agents' names (as on their authorisation) for visits logged as these contacts."""
    found: dict[int, list[str]] = {}
    visits = FieldVisit.objects.filter(contact_id__in=contact_ids).prefetch_related("agents")
    for visit in visits:
        if visit.contact_id is not None:
            found[visit.contact_id] = sorted(a.full_name for a in visit.agents.all())
    return found


def contact_row(contact: ContactAttempt, visitors: list[str], chinese: bool) -> HistoryRow:
    to = party_label(contact.party)
    if contact.phone is not None:
        to = f"{to} ({mask_phone(contact.phone.number)})"
    return HistoryRow(
        at=contact.at,
        channel=channel_label(contact.channel),
        what=channel_label(contact.channel),
        who=who_contacted(contact, visitors, chinese),
        to=to,
        contact_id=contact.pk,
    )


def message_row(message: OutboxMessage, chinese: bool) -> HistoryRow:
    to = message.masked_address if message.channel != "in_app" else gettext("in the app")
    return HistoryRow(
        at=message.when,
        channel=channel_label(message.channel),
        what=template_label(message.template, chinese),
        who=lender_name(chinese),
        to=to,
    )


@dataclass(frozen=True)
class HistoryPage:
    rows: list[HistoryRow]
    number: int
    pages: int
    total: int

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


def page_number(text: str) -> int:
    """A page number as typed: digits only, else the first page."""
    return int(text) if text.isdigit() and 0 < len(text) < 7 else 1


def history(borrower: Borrower, number: int, chinese: bool, size: int = PAGE_SIZE) -> HistoryPage:
    """Page ``number`` of every contact, newest first: messages sent and contacts logged.

    The two sources are merged without loading either whole: the first ``number × size``
    rows of each, newest first, hold every row of the page.
    """
    messages = sent_messages(borrower)
    contacts = contacts_of(borrower)
    total = messages.count() + contacts.count()
    pages = max(1, -(-total // size))
    number = min(max(number, 1), pages)
    reach = number * size
    found_contacts = list(contacts[:reach])
    names = _visitors([c.pk for c in found_contacts if c.channel == "visit"])
    rows = [message_row(m, chinese) for m in messages[:reach]]
    rows += [contact_row(c, names.get(c.pk, []), chinese) for c in found_contacts]
    rows.sort(key=lambda r: r.at, reverse=True)
    return HistoryPage(rows[reach - size : reach], number, pages, total)


def recent_contacts(borrower: Borrower, chinese: bool, limit: int = 30) -> list[HistoryRow]:
    """The latest contacts a complaint can name."""
    found = list(contacts_of(borrower)[:limit])
    names = _visitors([c.pk for c in found if c.channel == "visit"])
    return [contact_row(c, names.get(c.pk, []), chinese) for c in found]


def complaints_of(borrower: Borrower) -> QuerySet[Complaint]:
    return Complaint.objects.filter(borrower=borrower).select_related("hold")


def complaint_of(borrower: Borrower, reference: str) -> Complaint:
    found: Complaint | None = complaints_of(borrower).filter(reference=reference[:20]).first()
    if found is None:
        raise Http404("no such complaint")
    return found


def placements_of(borrower: Borrower) -> list[Placement]:
    """Every placement of the borrower's cases with an agency, live ones first, newest first."""
    rows = Placement.objects.filter(case__borrower=borrower).select_related("agency")
    return sorted(rows, key=lambda p: (p.recalled_on is not None, -p.placed_on.toordinal(), -p.pk))


def in_app_messages(borrower: Borrower) -> QuerySet[OutboxMessage]:
    return sent_messages(borrower).filter(channel="in_app")


def credit_reporting_notice(chinese: bool) -> str:
    return in_language(dict(getattr(settings, "ARREARS_CREDIT_REPORTING_NOTICE", {})), chinese)
