"""Email over SMTP (stdlib ``smtplib`` / ``email``): one multipart/alternative message per send.

The message carries a plain-text part (the text the gate screened, verbatim) and an HTML part
that is the same text escaped into paragraphs, both UTF-8; a message that carries a finished
document (``OutboundMessage.attachment``: a lawyer's letter PDF) becomes multipart/mixed with
the document attached. Its ``Message-ID`` is derived from the idempotency key — a hash, so no
internal identifiers reach the borrower — which makes a duplicate hand-over recognisable to any
mail system and to us: the same key always produces the same ``Message-ID`` (and the same
boundaries, so the bytes are reproducible).

Transient vs permanent follows the SMTP reply class: 4xx (and connection trouble) → retry,
5xx → failed. A TLS certificate that does not verify is a configuration problem → failed.
"""

from __future__ import annotations

import hashlib
import html
import smtplib
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from arrears.channels.base import (
    ChannelConfigError,
    OutboundMessage,
    SendResult,
    failed,
    retry,
    sent,
)


def _digest(idempotency_key: str) -> str:
    return hashlib.sha256(idempotency_key.encode()).hexdigest()


def message_id(idempotency_key: str, domain: str) -> str:
    """``<sha256(key)[:32].arrears@domain>``: stable per key, opaque to the recipient."""
    return f"<{_digest(idempotency_key)[:32]}.arrears@{domain}>"


def _html(body: str) -> str:
    paragraphs = [p for p in body.replace("\r\n", "\n").split("\n\n") if p.strip()]
    inner = "\n".join("<p>" + html.escape(p).replace("\n", "<br>\n") + "</p>" for p in paragraphs)
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n'
        f"{inner}\n</body></html>\n"
    )


def _reply_result(code: int, text: bytes | str, what: str) -> SendResult:
    reply = text.decode(errors="replace") if isinstance(text, bytes) else text
    detail = f"SMTP {code} {reply} ({what})"
    if 400 <= code < 500:
        return retry(detail)
    return failed(detail)


class SmtpEmail:
    """Email through an SMTP relay, optionally with STARTTLS and login."""

    name = "email"
    provider = "smtp"

    def __init__(
        self,
        *,
        host: str,
        from_addr: str,
        port: int = 587,
        username: str = "",
        password: str = "",
        starttls: bool = True,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 10.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not host:
            raise ChannelConfigError("ARREARS_SMTP_HOST")
        if not from_addr or "@" not in from_addr:
            raise ChannelConfigError("ARREARS_SMTP_FROM", "must be an email address")
        if username and not password:
            raise ChannelConfigError("ARREARS_SMTP_PASSWORD", "is not set (ARREARS_SMTP_USER is)")
        self.host = host
        self.port = port
        self.from_addr = from_addr
        self.username = username
        self._password = password
        self.starttls = starttls
        self.ssl_context = ssl_context
        self.timeout = timeout
        self._clock = clock
        self.domain = from_addr.rsplit("@", 1)[1]

    def build(self, message: OutboundMessage) -> EmailMessage:
        """The exact message that goes on the wire (headers and both parts)."""
        mail = EmailMessage(policy=SMTP)
        local, _, domain = self.from_addr.partition("@")
        mail["From"] = Address(display_name=message.sender_name, username=local, domain=domain)
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Date"] = format_datetime(self._clock())
        mail["Message-ID"] = message_id(message.idempotency_key, self.domain)
        mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies loops
        mail.set_content(message.body, charset="utf-8", cte="base64")
        mail.add_alternative(_html(message.body), subtype="html", charset="utf-8", cte="base64")
        if message.attachment is not None:
            mail.add_attachment(
                message.attachment,
                maintype="application",
                subtype="pdf",
                filename=message.attachment_name or "letter.pdf",
            )
        mail["Content-Language"] = message.locale  # after set_content, which clears Content-*
        # a boundary of our own (deterministic per key) keeps the message reproducible; it
        # cannot occur in base64 text, which has no "-"
        mail.set_boundary(f"arrears-{_digest(message.idempotency_key)[:24]}")
        for n, part in enumerate(p for p in mail.iter_parts() if p.is_multipart()):
            part.set_boundary(f"arrears-{n}-{_digest(message.idempotency_key)[:22]}")
        return mail

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if self.starttls:
                smtp.starttls(context=self.ssl_context or ssl.create_default_context())
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self._password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: OutboundMessage) -> SendResult:
        try:
            mail = self.build(message)
        except (ValueError, UnicodeError) as exc:  # an address or text no header can carry
            return failed(f"cannot build the email: {type(exc).__name__}: {exc}")
        ref = str(mail["Message-ID"])
        try:
            smtp = self._connect()
        except smtplib.SMTPAuthenticationError as exc:
            return _reply_result(exc.smtp_code, exc.smtp_error, "login refused")
        except smtplib.SMTPNotSupportedError as exc:
            return failed(f"server lacks a required extension (STARTTLS or AUTH): {exc}")
        except smtplib.SMTPResponseException as exc:
            return _reply_result(exc.smtp_code, exc.smtp_error, "connect")
        except ssl.SSLCertVerificationError as exc:
            return failed(f"TLS certificate not trusted: {exc}")
        except (smtplib.SMTPException, OSError) as exc:
            return retry(f"not sent: {type(exc).__name__}: {exc}")
        try:
            smtp.send_message(mail, from_addr=self.from_addr, to_addrs=[message.to])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            return _reply_result(code, text, "recipient refused")
        except smtplib.SMTPNotSupportedError as exc:  # e.g. a UTF-8 address, no SMTPUTF8
            return failed(f"server cannot carry this message: {exc}")
        except smtplib.SMTPResponseException as exc:
            return _reply_result(exc.smtp_code, exc.smtp_error, "refused")
        except (smtplib.SMTPException, OSError) as exc:
            return retry(
                f"outcome unknown (connection lost during send): {type(exc).__name__}: {exc}"
            )
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
        return sent(ref)
