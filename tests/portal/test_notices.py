"""Notices: placements with agencies (live and past), the credit-reporting statement and
in-app messages — the borrower's own only."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client, override_settings
from django.utils import timezone

from arrears.agencies.models import Agency, Placement
from arrears.collections.models import Case
from arrears.contact.models import OutboxMessage
from tests.portal.conftest import Book
from tests.portal.helpers import token


def _agency(book: Book, code: str, phone: str) -> Agency:
    return Agency.objects.create(
        code=code,
        name=f"{code.title()} Recovery",
        name_zh=f"{code}信息咨询",
        licence_number=code,
        licence_valid_to=book.today + timedelta(days=300),
        contract_starts=book.today - timedelta(days=300),
        contract_ends=book.today + timedelta(days=300),
        phone=phone,
    )


def _place(case: Case, agency: Agency, placed, ends, recalled=None) -> Placement:
    return Placement.objects.create(
        key=f"p:{case.pk}:{agency.code}:{placed}",
        case=case,
        agency=agency,
        placed_on=placed,
        ends_on=ends,
        recalled_on=recalled,
        recall_reason="term_end" if recalled else "",
        bucket="M1",
        total_due_minor=1,
        currency="CNY",
        method="round_robin",
    )


def _in_app(book: Book, borrower, body: str, status: str = "sent") -> OutboxMessage:
    now = timezone.now()
    return OutboxMessage.objects.create(
        key=f"test:in_app:{borrower.pk}:{body}",
        borrower=borrower,
        channel="in_app",
        template="overdue_notice",
        locale="en",
        status=status,
        not_before=now,
        sent_at=now if status == "sent" else None,
        subject="Your loan",
        body=body,
    )


def test_placements_credit_reporting_and_in_app_messages(book: Book, client: Client):
    acme, bolt, other = (
        _agency(book, "acme", "400-000-1111"),
        _agency(book, "bolt", "400-000-2222"),
        _agency(book, "cove", "400-000-3333"),
    )
    t = book.today
    _place(book.case, acme, t - timedelta(days=60), t - timedelta(days=31), t - timedelta(days=31))
    _place(book.case, bolt, t - timedelta(days=3), t + timedelta(days=26))
    _place(Case.objects.get(borrower=book.other), other, t - timedelta(days=3), t)
    _in_app(book, book.borrower, "Please call us about your loan.")
    _in_app(book, book.borrower, "Never shown: still queued.", status="queued")
    _in_app(book, book.other, "For someone else.")
    book.sign_in(client)
    page = client.get("/my/notices/").content.decode()
    table = page.split('id="placements"', 1)[1].split("</table>")[0]
    assert table.index("Bolt Recovery") < table.index("Acme Recovery")  # live first
    assert "400-000-2222" in table and str(t - timedelta(days=3)) in table
    assert str(t + timedelta(days=26)) in table and str(t - timedelta(days=31)) in table
    assert "Cove Recovery" not in page
    assert "credit reference centre" in page
    assert "Please call us about your loan." in page
    assert "still queued" not in page and "For someone else" not in page


def test_the_credit_reporting_statement_is_a_setting(book: Book, client: Client):
    with override_settings(
        ARREARS_CREDIT_REPORTING_NOTICE={"en": "We report to X.", "zh": "报送X。"}
    ):
        book.sign_in(client)
        assert "We report to X." in client.get("/my/notices/").content.decode()
        zh = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
        book.sign_in(zh)
        assert "报送X。" in zh.get("/my/notices/").content.decode()


def test_no_placement_says_so(book: Book, client: Client):
    book.sign_in(client)
    page = client.get("/my/notices/").content.decode()
    assert 'id="no-placements"' in page and 'id="no-messages"' in page


def test_the_json_twin(book: Book, client: Client):
    _place(book.case, _agency(book, "bolt", "4000002222"), book.today, book.today)
    auth = token(book, client)
    body = client.get("/api/v1/my/notices", **auth).json()
    assert body["placements"][0]["agency"] == "Bolt Recovery"
    assert body["placements"][0]["live"] is True
    assert "credit reference centre" in body["credit_reporting"]


def test_the_page_speaks_chinese(book: Book):
    _place(book.case, _agency(book, "bolt", "4000002222"), book.today, book.today)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    book.sign_in(client)
    page = client.get("/my/notices/").content.decode()
    assert "bolt信息咨询" in page and "征信中心" in page and "征信报送" in page


def test_every_string_of_these_pages_has_a_chinese_translation() -> None:
    """Each string marked for translation in the verify, preferences, history, complaints and
    notices pages (templates and views) and each error they can show has a msgstr in the
    zh-Hans catalogue: an untranslated string would silently show English."""
    import io
    from pathlib import Path

    from babel.messages.extract import DEFAULT_KEYWORDS, extract
    from babel.messages.pofile import read_po
    from django.utils.translation.template import templatize

    portal = Path(__file__).resolve().parents[2] / "src" / "arrears" / "portal"
    po = portal.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    names = ("verify", "preferences", "history", "complaints", "complaint_new", "complaint")
    sources = [
        templatize((portal / "templates" / "portal" / f"{n}.html").read_text(encoding="utf-8"))
        for n in (*names, "notices", "base")
    ]
    sources += [(portal / n).read_text(encoding="utf-8") for n in ("pages.py", "records.py")]
    keywords = dict(DEFAULT_KEYWORDS, gettext_lazy=None, pgettext=((1, "c"), 2))
    with po.open("rb") as handle:
        catalogue = read_po(handle)
    missing = []
    for source in sources:
        for _line, message, _comments, context in extract(
            "python", io.BytesIO(source.encode()), keywords=keywords
        ):
            msgid = message[0] if isinstance(message, tuple) else message
            entry = catalogue.get(msgid, context=context)
            strings = entry.string if entry is not None else ""
            if not (all(strings) if isinstance(strings, tuple) else strings):
                missing.append((context, msgid))
    from arrears import errorcodes
    from arrears.contact import services  # noqa: F401  (defines its codes)
    from arrears.portal import pages  # noqa: F401

    for code in (
        "portal-time",
        "portal-keep-one-channel",
        "portal-too-many-checks",
        "portal-contact",
        "portal-category",
        "preference-channel",
        "preference-channel-opted-out",
        "preference-hours-both",
        "preference-hours-order",
        "preference-hours-short",
        "preference-hours-outside",
    ):
        entry = catalogue.get(errorcodes.template_of(code) or code)
        if entry is None or not entry.string:
            missing.append(("error", code))
    assert missing == []
