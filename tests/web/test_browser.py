"""The pages in a real headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import os
import shutil
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model

from arrears.daily.services import day_run
from tests import factories

CHROMIUM = os.environ.get("ARREARS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian chromium is not installed (scripts/ensure-browser)"
)
AS_OF = date(2026, 2, 25)

# Playwright's sync API runs an event loop; Django must allow its ORM calls in that thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        context = browser.new_context(locale="zh-CN")
        yield context.new_page()
        browser.close()


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
    assert "10 days × 833.33 × 0.075% = 6.20" in page.inner_text("#instalments")
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
