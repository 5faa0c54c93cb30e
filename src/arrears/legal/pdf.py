"""The lawyer's letter as a PDF (律师函): letterhead, the facts of the debt, how to pay, how to
check it is genuine.

Why a document of its own and not the letter channel's layout of the message text: a lawyer's
letter is a fixed record of the debt *on its letter date* — a table of amounts by component, the
contracts, the issuing firm, a verification code and a QR code — fingerprinted (SHA-256) when it
is issued. The same facts always give the same bytes: ReportLab's ``invariant`` mode leaves out
creation times and random document ids, and nothing here reads a clock; the only date in the
document is the letter date.

Fonts: ReportLab's built-in CID font ``STSong-Light`` (as ``channels.letter``), so Chinese and
English letters need no font files. No Django: the caller gathers the facts.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    Flowable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from arrears.channels.pdfparts import cjk_font, qr_drawing
from arrears.formatting import format_money
from arrears.kernel.money import Money

#: Days the borrower is given to pay or to ask for a plan (the shipped letter text says seven).
DEADLINE_DAYS = 7
#: Side of the printed QR code.
QR_SIZE = 32 * mm


@dataclass(frozen=True, slots=True)
class Amounts:
    """One row of the amounts table, in minor units (a contract, or the total)."""

    label: str
    principal: int
    interest: int
    penalty: int
    compound: int
    fees: int
    total: int


@dataclass(frozen=True, slots=True)
class Firm:
    name: str
    licence_number: str
    address: str
    phone: str


@dataclass(frozen=True, slots=True)
class LetterFacts:
    """Everything the letter says; two equal facts render to the same bytes."""

    template: str  # lawyer_letter | legal_notice
    locale: str  # zh-CN | en
    reference: str
    letter_date: date
    firm: Firm
    lender_name: str
    borrower_name: str
    borrower_address: str
    currency: str
    rows: Sequence[Amounts]
    total: Amounts  # its label is not printed: the table says "Total" / "合计"
    repayment_channels: str
    complaint_channel: str
    code: str
    verify_url: str


def _zh(locale: str) -> bool:
    return locale.lower().startswith("zh")


#: The fixed wording, per locale. ``{…}`` are filled from the facts.
TEXT = {
    "zh": {
        "lawyer_letter": "律师函",
        "legal_notice": "法律催告函",
        "licence": "执业许可证号：{licence}",
        "contact": "地址：{address}　电话：{phone}",
        "reference": "函号：{reference}",
        "to": "致：{borrower}",
        "creditor": "债权人（委托人）：{lender}",
        "opening": "{firm}受{lender}（以下简称“委托人”）委托，就您与委托人之间的借款合同"
        "（合同编号：{contracts}）履行事宜，特致函如下：",
        "facts": "根据委托人提供的借款合同及还款记录，您的借款已逾期未还。截至{date}，"
        "您的应还金额如下（依据借款合同约定计收）：",
        "ask": "本所受托提请您自收到本函之日起{days}日内，通过以下官方渠道清偿上述款项，"
        "或通过委托人官方渠道申请还款协商：{channels}。",
        "no_private": "郑重提示：委托人及本所均不会要求您向任何个人账户转账，本所不代收任何款项。"
        "凡要求向个人账户还款的，均非委托人或本所所为。",
        "reserve": "如您逾期仍未还款，亦未与委托人达成还款协商，委托人保留依法向有管辖权的"
        "人民法院提起民事诉讼的权利。",
        "complain": "如您对上述金额有异议，请及时与委托人核对；如对本函或催收行为有任何意见，"
        "可通过{complaint}投诉。",
        "verify": "本函验证码：{code}。请扫描右侧二维码或访问 {url} 核验本函真伪。",
        "sign": "{firm}",
        "columns": ("合同编号", "逾期本金", "利息", "罚息", "复利", "费用", "合计"),
        "total": "合计",
    },
    "en": {
        "lawyer_letter": "Lawyer's letter",
        "legal_notice": "Legal notice",
        "licence": "Licence no. {licence}",
        "contact": "Address: {address}   Telephone: {phone}",
        "reference": "Our reference: {reference}",
        "to": "To: {borrower}",
        "creditor": "Creditor (our client): {lender}",
        "opening": 'We act for {lender} ("our client") in connection with your loan agreement(s) '
        "with our client (contract no. {contracts}).",
        "facts": "According to the loan agreement and payment records provided by our client, "
        "your loan is overdue. As of {date}, the amounts due under the agreement are:",
        "ask": "We ask you to pay these amounts within {days} days of receiving this letter "
        "through our client's official repayment channels only: {channels}; or, within the "
        "same period, to ask our client through those channels for a repayment plan.",
        "no_private": "Important: neither our client nor this firm will ever ask you to pay into "
        "a personal account, and this firm does not accept payments. Anyone asking you to pay "
        "into a personal account is not acting for our client or for this firm.",
        "reserve": "If the amount is not paid and no arrangement is agreed, our client reserves "
        "the right to start civil proceedings in the competent court to recover it.",
        "complain": "If you disagree with the amounts, please tell our client so that they can "
        "be checked. To complain about this letter or about how you have been contacted: "
        "{complaint}.",
        "verify": "Verification code: {code}. Scan the QR code or visit {url} to check that this "
        "letter is genuine.",
        "sign": "Yours faithfully,\n{firm}",
        "columns": (
            "Contract",
            "Overdue principal",
            "Interest",
            "Penalty",
            "Compound",
            "Fees",
            "Total",
        ),
        "total": "Total",
    },
}


def date_text(day: date, locale: str) -> str:
    """``2026年12月2日`` or ``2 December 2026``."""
    if _zh(locale):
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {day:%B} {day.year}"


def money_text(minor: int, currency: str, locale: str) -> str:
    """An amount as the letter prints it (``arrears.formatting``; exact, never a float)."""
    return format_money(Money(minor, currency), locale)


def _paragraph(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _table(facts: LetterFacts, words: Mapping[str, object], font: str) -> Table:
    columns = words["columns"]
    assert isinstance(columns, tuple)
    show_fees = any(row.fees for row in facts.rows)
    keep = [i for i in range(7) if show_fees or i != 5]

    def cells(row: Amounts, label: str) -> list[str]:
        values = [
            label,
            *(
                money_text(v, facts.currency, facts.locale)
                for v in (row.principal, row.interest, row.penalty, row.compound, row.fees)
            ),
            money_text(row.total, facts.currency, facts.locale),
        ]
        return [values[i] for i in keep]

    data = [
        [columns[i] for i in keep],
        *(cells(r, r.label) for r in facts.rows),
        cells(facts.total, str(words["total"])),
    ]
    table = Table(data, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, 8.5),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
                ("LINEABOVE", (0, -1), (-1, -1), 0.6, colors.black),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def render(facts: LetterFacts) -> bytes:
    """The letter as PDF bytes (A4), in ``facts.locale``."""
    font = cjk_font()
    words: Mapping[str, object] = TEXT["zh" if _zh(facts.locale) else "en"]
    wrap = "CJK" if _zh(facts.locale) else None

    def style(name: str, size: float, leading: float, after: float, **kw: object) -> ParagraphStyle:
        return ParagraphStyle(
            name,
            fontName=font,
            fontSize=size,
            leading=leading,
            spaceAfter=after,
            wordWrap=wrap,
            **kw,
        )

    head = style("head", 15, 20, 2, alignment=1)
    small = style("small", 8.5, 12, 0, alignment=1)
    title = style("title", 18, 26, 10, alignment=1)
    body = style("body", 10.5, 16, 7)
    right = style("right", 10.5, 16, 0, alignment=2)

    def say(key: str, **values: str) -> str:
        template = words[key]
        assert isinstance(template, str)
        return template.format(**values)

    contracts = "、" if _zh(facts.locale) else ", "
    contract_list = contracts.join(row.label for row in facts.rows)
    firm = facts.firm
    story: list[Flowable] = [
        _paragraph(firm.name, head),
        _paragraph(say("licence", licence=firm.licence_number), small),
        _paragraph(say("contact", address=firm.address, phone=firm.phone), small),
        Spacer(1, 8 * mm),
        _paragraph(say(facts.template if facts.template in words else "lawyer_letter"), title),
        _paragraph(say("reference", reference=facts.reference), right),
        _paragraph(date_text(facts.letter_date, facts.locale), right),
        Spacer(1, 4 * mm),
        _paragraph(say("to", borrower=facts.borrower_name), body),
    ]
    if facts.borrower_address:
        story.append(_paragraph(facts.borrower_address, body))
    story += [
        _paragraph(say("creditor", lender=facts.lender_name), body),
        _paragraph(
            say("opening", firm=firm.name, lender=facts.lender_name, contracts=contract_list),
            body,
        ),
        _paragraph(say("facts", date=date_text(facts.letter_date, facts.locale)), body),
        _table(facts, words, font),
        Spacer(1, 5 * mm),
        _paragraph(say("ask", days=str(DEADLINE_DAYS), channels=facts.repayment_channels), body),
        _paragraph(say("no_private"), body),
        _paragraph(say("reserve"), body),
        _paragraph(say("complain", complaint=facts.complaint_channel), body),
        Table(
            [
                [
                    _paragraph(say("verify", code=facts.code, url=facts.verify_url), body),
                    qr_drawing(facts.verify_url, QR_SIZE),
                ]
            ],
            colWidths=[None, QR_SIZE + 4 * mm],
            style=TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]),
        ),
        Spacer(1, 6 * mm),
        _paragraph(say("sign", firm=firm.name), right),
        _paragraph(date_text(facts.letter_date, facts.locale), right),
    ]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"{say(facts.template if facts.template in words else 'lawyer_letter')} "
        f"{facts.reference}",
        author=firm.name,
        invariant=True,
    )
    doc.build(story)
    return buffer.getvalue()
