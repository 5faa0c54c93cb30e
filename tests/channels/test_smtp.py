"""Email against a real SMTP server (aiosmtpd) on a loopback port."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from arrears.channels import ChannelConfigError, OutboundMessage
from arrears.channels.smtp import SmtpEmail, message_id

from .servers import closed_port

NOW = datetime(2026, 2, 16, 1, 30, 5, tzinfo=UTC)
FROM = "collections@arrears.example"


class Mailbox:
    """Accepts mail like a relay would; some recipients are refused on purpose."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address.startswith("full@"):
            return "452 4.2.2 Mailbox full, try again later"
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 Message accepted for delivery"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = closed_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def _email(port: int, **kw: Any) -> SmtpEmail:
    kw.setdefault("starttls", False)
    return SmtpEmail(host="127.0.0.1", port=port, from_addr=FROM, clock=lambda: NOW, **kw)


def _mail(make_message: Callable[..., OutboundMessage], **kw: Any) -> OutboundMessage:
    defaults: dict[str, Any] = {
        "channel": "email",
        "to": "zhang.san@example.cn",
        "subject": "逾期还款提醒 / Overdue reminder",
    }
    defaults.update(kw)
    return make_message(**defaults)


def test_the_server_receives_exactly_the_message(
    mailbox: tuple[Mailbox, int], make_message: Callable[..., OutboundMessage]
) -> None:
    box, port = mailbox
    channel = _email(port)
    message = _mail(make_message)
    result = channel.send(message)
    expected_id = message_id(message.idempotency_key, "arrears.example")
    assert result.status == "sent"
    assert result.provider_ref == expected_id
    assert len(box.received) == 1
    mail_from, rcpt_tos, raw = box.received[0]
    assert (mail_from, rcpt_tos) == (FROM, ["zhang.san@example.cn"])
    assert raw == channel.build(message).as_bytes()  # byte for byte what we built

    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    assert {k: str(v) for k, v in parsed.items()} == {
        "From": "演示消费金融 <collections@arrears.example>",
        "To": "zhang.san@example.cn",
        "Subject": "逾期还款提醒 / Overdue reminder",
        "Date": "Mon, 16 Feb 2026 01:30:05 +0000",
        "Message-ID": expected_id,
        "Content-Language": "zh-CN",
        "Auto-Submitted": "auto-generated",
        "MIME-Version": "1.0",
        "Content-Type": parsed["Content-Type"],
    }
    assert parsed.get_content_type() == "multipart/alternative"
    # the headers on the wire are pure ASCII (RFC 2047 encoded words)
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    assert b"=?utf-8?" in head
    text, html = (part for part in parsed.iter_parts())
    assert text.get_content_type() == "text/plain"
    assert text.get_content_charset() == "utf-8"
    assert text.get_content() == message.body + "\r\n"  # MIME canonical text: CRLF
    assert html.get_content_type() == "text/html"
    assert "【演示消费金融】张三您好" in html.get_content()


