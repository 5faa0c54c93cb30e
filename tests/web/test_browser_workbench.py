"""Issue 13's collector journey in a real headless Chromium (Debian's, driven by Playwright):
log in, find a borrower by phone suffix, open the case, log a right-party contact and a
promise with the keyboard shortcuts, and see both in the timeline without a full reload.

``ARREARS_SCREENSHOTS=DIR`` keeps screenshots of each step (tests/browser.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from arrears.collections.models import ContactAttempt, Promise
from tests.browser import chromium_page, keep_screenshot, needs_chromium
from tests.web.conftest import Book

pytestmark = needs_chromium


@pytest.fixture
def english_page() -> Iterator[Any]:
    """A page in an English-speaking browser (the Chinese pages have their own tests)."""
    with chromium_page(locale="en-US") as page:
        yield page


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


@pytest.mark.slow
def test_a_collector_finds_a_borrower_by_phone_suffix_and_logs_a_promise_without_a_reload(
    english_page, site: str, book: Book
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
    keep_screenshot(page, "workbench-0-queue-with-saved-view")

    # the header's search box, by the phone's last four digits
    page.fill("#search-q", "0002")
    page.press("#search-q", "Enter")
    page.wait_for_selector("#search-cases")
    rows = page.locator("#search-cases tr[data-case]")
    assert rows.count() == 1
    assert "138****0002" in rows.inner_text()
    keep_screenshot(page, "workbench-1-search-by-phone-suffix")
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
    keep_screenshot(page, "workbench-2-contact-and-promise-in-timeline")

    # the promise due today is on the "Today" page
    page.click("#nav-today")
    page.wait_for_selector("#today-promises")
    assert page.locator(f"#today-promises tr[data-case='{case.pk}']").count() == 1
    keep_screenshot(page, "workbench-3-today")

    contact = ContactAttempt.objects.get(case=case)
    assert (contact.outcome, contact.party, contact.note, contact.phone) == (
        "rpc",
        "borrower",
        "spoke with him, will pay on Friday",
        case.borrower.phones.get(),  # the shortcut picks the first number
    )
    promise = Promise.objects.get(case=case)
    assert (promise.amount_minor, promise.due_date) == (80_000, due)
