"""Letters: an A4 PDF per message, written into the print-queue directory.

``ARREARS_LETTER_DIR`` *is* the print queue: whatever picks letters up for printing and
posting takes the ``*.pdf`` files there. Each letter is ``<idempotency_key>.pdf`` and is
written atomically — rendered in memory, written to a hidden ``.part`` file in the same
directory, flushed to disk, then hard-linked into place — so the queue never shows a
half-written letter, and a second hand-over of the same key finds the file and leaves it alone
(the same reference comes back; nothing is printed twice).

A message that carries a finished PDF (``OutboundMessage.attachment``, e.g. a lawyer's letter
with its table of amounts and QR code) is queued as given, byte for byte, so the printed letter
is exactly the document whose SHA-256 was recorded when it was issued.

The font is ReportLab's built-in CID font ``STSong-Light`` (Adobe's Song, GB 2312 character
collection, which also covers Latin), so Chinese and English letters need no font files.
Paragraphs that contain CJK text wrap at any character; others wrap at spaces.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer  # type: ignore[import-untyped]

from arrears.channels.base import (
    ChannelConfigError,
    OutboundMessage,
    SendResult,
    failed,
    retry,
    sent,
)
from arrears.channels.pdfparts import cjk_font

_SAFE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,199}")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def file_name(idempotency_key: str) -> str:
    """``<key>.pdf`` when the key is a safe file name; otherwise a sanitised name plus a hash
    of the key, so two different keys never share a file."""
    if _SAFE_KEY.fullmatch(idempotency_key):
        return f"{idempotency_key}.pdf"
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", idempotency_key).lstrip("._")[:120]
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]
    return f"{cleaned or 'letter'}-{digest}.pdf"


def _date_line(day: date, locale: str) -> str:
    if locale.lower().startswith("zh"):
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {day:%B} {day.year}"


def _paragraph(text: str, style: ParagraphStyle) -> Paragraph:
    markup = escape(text).replace("\n", "<br/>")
    if _CJK.search(text):
        style = ParagraphStyle(f"{style.name}-cjk", parent=style, wordWrap="CJK")
    return Paragraph(markup, style)


def render_pdf(message: OutboundMessage, day: date) -> bytes:
    """The letter as PDF bytes: sender, date, address block, subject, body paragraphs.

    ``invariant`` makes the bytes depend on the content only (no creation timestamp or random
    document id), so the same letter renders to the same file.
    """
    font = cjk_font()
    base = ParagraphStyle("body", fontName=font, fontSize=11, leading=17, spaceAfter=8)
    small = ParagraphStyle("small", parent=base, fontSize=9, leading=13, spaceAfter=0)
    heading = ParagraphStyle("subject", parent=base, fontSize=14, leading=20, spaceAfter=12)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=message.subject,
        author=message.sender_name,
        invariant=True,
    )
    story: list[Paragraph | Spacer] = []
    if message.sender_name:
        story.append(_paragraph(message.sender_name, small))
    story.append(_paragraph(_date_line(day, message.locale), small))
    story.append(Spacer(1, 12 * mm))
    story.extend(_paragraph(line, small) for line in message.to.splitlines() if line.strip())
    story.append(Spacer(1, 14 * mm))
    story.append(_paragraph(message.subject, heading))
    for block in re.split(r"\n\s*\n", message.body.replace("\r\n", "\n")):
        if block.strip():
            story.append(_paragraph(block.strip(), base))
    doc.build(story)
    return buffer.getvalue()


class PdfLetters:
    """Letters as PDF files in a print-queue directory."""

    name = "letter"
    provider = "pdf"

    def __init__(self, directory: str | Path, *, today: Callable[[], date] = date.today) -> None:
        if not str(directory):
            raise ChannelConfigError("ARREARS_LETTER_DIR")
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ChannelConfigError("ARREARS_LETTER_DIR", f"cannot be created: {exc}") from exc
        self._today = today

    def path_for(self, message: OutboundMessage) -> Path:
        return self.directory / file_name(message.idempotency_key)

    def send(self, message: OutboundMessage) -> SendResult:
        target = self.path_for(message)
        if target.exists():
            return sent(str(target), "already in the print queue")
        if not message.to.strip():
            return failed("no postal address")
        if message.attachment is not None:
            if not message.attachment.startswith(b"%PDF-"):
                return failed("the attached letter is not a PDF")
            try:
                return self._publish(target, message.attachment)
            except OSError as exc:
                return retry(f"cannot write {target}: {exc}")
        try:
            pdf = render_pdf(message, self._today())
        except Exception as exc:  # a letter ReportLab cannot lay out is this message's fault
            return failed(f"cannot render letter: {type(exc).__name__}: {exc}")
        try:
            return self._publish(target, pdf)
        except OSError as exc:
            return retry(f"cannot write {target}: {exc}")

    def _publish(self, target: Path, pdf: bytes) -> SendResult:
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{target.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(pdf)
                out.flush()
                os.fsync(out.fileno())
            try:
                os.link(tmp, target)  # atomic and never overwrites
            except FileExistsError:
                return sent(str(target), "already in the print queue")
            except OSError:  # a file system without hard links: rename, after a last check
                if target.exists():
                    return sent(str(target), "already in the print queue")
                os.replace(tmp, target)
            _fsync_dir(self.directory)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return sent(str(target))


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