def test_html_part_escapes_the_text(
    mailbox: tuple[Mailbox, int], make_message: Callable[..., OutboundMessage]
) -> None:
    box, port = mailbox
    body = "Amount due: <b>$120.00</b> & penalty\n\nSecond paragraph"
    _email(port).send(_mail(make_message, body=body, locale="en"))
    parsed = message_from_bytes(box.received[0][2], policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    html = list(parsed.iter_parts())[1].get_content()
    assert "<p>Amount due: &lt;b&gt;$120.00&lt;/b&gt; &amp; penalty</p>" in html
    assert "<p>Second paragraph</p>" in html


def test_a_second_hand_over_carries_the_same_message_id(
    mailbox: tuple[Mailbox, int], make_message: Callable[..., OutboundMessage]
) -> None:
    box, port = mailbox
    channel = _email(port)
    message = _mail(make_message)
    other = _mail(make_message, idempotency_key="wi:case13:reminder:email:2026-02-16:default:v1")
    refs = [channel.send(m).provider_ref for m in (message, message, other)]
    assert refs[0] == refs[1] != refs[2]
    ids = [message_from_bytes(raw)["Message-ID"] for _, _, raw in box.received]
    assert ids == refs


@pytest.mark.parametrize(
    ("to", "status", "code"),
    [("full@example.cn", "retry", "SMTP 452"), ("nobody@example.cn", "failed", "SMTP 550")],
)
def test_refused_recipients_are_classified_by_reply_code(
    mailbox: tuple[Mailbox, int],
    make_message: Callable[..., OutboundMessage],
    to: str,
    status: str,
    code: str,
) -> None:
    box, port = mailbox
    result = _email(port).send(_mail(make_message, to=to))
    assert result.status == status
    assert result.detail.startswith(code)
    assert box.received == []


def test_no_server_is_retried(make_message: Callable[..., OutboundMessage]) -> None:
    result = _email(closed_port()).send(_mail(make_message))
    assert result.status == "retry"
    assert result.detail.startswith("not sent")


def test_starttls_required_but_not_offered_fails(
    mailbox: tuple[Mailbox, int], make_message: Callable[..., OutboundMessage]
) -> None:
    _, port = mailbox
    result = _email(port, starttls=True).send(_mail(make_message))
    assert result.status == "failed"
    assert "STARTTLS" in result.detail


def test_configuration_errors_name_the_variable() -> None:
    with pytest.raises(ChannelConfigError, match="ARREARS_SMTP_FROM"):
        SmtpEmail(host="smtp.example", from_addr="")
    with pytest.raises(ChannelConfigError, match="ARREARS_SMTP_PASSWORD"):
        SmtpEmail(host="smtp.example", from_addr=FROM, username="u")


# --- STARTTLS and login ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


class Accounts:
    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            b"arrears",
            b"s3cret",
        )
        return AuthResult(success=ok, handled=False)


@pytest.fixture
def secure_mailbox(certificate: tuple[Path, Path]) -> Iterator[tuple[Mailbox, int]]:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box = Mailbox()
    port = closed_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=Accounts(),
        auth_required=True,
    )
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def test_starttls_then_login(
    secure_mailbox: tuple[Mailbox, int],
    certificate: tuple[Path, Path],
    make_message: Callable[..., OutboundMessage],
) -> None:
    box, port = secure_mailbox
    trust = ssl.create_default_context(cafile=str(certificate[0]))
    channel = _email(port, starttls=True, ssl_context=trust, username="arrears", password="s3cret")
    assert channel.send(_mail(make_message)).status == "sent"
    assert len(box.received) == 1


def test_wrong_password_fails(
    secure_mailbox: tuple[Mailbox, int],
    certificate: tuple[Path, Path],
    make_message: Callable[..., OutboundMessage],
) -> None:
    _, port = secure_mailbox
    trust = ssl.create_default_context(cafile=str(certificate[0]))
    channel = _email(port, starttls=True, ssl_context=trust, username="arrears", password="no")
    result = channel.send(_mail(make_message))
    assert result.status == "failed"
    assert result.detail.startswith("SMTP 535")


def test_an_untrusted_certificate_fails(
    secure_mailbox: tuple[Mailbox, int], make_message: Callable[..., OutboundMessage]
) -> None:
    _, port = secure_mailbox
    result = _email(port, starttls=True, username="arrears", password="s3cret").send(
        _mail(make_message)
    )
    assert result.status == "failed"
    assert result.detail.startswith("TLS certificate not trusted")


def test_an_attachment_travels_as_a_pdf_part(
    mailbox: tuple[Mailbox, int], make_message: Callable[..., OutboundMessage]
) -> None:
    box, port = mailbox
    channel = _email(port)
    pdf = b"%PDF-1.4\n% a lawyer's letter\n%%EOF\n"
    message = _mail(make_message, attachment=pdf, attachment_name="lawyer-letter-7.pdf")
    assert channel.send(message).status == "sent"
    raw = box.received[0][2]
    assert raw == channel.build(message).as_bytes()  # reproducible, boundaries included
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed.get_content_type() == "multipart/mixed"
    body, attached = parsed.iter_parts()
    assert body.get_content_type() == "multipart/alternative"
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_filename() == "lawyer-letter-7.pdf"
    assert attached.get_content() == pdf
    text = parsed.get_body(("plain",))
    assert text is not None and text.get_content().strip() == message.body
