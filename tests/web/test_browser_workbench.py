"""Issue 13's collector journey in a real headless Chromium (Debian's, driven by Playwright):
log in, find a borrower by phone suffix, open the case, log a right-party contact and a
promise with the keyboard shortcuts, and see both in the timeline without a full reload.

Screenshots go to ``ARREARS_SCREENSHOT_DIR`` (or the test's ``tmp_path``); the path is printed.
"""

from __future__ import annotations

import os
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from arrears.collections.models import ContactAttempt, Promise
from tests.web.conftest import Book
from tests.web.test_browser import CHROMIUM

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian chromium is not installed (scripts/ensure-browser)"
)


# Playwright's sync API runs an event loop; Django must allow its ORM calls in that thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def english_page():  # type: ignore[no-untyped-def]
    """A page in an English-speaking browser (the Chinese pages have their own tests)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield browser.new_context(locale="en-US").new_page()
        browser.close()


@pytest.fixture
def book(fresh_book: Book) -> Book:
    """These tests commit (a live server): the book built for each alone (tests/sharing.py)."""
    return fresh_book


@pytest.fixture
def site(transactional_db: None, live_server, book: Book, _frozen_clock: time_machine.Traveller):  # type: ignore[no-untyped-def]
    """The workbench book behind a live server, mid-morning (the gate allows calls)."""
    _frozen_clock.move_to(
        datetime.combine(book.today, time(10, 30), tzinfo=ZoneInfo("Asia/Shanghai"))
    )
    return live_server.url


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("ARREARS_SCREENSHOT_DIR") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {folder}")
    return folder


@pytest.mark.slow
def test_a_collector_finds_a_borrower_by_phone_suffix_and_logs_a_promise_without_a_reload(
    english_page, site: str, book: Book, shots: Path
) -> None:
    page = english_page
    case = book.cases[1]  # ann's; the borrower's phone ends in 0002
    page.goto(f"{site}/queue/")
    page.fill("#id_username", "ann")
    page.fill("#id_password", "pw-ann")
    page.click("button[type=submit]")
    page.wait_for_selector("#queue")
    # the queue sorted by DPD, kept as a saved view
    page.select_option("#queue-filter select[name=sort]", "dpd")
    page.click("#queue-filter button[type=submit]")
    page.wait_for_url("**/queue/?sort=dpd")
    page.fill("#save-view input[name=name]", "By DPD")
    page.click("#save-view button[type=submit]")
    page.wait_for_selector("#saved-views a:text('By DPD')")
    assert page.get_attribute("#saved-views a:text('By DPD')", "href") == "/queue/?sort=dpd"
    page.screenshot(path=str(shots / "0-queue-with-saved-view.png"), full_page=True)

    # the header's search box, by the phone's last four digits
    page.fill("#search-q", "0002")
    page.press("#search-q", "Enter")
    page.wait_for_selector("#search-cases")
    rows = page.locator("#search-cases tr[data-case]")
    assert rows.count() == 1
    assert "138****0002" in rows.inner_text()
    page.screenshot(path=str(shots / "1-search-by-phone-suffix.png"), full_page=True)
    rows.locator("a").click()
    page.wait_for_selector("#contact-form")
    assert page.url.endswith(f"/cases/{case.pk}/")
    page.wait_for_function("() => window.htmx !== undefined")

    # from here on, the page must never reload: a full load would drop this marker
    page.evaluate("() => { window.__workbenchMarker = 'no reload'; }")

    # R: a right-party call to the borrower, focus in the note; typing letters that are
    # shortcuts (p, w, n, c, r) into the note must not trigger them
    page.click("h1")
    page.keyboard.press("r")
    assert page.evaluate("() => document.activeElement.name") == "contact-note"
    assert page.input_value("[name='contact-outcome']") == "rpc"
    page.keyboard.type("spoke with him, will pay on Friday")
    assert page.input_value("[name='contact-outcome']") == "rpc"
    page.click("#contact-submit")
    page.wait_for_selector("#contacts td:has-text('Right-party contact')")
    assert "Contact logged." in page.inner_text("#activity-messages")
    assert "spoke with him, will pay on Friday" in page.inner_text("#contacts")
    assert page.evaluate("() => window.__workbenchMarker") == "no reload"

    # P: to the promise form's amount; a refused amount comes back in the form, in place
    page.click("h1")
    page.keyboard.press("p")
    assert page.evaluate("() => document.activeElement.name") == "promise-amount"
    page.keyboard.type("8OO")
    due = book.today  # "I'll pay this afternoon": it is on today's list
    page.fill("[name='promise-due_date']", due.isoformat())
    page.click("#promise-submit")
    page.wait_for_selector("#promise-form .errorlist")
    assert "Not an amount" in page.inner_text("#promise-form")
    assert page.input_value("[name='promise-amount']") == "8OO"
    assert page.evaluate("() => window.__workbenchMarker") == "no reload"
    page.fill("[name='promise-amount']", "800.00")
    page.fill("[name='promise-due_date']", due.isoformat())
    page.click("#promise-submit")
    page.wait_for_selector("#promises td:has-text('800.00')")
    timeline = page.inner_text("#timeline")
    assert "Promise" in timeline and "Contact" in timeline, timeline
    assert "Promised to pay" in page.inner_text("#case-status")
    assert page.evaluate("() => window.__workbenchMarker") == "no reload"
    page.screenshot(path=str(shots / "2-contact-and-promise-in-timeline.png"), full_page=True)

    # the promise due today is on the "Today" page
    page.click("#nav-today")
    page.wait_for_selector("#today-promises")
    assert page.locator(f"#today-promises tr[data-case='{case.pk}']").count() == 1
    page.screenshot(path=str(shots / "3-today.png"), full_page=True)

    contact = ContactAttempt.objects.get(case=case)
    assert (contact.outcome, contact.party, contact.note, contact.phone) == (
        "rpc",
        "borrower",
        "spoke with him, will pay on Friday",
        case.borrower.phones.get(),  # the shortcut picks the first number
    )
    promise = Promise.objects.get(case=case)
    assert (promise.amount_minor, promise.due_date) == (80_000, due)
    for name in (
        "0-queue-with-saved-view.png",
        "1-search-by-phone-suffix.png",
        "2-contact-and-promise-in-timeline.png",
        "3-today.png",
    ):
        assert (shots / name).stat().st_size > 10_000
