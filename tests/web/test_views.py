"""The bucket page and the explain view, through Django's test client."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model

from arrears.daily.services import day_run
from arrears.ledger import models, services
from tests import factories

FIRST_DUE = date(2026, 2, 15)
AS_OF = FIRST_DUE + timedelta(days=10)


@pytest.fixture
def client_in(client, db):
    user = get_user_model().objects.create_user("lead", password="pw-lead-123", is_staff=True)
    client.force_login(user)
    product = factories.product()
    factories.loan("LATE", factories.borrower(), product)
    day_run(as_of=AS_OF)
    return client


def test_pages_need_a_login(client, db):
    response = client.get("/loans/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_bucket_page_lists_the_delinquent_loan_with_a_masked_phone(client_in):
    page = client_in.get("/loans/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "LATE" in page
    assert "+86138****5678" in page
    assert "13812345678" not in page
    assert "Loans by bucket" in page


def test_explain_view_shows_the_penalty_formula(client_in):
    page = client_in.get(f"/loans/LATE/?as_of={AS_OF}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "10 days × 833.33 × 0.075% = 6.20" in page


def test_explain_json_matches_any_date_asked(client_in):
    later = AS_OF + timedelta(days=5)
    data = client_in.get(f"/loans/LATE/?as_of={later}&format=json").json()
    assert data["as_of"] == str(later) and data["dpd"] == 15


def test_the_ui_speaks_chinese(client_in):
    page = client_in.get("/loans/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "按账龄查看借据" in page


def test_a_bad_date_is_said_on_the_page_in_the_readers_language(client_in):
    english = client_in.get("/loans/LATE/?as_of=2026-02-30", HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 400
    assert "2026-02-30 is not a date (YYYY-MM-DD)" in english.content.decode()
    chinese = client_in.get("/loans/?as_of=2026-02-30", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.status_code == 400 and "2026-02-30 不是有效日期" in chinese.content.decode()
    assert client_in.get("/loans/NOPE/").status_code == 404


def _visible_text(page: str) -> str:
    """What a reader sees: the page without its tags, styles and attributes."""
    page = re.sub(r"<style.*?</style>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _words(text: str, words: set[str]) -> set[str]:
    return {w for w in words if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text)}


def test_the_explain_page_in_chinese_has_no_english_status_or_rounding_words(client_in):
    factories.loan("PAID", factories.borrower("B2"), models.Product.objects.get())
    services.record_payment(
        loan=models.Loan.objects.get(ref="PAID"),
        ref="P1",
        value_date=FIRST_DUE,
        amount_minor=98_333,
        currency="CNY",
    )
    for ref in ("LATE", "PAID"):
        page = client_in.get(f"/loans/{ref}/?as_of={AS_OF}", HTTP_ACCEPT_LANGUAGE="zh-hans")
        text = _visible_text(page.content.decode())
        english = {"paid", "overdue", "not_due", "half-up", "rounded per day", "penalty"}
        english |= {"interest", "day", "days", "per day", "per period", "credit"}
        assert not _words(text, english), _words(text, english)
        assert "逾期" in text or "已还清" in text
        assert "未到期" in text and "四舍五入" in text and "按日舍入" in text
    paid = _visible_text(
        client_in.get(
            f"/loans/PAID/?as_of={AS_OF}", HTTP_ACCEPT_LANGUAGE="zh-hans"
        ).content.decode()
    )
    assert "已还清" in paid and "本金" in paid  # the payment's parts, in Chinese
    english_page = client_in.get(f"/loans/LATE/?as_of={AS_OF}", HTTP_ACCEPT_LANGUAGE="en")
    shown = _visible_text(english_page.content.decode())
    assert _words(shown, {"overdue", "not due", "half up", "rounded per day"}) == {
        "overdue",
        "not due",
        "half up",
        "rounded per day",
    }


def test_the_explain_page_itemises_the_payoff(client_in):
    data = client_in.get(f"/loans/LATE/?as_of={AS_OF}&format=json").json()
    parts = data["totals"]["payoff_parts"]
    page = client_in.get(f"/loans/LATE/?as_of={AS_OF}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    row = re.search(r'id="payoff-parts">(.*?)</td>', page, flags=re.S).group(1)
    assert f"principal outstanding {parts['principal_outstanding']['amount']}" in row
    assert f"penalty {parts['penalty']['amount']}" in row


def test_a_reference_stored_with_a_slash_is_listed_and_reachable(client_in):
    """Issue 14, item 9: the import refuses "/" in a reference, but one stored before (or put
    there past validation) must neither break the pages that link to it nor be unreachable."""
    models.Loan.objects.filter(ref="LATE").update(ref="LATE/2026/01")
    listing = client_in.get("/loans/", HTTP_ACCEPT_LANGUAGE="en")
    assert listing.status_code == 200
    assert 'href="/loans/LATE/2026/01/?as_of=' in listing.content.decode()
    page = client_in.get(f"/loans/LATE/2026/01/?as_of={AS_OF}", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "LATE/2026/01" in page.content.decode()
    assert client_in.get("/loans/LATE/2026/").status_code == 404  # no other loan matches
