"""The letter PDF: both languages with CJK text, the facts as printed, reproducible bytes."""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from datetime import date, timedelta

import pytest
import time_machine
from pypdf import PdfReader

from arrears.legal import pdf

from .conftest import pdf_text

ROW = pdf.Amounts("L-2026-0001", 333_333, 12_500, 4_321, 77, 0, 350_231)
FACTS = pdf.LetterFacts(
    template="lawyer_letter",
    locale="zh-CN",
    reference="LL-20260601-000001",
    letter_date=date(2026, 6, 1),
    firm=pdf.Firm(
        "演示律师事务所", "31310000MD0123456X", "上海市浦东新区世纪大道100号", "021-6000"
    ),
    lender_name="演示消费金融",
    borrower_name="张三",
    borrower_address="上海市黄浦区南京东路1号",
    currency="CNY",
    rows=(ROW,),
    total=ROW,
    repayment_channels="本公司官方App“还款”页面",
    complaint_channel="投诉热线95000转9",
    code="ABCD-EFGH-JKMN-PQRS",
    verify_url="https://arrears.example/verify/?code=ABCD-EFGH-JKMN-PQRS",
)


@pytest.mark.parametrize(
    ("locale", "firm", "expected"),
    [
        ("zh-CN", "演示律师事务所", ["律师函", "¥3,333.33", "¥43.21", "¥3,502.31", "2026年6月1日"]),
        ("en", "Demo Law LLP", ["Lawyer's letter", "CN¥3,333.33", "CN¥43.21", "1 June 2026"]),
    ],
)
def test_both_languages_print_the_facts_with_cjk_text(
    locale: str, firm: str, expected: list[str]
) -> None:
    facts = replace(FACTS, locale=locale, firm=replace(FACTS.firm, name=firm))
    text = pdf_text(pdf.render(facts))
    for fact in (firm, "演示消费金融", "张三", "L-2026-0001", "ABCD-EFGH-JKMN-PQRS", *expected):
        assert fact in text, fact
    squashed = text.replace(" ", "")
    assert (
        "官方App“还款”页面" in squashed and "投诉热线95000转9" in squashed
    )  # CJK inside the English letter too
    private = "个人账户" if locale == "zh-CN" else "personal account"
    assert private in text


def test_the_same_facts_give_the_same_bytes_and_other_facts_do_not(
    _frozen_clock: time_machine.Traveller,
) -> None:
    first = pdf.render(FACTS)
    _frozen_clock.shift(timedelta(days=3, hours=5))  # rendered again another day
    assert hashlib.sha256(first).digest() == hashlib.sha256(pdf.render(FACTS)).digest()
    assert pdf.render(replace(FACTS, code="ZZZZ-EFGH-JKMN-PQRS")) != first
    assert b"/CreationDate (D:20000101000000" in first  # invariant: no wall clock


def test_a_qr_code_is_drawn_and_the_fee_column_appears_only_with_fees() -> None:
    reader = PdfReader(io.BytesIO(pdf.render(FACTS)))
    content = reader.pages[0].get_contents()
    assert content is not None
    # a QR code is dozens of filled squares: far more rectangles than the table's rules
    assert content.get_data().count(b" re") > 100
    assert "费用" not in pdf_text(pdf.render(FACTS))
    with_fees = replace(FACTS, rows=(replace(ROW, fees=500),), total=replace(ROW, fees=500))
    assert "费用" in pdf_text(pdf.render(with_fees))


def test_a_legal_notice_has_its_own_title() -> None:
    assert "法律催告函" in pdf_text(pdf.render(replace(FACTS, template="legal_notice")))
