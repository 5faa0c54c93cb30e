"""A letter leaves through the outbox and the gate carrying the PDF as issued: printed by the
letter channel byte for byte, or attached to an e-mail (a real SMTP server on the loopback)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from arrears.channels.letter import PdfLetters
from arrears.channels.smtp import SmtpEmail
from arrears.collections.models import Case
from arrears.contact import dispatch
from arrears.contact.models import OutboxMessage
from arrears.ledger import models
from arrears.legal import services
from arrears.legal.models import LawFirm
from tests.smtp import Mailbox, smtp_server

from .conftest import DAY

SH = ZoneInfo("Asia/Shanghai")
TEN = datetime(DAY.year, DAY.month, DAY.day, 10, tzinfo=SH)


@pytest.fixture
def queue(tmp_path: Path) -> Path:
    """The letter print queue (the channel's reference is the file's full path: pytest's deep
    tmp paths also check that it fits ``OutboxMessage.provider_ref``)."""
    return tmp_path / "print-queue"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as running:
        yield running


def test_the_letter_channel_prints_the_issued_pdf(case: Case, firm: LawFirm, queue: Path) -> None:
    letter = services.issue_letter(case, DAY)
    summary = dispatch.dispatch_once({"letter": PdfLetters(queue)}, now=lambda: TEN)
    message = OutboxMessage.objects.get()
    assert summary.sent == 1, message.status_reason
    assert message.decisions.get().outcome == "allow"  # through the gate
    (printed,) = queue.glob("*.pdf")
    assert printed.read_bytes() == services.letter_pdf(letter)
    assert "演示律师事务所" in message.body  # the text names the letter's firm
    assert message.verification_code in message.body


def test_an_email_carries_the_pdf_as_an_attachment(
    case: Case, firm: LawFirm, borrower: models.Borrower, mailbox: tuple[Mailbox, int]
) -> None:
    borrower.postal_address = ""
    borrower.email = "zhang.san@example.cn"
    borrower.save(update_fields=["postal_address", "email"])
    letter = services.issue_letter(case, DAY)
    box, port = mailbox
    email = SmtpEmail(
        host="127.0.0.1", port=port, from_addr="legal@arrears.example", starttls=False
    )
    summary = dispatch.dispatch_once({"email": email}, now=lambda: TEN)
    assert summary.sent == 1, OutboxMessage.objects.get().status_reason
    (mail,) = box.received
    (attached,) = [part for part in mail.iter_attachments()]
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_filename() == f"{letter.reference}.pdf"
    assert attached.get_content() == services.letter_pdf(letter)
    body = mail.get_body(("plain",))
    assert body is not None and letter.message is not None
    assert letter.message.verification_code in body.get_content()


def test_an_altered_pdf_fails_the_message_instead_of_sending_it(
    case: Case, firm: LawFirm, tmp_path: Path
) -> None:
    letter = services.issue_letter(case, DAY)
    Path(letter.pdf_path).write_bytes(b"%PDF-1.4 forged")
    queue = tmp_path / "print-queue"
    summary = dispatch.dispatch_once({"letter": PdfLetters(queue)}, now=lambda: TEN)
    assert summary.failed == 1 and not list(queue.glob("*.pdf"))
    assert "SHA-256" in OutboxMessage.objects.get().status_reason
