"""A message that carries a finished document: rendered with the document's values, sent with it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from arrears.contact import dispatch, documents, render
from arrears.contact.models import OutboxMessage
from arrears.ledger import models
from tests.contact.conftest import DAY, TEXT, Recorder, at

PDF = b"%PDF-1.4 the issued letter"


@pytest.fixture
def letter_document(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """A provider for messages keyed ``doc:*`` and a template renderer that records the
    channel it was asked for."""
    asked: list[tuple[str, str]] = []

    def template(message: Any, context: dict[str, str], channel: str = "") -> tuple[str, str]:
        asked.append((channel or message.channel, context.get("law_firm", "")))
        return "律师函", TEXT.format(**context) + context.get("law_firm", "")

    monkeypatch.setattr(render, "_render_template", template)

    def provider(message: OutboxMessage) -> documents.Document | None:
        if not message.key.startswith("doc:"):
            return None
        return documents.Document(
            PDF, "letter-1.pdf", {"law_firm": "某某律师事务所"}, template_channel="letter"
        )

    documents.register("test", provider)
    yield asked
    documents._PROVIDERS.pop("test")


def _message(borrower: models.Borrower, key: str, channel: str) -> OutboxMessage:
    return OutboxMessage.objects.create(
        key=key,
        borrower=borrower,
        channel=channel,
        template="lawyer_letter",
        locale="zh-CN",
        not_before=at(9),
        due_on=DAY,
        expires_at=at(9) + timedelta(days=14),
        verification_code="ABCD-EFGH-JKMN-PQRS",
    )


def test_an_email_carries_the_document_and_the_letters_wording(
    book: list[models.Borrower], letter_document: list[tuple[str, str]]
) -> None:
    book[0].email = "zhang.san@example.cn"
    book[0].save(update_fields=["email"])
    _message(book[0], "doc:1", "email")
    _message(book[1], "wi:plain", "sms")
    email, sms = Recorder("email"), Recorder("sms")
    summary = dispatch.dispatch_once({"email": email, "sms": sms}, now=lambda: at(10))
    assert summary.sent == 2, OutboxMessage.objects.values_list("status_reason", flat=True)
    (sent,) = email.sent
    assert sent.attachment == PDF and sent.attachment_name == "letter-1.pdf"
    assert "某某律师事务所" in sent.body and "ABCD-EFGH-JKMN-PQRS" in sent.body
    assert sms.sent[0].attachment is None
    assert ("letter", "某某律师事务所") in letter_document  # the letter's template, by email
    stored = OutboxMessage.objects.get(key="doc:1")
    assert stored.verification_code == "ABCD-EFGH-JKMN-PQRS"  # 19 characters fit
