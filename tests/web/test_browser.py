"""The pages in a real headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from arrears.daily.services import day_run
from tests import factories
from tests.browser import SCREENSHOTS, keep_screenshot, needs_chromium
from tests.web.conftest import Book

pytestmark = needs_chromium
AS_OF = date(2026, 2, 25)


def test_a_screenshot_is_taken_only_when_a_folder_is_named(
    browser_page, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Screenshots cost Chromium about a CPU-second each and no test reads them: without
    ``ARREARS_SCREENSHOTS`` none is taken; with it, each is a real PNG of the whole page."""
    page = browser_page
    page.set_content("<h1>逾期 overdue</h1>" + "<p>行</p>" * 200)
    monkeypatch.delenv(SCREENSHOTS, raising=False)
    assert keep_screenshot(page, "none") is None
    assert not list(tmp_path.iterdir())
    monkeypatch.setenv(SCREENSHOTS, str(tmp_path / "shots"))
    shot = keep_screenshot(page, "page")
    assert shot == tmp_path / "shots" / "page.png"
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 5_000


@pytest.fixture
def demo_site(transactional_db, live_server):
    get_user_model().objects.create_user("lead", password="pw-lead-123", is_staff=True)
    product = factories.product()
    factories.loan("LATE", factories.borrower(), product)
    factories.loan(
        "GOOD", factories.borrower("B2", phone="+8613912345678"), product, start=date(2026, 2, 1)
    )
    day_run(as_of=AS_OF)
    return live_server.url


@pytest.mark.slow
def test_a_lead_logs_in_finds_the_loan_by_bucket_and_checks_the_penalty(browser_page, demo_site):
    page = browser_page
    page.goto(f"{demo_site}/loans/")
    page.fill("#id_username", "lead")
    page.fill("#id_password", "pw-lead-123")
    page.click("button[type=submit]")
    page.wait_for_selector("#bucket-summary")
    assert "按账龄查看借据" in page.inner_text("h1")
    assert page.inner_text("[data-bucket=M1] strong") == "1"
    assert page.inner_text("[data-bucket=M0] strong") == "1"
    page.click("#loan-list a:text('LATE')")
    page.wait_for_selector("#instalments")
    assert page.inner_text("#dpd") == "10"
    assert "10 天 × 833.33 × 0.075% = 6.20" in page.inner_text("#instalments")
    # any past date can be explained: five days earlier the penalty was half
    page.fill("input[name=as_of]", str(AS_OF - timedelta(days=5)))
    page.click("form button[type=submit]:text('明细')")
    page.wait_for_selector("#instalments")
    assert page.inner_text("#dpd") == "5"
    assert page.inner_text("#penalty") == "3.10"
    # switching to English keeps the page
    page.select_option("select[name=language]", "en")
    page.wait_for_selector("text=Instalments")
    assert page.inner_text("#dpd") == "5"
    assert "5 days × 833.33 × 0.075% = 3.10" in page.inner_text("#instalments")


@pytest.fixture
def book(fresh_book: Book) -> Book:
    """These tests commit (a live server): the book built for each alone (tests/sharing.py)."""
    return fresh_book


@pytest.fixture
def collector_site(transactional_db, live_server, book):
    """The workbench book behind a live server; ann logs in with her password."""
    return live_server.url


def _log_in(page, site: str, username: str) -> None:
    page.goto(f"{site}/queue/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}")
    page.click("button[type=submit]")
    page.wait_for_selector("h1")


@pytest.mark.slow
def test_ann_sees_the_gate_deny_a_call_during_a_hold_in_chinese_and_cannot_approve_her_own_waiver(
    browser_page, collector_site, book
):
    """Issue 9, as a collector would meet it: during a complaint hold the case page says the
    call is not allowed (in Chinese, in readable CJK glyphs), and ann's
    approval of a waiver she requested herself is refused by the service even when posted by
    hand (the page shows her no approve button)."""
    from arrears.collections.models import Hold
    from arrears.ledger.models import Waiver

    case = book.cases[0]
    Hold.objects.create(
        borrower=case.borrower, reason="complaint", starts_on=book.today, ends_on=book.today
    )
    page = browser_page
    _log_in(page, collector_site, "ann")
    page.goto(f"{collector_site}/cases/{case.pk}/")
    gate = page.inner_text("#call-gate")
    assert "不允许" in gate and "投诉" in gate, gate
    assert "allowed" not in gate
    # the glyphs are drawn by a CJK font, not as empty boxes: a CJK string is wider than a
    # Latin one of the same length only when the font has the glyphs
    widths = page.evaluate(
        """() => { const c = document.createElement('canvas').getContext('2d');
                   c.font = '16px sans-serif';
                   return [c.measureText('不允许').width, c.measureText('ttt').width]; }"""
    )
    assert widths[0] > widths[1] * 1.5, widths
    keep_screenshot(page, "case-page-hold-zh")

    # ann asks to waive 10.00 of penalty on her case's loan
    page.select_option("#id_waiver-component", "penalty")
    page.fill("#id_waiver-amount", "10.00")
    page.click("#waiver-form button[type=submit]")
    page.wait_for_selector("#waivers [data-waiver]")
    waiver = Waiver.objects.get(loan__borrower=case.borrower)
    assert waiver.requested_by.username == "ann"
    row = page.locator(f"#waivers [data-waiver='{waiver.pk}']")
    assert row.locator("form.approve").count() == 0  # no approve button for the maker
    # posted by hand anyway: the service refuses, in Chinese, and nothing changes
    with page.expect_navigation():
        page.evaluate(
            """([kind, item]) => {
             const f = document.createElement('form'); f.method = 'post';
             const add = (n, v) => { const i = document.createElement('input');
                                     i.name = n; i.value = v; f.appendChild(i); };
             add('csrfmiddlewaretoken',
                 document.querySelector('input[name=csrfmiddlewaretoken]').value);
             add('action', 'approve'); add('kind', kind); add('item', item);
             document.body.appendChild(f); f.submit(); }""",
            ["waiver", str(waiver.pk)],
        )
    text = page.inner_text("body")
    assert "ann" in text and "不能" in text, text[:2000]
    waiver.refresh_from_db()
    assert waiver.status == "requested" and waiver.approvals == []
    keep_screenshot(page, "own-approval-refused-zh")
