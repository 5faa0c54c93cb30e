"""The authorisation letter (上门催收授权书) as a PDF: a Chinese page, then an English one.

What it says is what a borrower at the door needs to tell real visitors from fake ones: the
lender, the case and contract numbers, each visitor's name with the ID number masked (the
visitor shows the ID card itself), the valid dates, the verification code, and a QR code of
the public verification URL. No amounts and no borrower identifiers beyond the name: the letter
may be photographed and shared. STSong-Light is ReportLab's built-in CJK font (no file needed).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from reportlab.graphics import renderPDF
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from arrears.channels.pdfparts import cjk_font, qr_drawing
from arrears.verification.services import check_url


@dataclass(frozen=True, slots=True)
class LetterFacts:
    lender_zh: str
    lender_en: str
    borrower_name: str
    case_number: str
    contract_numbers: tuple[str, ...]
    visitors: tuple[tuple[str, str], ...]  # (full name, masked ID number)
    valid_from: datetime
    valid_to: datetime
    code: str
    place: str = ""


def _when(value: datetime) -> str:
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"


def _lines(facts: LetterFacts, zh: bool) -> list[str]:
    contracts = ", ".join(facts.contract_numbers) or "-"
    visitors = [f"  {name}  {masked}" for name, masked in facts.visitors]
    if zh:
        return [
            f"{facts.lender_zh}",
            "上门催收授权书",
            "",
            f"兹授权以下人员代表{facts.lender_zh}，就{facts.borrower_name}的借款事宜上门沟通：",
            *[f"  姓名 / 身份证号：{v.strip()}" for v in visitors],
            f"案件编号：{facts.case_number}",
            f"合同编号：{contracts}",
            f"有效期：{_when(facts.valid_from)} 至 {_when(facts.valid_to)}",
            "来访人员须出示本授权书及本人身份证件；不收取现金，不要求向个人账户转账。",
            f"验证码：{facts.code}",
            "请扫描二维码或在官方App输入验证码，核验本授权书及来访人员身份。",
        ]
    return [
        f"{facts.lender_en}",
        "Field visit authorisation",
        "",
        f"{facts.lender_en} authorises the people below to visit {facts.borrower_name}",
        "about the repayment of their loan:",
        *[f"  Name / ID number: {v.strip()}" for v in visitors],
        f"Case number: {facts.case_number}",
        f"Contract number(s): {contracts}",
        f"Valid from {_when(facts.valid_from)} to {_when(facts.valid_to)}",
        "Visitors show this letter and their own ID card; they never take cash",
        "and never ask for payment into a personal account.",
        f"Verification code: {facts.code}",
        "Scan the QR code or enter the code in our official app to check this letter.",
    ]


def render(facts: LetterFacts) -> bytes:
    """The letter as PDF bytes: page 1 in Chinese, page 2 in English, each with the QR code."""
    font = cjk_font()
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    pdf.setTitle("Field visit authorisation / 上门催收授权书")
    _, height = A4
    url = check_url(facts.code)
    size = 120.0
    code = qr_drawing(url, size)  # the same code on both pages: encoded once
    for zh in (True, False):
        y = height - 72
        for n, line in enumerate(_lines(facts, zh)):
            pdf.setFont(font, 16 if n == 1 else 11)
            pdf.drawString(56, y, line)
            y -= 24 if n == 1 else 18
        renderPDF.draw(code, pdf, 56, y - size - 12)
        pdf.setFont(font, 8)
        pdf.drawString(56, y - size - 28, url)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def store(data: bytes, name: str) -> tuple[Path, str]:
    """Write ``data`` under the data directory's ``fieldwork/authorisations``; returns the path
    and its SHA-256 (kept on the record, so a letter shown later can be proven unchanged)."""
    folder = Path(
        getattr(settings, "ARREARS_FIELDWORK_DIR", "")
        or Path(settings.DATA_DIR) / "fieldwork" / "authorisations"
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()
