"""The authorisation letter: both languages with CJK text, masked IDs, the code and URL."""

from __future__ import annotations

import hashlib
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pypdf import PdfReader

from arrears.fieldwork import letter, services
from arrears.verification.services import check_url
from tests.fieldwork.conftest import AGENT_IDS, Field

ZONE = ZoneInfo("Asia/Shanghai")
FACTS = letter.LetterFacts(
    lender_zh="演示消费金融",
    lender_en="Demo Consumer Finance",
    borrower_name="张三",
    case_number="42",
    contract_numbers=("L-1",),
    visitors=(("方芳", "110101********1239"), ("顾强", "110101********4514")),
    valid_from=datetime(2026, 12, 2, 15, tzinfo=ZONE),
    valid_to=datetime(2026, 12, 16, 15, tzinfo=ZONE),
    code="7K3M-Q9XD-2WPA-HF0T",
)


def _pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(BytesIO(data)).pages]


def test_the_letter_reads_in_chinese_then_english() -> None:
    zh, en = _pages(letter.render(FACTS))
    assert "上门催收授权书" in zh and "演示消费金融" in zh and "方芳" in zh
    assert "Field visit authorisation" in en and "Demo Consumer Finance" in en
    for page in (zh, en):
        assert "110101********1239" in page and "7K3M-Q9XD-2WPA-HF0T" in page
        assert "2026-12-16 15:00" in page
        assert "/verify/?code=7K3M-Q9XD-2WPA-HF0T" in page


def test_the_qr_url_uses_the_public_address(settings: Any) -> None:
    settings.ARREARS_PUBLIC_URL = "https://pay.example.cn/"
    assert check_url("AB CD") == "https://pay.example.cn/verify/?code=AB+CD"


def test_authorising_stores_the_pdf_with_its_checksum(field: Field) -> None:
    field.break_promises()
    s = field.staff
    visit = services.request_visit(field.case, by=s["ann"], reason="r")
    services.approve(visit, by=s["lead"])
    services.assign(visit, [field.agents["fay"], field.agents["gus"]], by=s["lead"])
    authorisation = services.authorise(visit, by=s["lead"])
    data = Path(authorisation.pdf_path).read_bytes()
    assert hashlib.sha256(data).hexdigest() == authorisation.sha256
    text = "\n".join(_pages(data))
    assert "方芳" in text and "顾强" in text and "L-F" in text
    assert AGENT_IDS["fay"] not in text and AGENT_IDS["fay"][:6] + "********" in text
    code = authorisation.plain_code  # type: ignore[attr-defined]
    assert code in text and code.replace("-", "")[-4:] == authorisation.code_hint
