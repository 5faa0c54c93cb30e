"""Letters: a real PDF with Chinese text, in the print queue, written once per key."""

from __future__ import annotations

import base64
import re
import threading
import zlib
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from arrears.channels import ChannelConfigError, OutboundMessage, SendResult
from arrears.channels.letter import PdfLetters, file_name, render_pdf

from .conftest import BODY_ZH

ADDRESS = "张三\n上海市浦东新区世纪大道100号 8楼\n200120"
DAY = date(2026, 2, 16)


def _letter(make_message: Callable[..., OutboundMessage], **kw: object) -> OutboundMessage:
    fields: dict[str, object] = {
        "channel": "letter",
        "idempotency_key": "wi:case12:pre_placement:letter:2026-02-16:default:v1",
        "to": ADDRESS,
        "subject": "委外催收前通知",
        "body": BODY_ZH + "\n\n" + BODY_ZH,
    }
    fields.update(kw)
    return make_message(**fields)


def _literal_strings(stream: bytes) -> list[bytes]:
    """The (…) strings of a content stream, escapes resolved (PDF 32000-1, 7.3.4.2)."""
    out, i = [], 0
    escapes = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
    while (i := stream.find(b"(", i)) != -1:
        depth, i, buf = 1, i + 1, bytearray()
        while depth and i < len(stream):
            ch = stream[i : i + 1]
            if ch == b"\\":
                nxt = stream[i + 1 : i + 2]
                octal = re.match(rb"[0-7]{1,3}", stream[i + 1 : i + 4])
                if octal:
                    buf.append(int(octal.group(), 8) & 0xFF)
                    i += 1 + len(octal.group())
                    continue
                buf += escapes.get(nxt, nxt)
                i += 2
                continue
            depth += ch == b"("
            depth -= ch == b")"
            if depth:
                buf += ch
            i += 1
        out.append(bytes(buf))
    return out


def pdf_lines(pdf: bytes) -> list[str]:
    """Every text string drawn in the PDF, decoded from the CID font's UCS-2 encoding."""
    lines = []
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        data = match.group(1)
        try:  # ReportLab writes /Filter [ /ASCII85Decode /FlateDecode ]
            content = zlib.decompressobj().decompress(base64.a85decode(data.strip(), adobe=True))
        except (ValueError, zlib.error):
            continue  # not a content stream of ours
        for raw in _literal_strings(content):
            if raw and len(raw) % 2 == 0:
                lines.append(raw.decode("utf-16-be", errors="replace"))
    return lines


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_a_valid_a4_pdf_with_the_cjk_font_and_the_text(
    make_message: Callable[..., OutboundMessage],
) -> None:
    message = _letter(make_message)
    pdf = render_pdf(message, DAY)
    assert pdf.startswith(b"%PDF-1.")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert b"/BaseFont /STSong-Light" in pdf
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in pdf  # A4 in points
    text = _squeeze("".join(pdf_lines(pdf)))
    for part in (
        "演示消费金融",
        "2026年2月16日",
        "上海市浦东新区世纪大道100号8楼",
        "委外催收前通知",
    ):
        assert part in text
    assert _squeeze(BODY_ZH) in text


def test_english_wraps_between_words(make_message: Callable[..., OutboundMessage]) -> None:
    body = " ".join(["Your instalment of USD 120.00 was due on 1 February 2026."] * 12)
    message = _letter(make_message, body=body, locale="en", subject="Overdue notice")
    lines = pdf_lines(render_pdf(message, DAY))
    assert "16 February 2026" in lines  # the date, English style
    body_lines = lines[lines.index("Overdue notice") + 1 :]
    assert len(body_lines) > 3  # it wrapped …
    assert " ".join(body_lines) == body  # … and only at spaces: no word was cut


def test_a_long_letter_runs_onto_more_pages(make_message: Callable[..., OutboundMessage]) -> None:
    pdf = render_pdf(_letter(make_message, body="\n\n".join([BODY_ZH] * 40)), DAY)
    assert len(re.findall(rb"/Type /Page\b", pdf)) >= 2


def test_written_atomically_into_the_queue_once(
    tmp_path: Path, make_message: Callable[..., OutboundMessage]
) -> None:
    letters = PdfLetters(tmp_path / "print-queue", today=lambda: DAY)
    message = _letter(make_message)
    first = letters.send(message)
    target = tmp_path / "print-queue" / f"{message.idempotency_key}.pdf"
    assert first == SendResult("sent", str(target))
    assert target.read_bytes().startswith(b"%PDF-")
    target.write_bytes(b"%PDF-1.4 printed already")  # a marker: must survive a second send
    second = letters.send(message)
    assert (second.status, second.provider_ref) == ("sent", str(target))
    assert target.read_bytes() == b"%PDF-1.4 printed already"
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # no temp files


def test_concurrent_hand_overs_leave_one_file(
    tmp_path: Path, make_message: Callable[..., OutboundMessage]
) -> None:
    letters = PdfLetters(tmp_path, today=lambda: DAY)
    message = _letter(make_message)
    results: list[SendResult] = []
    threads = [
        threading.Thread(target=lambda: results.append(letters.send(message))) for _ in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {r.status for r in results} == {"sent"}
    assert {r.provider_ref for r in results} == {str(tmp_path / f"{message.idempotency_key}.pdf")}
    assert [p.name for p in tmp_path.iterdir()] == [f"{message.idempotency_key}.pdf"]


def test_unsafe_keys_get_distinct_safe_names() -> None:
    assert file_name("wi:case1:letter:2026-02-16:default:v1") == (
        "wi:case1:letter:2026-02-16:default:v1.pdf"
    )
    a, b = file_name("../etc/passwd"), file_name("..:etc:passwd")
    assert "/" not in a and not a.startswith(".")
    assert a != b
    assert file_name("a/b") != file_name("a_b")


def test_no_address_fails(tmp_path: Path, make_message: Callable[..., OutboundMessage]) -> None:
    result = PdfLetters(tmp_path).send(_letter(make_message, to="  "))
    assert result.status == "failed"
    assert list(tmp_path.iterdir()) == []


def test_an_unusable_directory_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ChannelConfigError, match="ARREARS_LETTER_DIR"):
        PdfLetters(blocker / "queue")


def test_a_finished_pdf_is_queued_byte_for_byte(
    tmp_path: Path, make_message: Callable[..., OutboundMessage]
) -> None:
    pdf = render_pdf(_letter(make_message, subject="律师函"), DAY)
    message = _letter(make_message, attachment=pdf, attachment_name="lawyer-letter.pdf")
    result = PdfLetters(tmp_path, today=lambda: DAY).send(message)
    assert result.status == "sent"
    assert Path(result.provider_ref).read_bytes() == pdf  # not a layout of the body


def test_an_attachment_that_is_not_a_pdf_fails(
    tmp_path: Path, make_message: Callable[..., OutboundMessage]
) -> None:
    result = PdfLetters(tmp_path).send(_letter(make_message, attachment=b"<html>"))
    assert result.status == "failed" and "not a PDF" in result.detail
    assert not list(tmp_path.glob("*.pdf"))
