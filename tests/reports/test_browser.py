"""Every registered report's page in a real headless Chromium, in both languages: the charts
are drawn by the vendored Chart.js (no request leaves the site); ``ARREARS_SCREENSHOTS=DIR``
keeps a screenshot of each page there (tests/browser.py). The reports of ``reports/library``
join the loop as they are added."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from arrears.reports.base import ReportSpec, load_all
from tests.browser import chromium_page, keep_screenshot, needs_chromium
from tests.reports.conftest import SAMPLE_DAY
from tests.reports.test_ledger_states import recorded_book
from tests.roles import Role, make_user

pytestmark = needs_chromium


@pytest.fixture
def browser_page() -> Iterator[Any]:
    with chromium_page(viewport={"width": 1400, "height": 1000}) as page:
        yield page


@pytest.mark.slow
def test_every_report_page_draws_its_charts_in_both_languages(
    browser_page: Any,
    transactional_db: None,
    live_server: Any,
    sample_report: ReportSpec,
) -> None:
    make_user(Role.MANAGER, username="boss", password="pw-boss-123")
    recorded_book(12)  # figures for the ledger reports' charts
    page = browser_page
    errors: list[str] = []
    outside: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(live_server.url) else outside.append(request.url)
        ),
    )
    page.goto(f"{live_server.url}/reports/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-boss-123")
    page.click("button[type=submit]")
    page.wait_for_selector("#report-index")
    specs = sorted(load_all().values(), key=lambda spec: (spec.order, spec.name))
    assert sample_report in specs
    for language in ("zh-hans", "en"):
        page.context.add_cookies(
            [{"name": "django_language", "value": language, "url": live_server.url}]
        )
        for spec in specs:
            page.goto(f"{live_server.url}/reports/{spec.name}/?as_of={SAMPLE_DAY.isoformat()}")
            page.wait_for_selector("#report-title")
            canvases = page.locator("canvas")
            for n in range(canvases.count()):
                assert canvases.nth(n).get_attribute("data-drawn") == "true"
            keep_screenshot(page, f"report-{spec.name}-{language}")
        assert ("报表" if language == "zh-hans" else "Reports") in page.inner_text("header")
    # the sample report's money, on its own page (whatever report the loop ended on)
    page.goto(f"{live_server.url}/reports/{sample_report.name}/?as_of={SAMPLE_DAY.isoformat()}")
    page.wait_for_selector("#report-title")
    assert "CN¥12,345.67" in page.content() or "CN¥" in page.inner_text("body")
    assert errors == [] and outside == []
