"""Every registered report's page in a real headless Chromium, in both languages: the charts
are drawn by the vendored Chart.js (no request leaves the site) and a screenshot of each page
is kept (the paths are printed; ``ARREARS_SCREENSHOTS=DIR`` keeps them there instead of the
test's temporary folder). The reports of ``reports/library`` join the loop as they are added."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from arrears.reports.base import ReportSpec, load_all
from tests.reports.conftest import SAMPLE_DAY
from tests.reports.test_ledger_states import recorded_book
from tests.roles import Role, make_user
from tests.web.test_browser import CHROMIUM, chromium_page

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian chromium is not installed (scripts/ensure-browser)"
)
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


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
    tmp_path: Path,
) -> None:
    make_user(Role.MANAGER, username="boss", password="pw-boss-123")
    recorded_book(12)  # figures for the ledger reports' charts
    shots = Path(os.environ.get("ARREARS_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
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
            path = shots / f"report-{spec.name}-{language}.png"
            page.screenshot(path=str(path), full_page=True)
            print(path)
        assert ("报表" if language == "zh-hans" else "Reports") in page.inner_text("header")
    # the sample report's money, on its own page (whatever report the loop ended on)
    page.goto(f"{live_server.url}/reports/{sample_report.name}/?as_of={SAMPLE_DAY.isoformat()}")
    page.wait_for_selector("#report-title")
    assert "CN¥12,345.67" in page.content() or "CN¥" in page.inner_text("body")
    assert errors == [] and outside == []
