"""An agency user's pages in a real headless Chromium: she signs in, sees only her agency's
placed cases, takes a promise on one, is refused another agency's case, and reads it all in
Chinese and English (screenshots on request: tests/browser.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from arrears.collections.models import Promise
from tests.agencies.conftest import Agencies, local
from tests.browser import keep_screenshot, needs_chromium

pytestmark = needs_chromium


@pytest.fixture
def agency_site(transactional_db: None, live_server: object, agencies: Agencies) -> str:
    amy = agencies.members["amy"].user
    amy.set_password("pw-amy-123")
    amy.save()
    return str(live_server.url)  # type: ignore[attr-defined]


@pytest.mark.slow
def test_an_agency_user_works_only_her_agencys_cases_in_both_languages(
    browser_page: object,
    agency_site: str,
    agencies: Agencies,
    _frozen_clock: time_machine.Traveller,
) -> None:
    _frozen_clock.move_to(local(timezone.localdate(), 10, 30))
    page = browser_page
    page.goto(f"{agency_site}/agency/")  # type: ignore[attr-defined]
    page.fill("#id_username", "amy")  # type: ignore[attr-defined]
    page.fill("#id_password", "pw-amy-123")  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector("#placed-cases")  # type: ignore[attr-defined]
    listing = page.inner_text("#placed-cases")  # type: ignore[attr-defined]
    mine, theirs = agencies.book.cases[0], agencies.book.cases[2]
    ours = [loan.ref for case in agencies.book.cases[:2] for loan in case.borrower.loans.all()]
    other = theirs.borrower.loans.get().ref
    assert all(ref in listing for ref in ours) and other not in listing
    assert "逾期天数" in listing  # the page speaks Chinese to a zh-CN browser
    keep_screenshot(page, "agency-home-zh")

    page.goto(f"{agency_site}/agency/cases/{mine.pk}/")  # type: ignore[attr-defined]
    page.wait_for_selector("#promise-form")  # type: ignore[attr-defined]
    due = agencies.book.today + timedelta(days=5)
    page.fill("#id_promise-amount", "300.00")  # type: ignore[attr-defined]
    page.fill("#id_promise-due_date", due.isoformat())  # type: ignore[attr-defined]
    page.click("#promise-form button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector("#promises")  # type: ignore[attr-defined]
    assert "300.00" in page.inner_text("#promises")  # type: ignore[attr-defined]
    assert Promise.objects.get().agency == agencies.acme
    keep_screenshot(page, "agency-case-zh")

    refused = page.goto(f"{agency_site}/agency/cases/{theirs.pk}/")  # type: ignore[attr-defined]
    assert refused.status == 404
    internal = page.goto(f"{agency_site}/cases/{mine.pk}/")  # type: ignore[attr-defined]
    assert internal.status == 404

    page.goto(f"{agency_site}/agency/cases/{mine.pk}/")  # type: ignore[attr-defined]
    page.select_option("select[name=language]", "en")  # type: ignore[attr-defined]
    page.wait_for_selector("text=Total due")  # type: ignore[attr-defined]
    keep_screenshot(page, "agency-case-en")
