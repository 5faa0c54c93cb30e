"""The borrower portal in a real headless Chromium at a phone's width (390 px), with axe-core.

Must show (issue 11): a borrower signs in with the code from the captured SMS, sees the balance
matching ``arrears explain`` to the fen, verifies a genuine and a fake authorisation code, files
a harassment complaint, and the case is then on hold (no reminder on the next daily run). Each
page passes an automated accessibility check with no serious or critical violations; a
screenshot of each is kept under ``var/test-artefacts``.
"""

from __future__ import annotations

import json
import os
from io import StringIO

import pytest
from django.core.management import call_command

from tests.portal.conftest import Book
from tests.web.test_browser import ARTEFACTS, CHROMIUM

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian chromium is not installed (scripts/ensure-browser)"
)
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"],
        )
        context = browser.new_context(
            locale="en-US", viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
        )
        yield context.new_page()
        browser.close()


def accessible(page, name: str) -> None:
    """axe-core on the page as it is: no serious or critical violation; a screenshot kept."""
    from axe_playwright_python.sync_playwright import Axe

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"portal-{name}-390.png"), full_page=True)
    results = Axe().run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
    assert not bad, f"{name}: " + "; ".join(bad)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} scrolls sideways at 390 px ({width} px)"


@pytest.fixture
def portal_site(transactional_db, live_server, book: Book) -> str:
    """The book behind a live server. A transactional test starts from flushed tables, which
    drops the message templates the data migration loaded: load the shipped catalogue again."""
    from importlib import import_module

    from django.apps import apps

    import_module("arrears.notices.migrations.0002_shipped_catalogue").load(apps, None)
    return str(live_server.url)


def explain_cli(ref: str, as_of: str) -> dict:
    out = StringIO()
    call_command("explain", ref, "--as-of", as_of, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_a_borrower_signs_in_with_the_sms_code_and_sees_what_explain_says(
    phone_page, portal_site: str, book: Book
):
    page = phone_page
    site = portal_site
    page.goto(f"{site}/my/")
    accessible(page, "sign-in")
    page.fill("#loan", book.loan.ref)
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_selector("#code, #loan-error")
    assert page.query_selector("#loan-error") is None, page.inner_text("#loan-error")
    accessible(page, "code")
    page.fill("#code", book.codes()[-1])
    page.click("#code-form button[type=submit]")
    page.wait_for_selector(".loan-card")
    accessible(page, "home")
    page.click(f"#loan-{book.loan.ref} a.button")
    page.wait_for_selector("#total-due")
    data = explain_cli(book.loan.ref, str(book.today))
    shown = page.inner_text("#total-due").split()[0]
    assert shown == str(data["totals"]["total_due"]["amount"])
    assert page.inner_text("#penalty") == str(data["totals"]["penalty_outstanding"]["amount"])
    accessible(page, "loan")
