"""The resolution letter (处理答复函) as a PDF, in the borrower's language.

The resolution SMS tells the borrower "our written reply explains what we found and what we
did"; this is that reply: reference, dates, finding, root cause, what was done, where to go if
they are not satisfied. It is rendered from the complaint as it stands (a resolved complaint
never changes), served at ``/complaints/<id>/letter.pdf`` and, through
``contact.documents``, attached to the resolution message when it goes by letter or email.
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from arrears.channels.pdfparts import cjk_font
from arrears.complaints import messages
from arrears.complaints.models import Complaint
from arrears.contact import documents

#: The borrower's locale (``ledger.Borrower.locale``) -> the notices' locale key.
NOTICE_LOCALE = {"zh-hans": "zh-CN", "en": "en"}
MARGIN = 50
WIDTH = A4[0] - 2 * MARGIN


def wrap(text: str, font: str, size: float, width: float = WIDTH) -> list[str]:
    """Lines no wider than ``width``: breaks at spaces where there are some, else anywhere
    (Chinese has no spaces); the text's own line breaks are kept."""
    out: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if stringWidth(candidate, font, size) <= width:
                line = candidate
                continue
            if line:
                out.append(line)
            line = ""
            for char in word:
                if stringWidth(line + char, font, size) > width and line:
                    out.append(line)
                    line = ""
                line += char
        out.append(line)
    return out


def _setting(name: str, locale: str) -> str:
    values: dict[str, str] = getattr(settings, name, {}) or {}
    return values.get(locale) or next(iter(values.values()), "")


def resolution_pdf(complaint: Complaint) -> bytes:
    """The letter in the borrower's language (Chinese unless the borrower chose English)."""
    language = complaint.borrower.locale if complaint.borrower.locale == "en" else "zh-hans"
    locale = NOTICE_LOCALE[language]
    with translation.override(language):
        return _render(complaint, locale)


def _render(complaint: Complaint, locale: str) -> bytes:
    font = cjk_font()
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=A4, invariant=True)
    pdf.setTitle(complaint.reference)
    y = A4[1] - MARGIN

    def write(text: str, size: float = 10.5, gap: float = 4) -> None:
        nonlocal y
        for line in wrap(text, font, size):
            if y < MARGIN:
                pdf.showPage()
                y = A4[1] - MARGIN
            pdf.setFont(font, size)
            pdf.drawString(MARGIN, y, line)
            y -= size + gap

    when = timezone.localtime(complaint.resolved_at) if complaint.resolved_at else None
    write(_setting("ARREARS_LENDER_NAME", locale), 12)
    title = (
        _("Reply to your dispute") if complaint.kind == "dispute" else _("Reply to your complaint")
    )
    write(title, 16, 10)
    write(_("Dear %(name)s,") % {"name": complaint.borrower.name})
    write(_("Reference: %(ref)s") % {"ref": complaint.reference})
    write(_("Received on: %(day)s") % {"day": timezone.localdate(complaint.received_at)})
    write(_("Category: %(category)s") % {"category": complaint.get_category_display()})
    if when is not None:
        write(_("Resolved on: %(day)s") % {"day": when.date()})
    finding = _("upheld") if complaint.upheld else _("not upheld")
    write(_("Our finding: %(finding)s") % {"finding": finding}, 12, 6)
    if complaint.root_cause:
        write(_("Root cause: %(cause)s") % {"cause": complaint.get_root_cause_display()})
    write(_("What we found and what we did:"), 12, 6)
    write(complaint.resolution)
    y -= 8
    channel = _setting("ARREARS_COMPLAINT_CHANNEL", locale)
    write(_("If you are not satisfied with this reply: %(channel)s") % {"channel": channel})
    write(
        _(
            "Please pay only through the official repayment channels; we will never ask you "
            "to pay into a personal account."
        )
    )
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def document_for(message: Any) -> documents.Document | None:
    """``contact.documents`` provider: the letter travels with a resolution message sent by
    letter or email (an SMS carries only the text)."""
    if message.template != messages.RESOLUTION_TEMPLATE or message.channel not in (
        "letter",
        "email",
    ):
        return None
    parts = str(message.key).split(":")
    if len(parts) != 3 or parts[0] != "complaint" or parts[2] != "resolution":
        return None
    found = Complaint.objects.filter(pk=int(parts[1]) if parts[1].isdigit() else 0).first()
    if found is None or found.status != Complaint.Status.RESOLVED:
        return None
    return documents.Document(
        content=resolution_pdf(found), name=f"{found.reference}.pdf", template_channel="sms"
    )
