"""Issue 13's team lead in a real headless Chromium: ten cases reassigned in bulk from the
team list, then the dashboard's charts drawn by the vendored Chart.js, with the same figures
in the tables under them. ``ARREARS_SCREENSHOTS=DIR`` keeps screenshots (tests/browser.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from arrears.collections.models import Case, CaseEvent
from tests.browser import chromium_page, keep_screenshot, needs_chromium
from tests.web.team_book import TeamBook, make_team_book, seed_figures

pytestmark = needs_chromium


@pytest.fixture
def team_site(transactional_db, live_server) -> tuple[str, TeamBook]:
    book = make_team_book()
    seed_figures(book)  # today's contacts, promises and a payment this month
    return live_server.url, book


@pytest.fixture
def browser_page() -> Iterator[Any]:
    with chromium_page(viewport={"width": 1400, "height": 1000}) as page:
        yield page


def _axe_serious(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


@pytest.mark.slow
def test_a_lead_reassigns_ten_cases_in_bulk_and_sees_the_dashboard_charts(browser_page, team_site):
    site, book = team_site
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{site}/team/")
    page.fill("#id_username", "lead")
    page.fill("#id_password", "pw-lead")
    page.click("button[type=submit]")
    page.wait_for_selector("#team-cases")
    assert "团队案件" in page.inner_text("h1")
    assert page.locator("#team-cases input[name=cases]").count() == 12
    # the badge counts nothing: no request waits
    assert page.locator("#approvals-badge").count() == 0

    ten = book.cases[:10]
    for case in ten:
        page.check(f"#team-cases tr[data-case='{case.pk}'] input[name=cases]")
    page.select_option("#bulk-collector", label="bob")
    keep_screenshot(page, "team-selected")
    with page.expect_navigation():
        page.click("#bulk-submit")
    page.wait_for_selector("#messages")
    assert "已将 10 个案件改派给 bob" in page.inner_text("#messages")
    for case in ten:
        assert page.inner_text(f"#team-cases tr[data-case='{case.pk}'] td.collector") == "bob"
    assert page.inner_text(f"#team-cases tr[data-case='{book.cases[10].pk}'] td.collector") == "ann"
    assert Case.objects.filter(collector=book.staff["bob"]).count() == 10
    assert (
        CaseEvent.objects.filter(kind="assigned", actor=book.staff["lead"].user, to_value="bob")
        .values("case")
        .distinct()
        .count()
        == 10
    )
    assert _axe_serious(page) == []
    keep_screenshot(page, "team-reassigned")

    page.click("#nav-dashboard")
    page.wait_for_selector("#chart-roll")
    for name in ("queue", "contacts", "promises", "collected", "roll"):
        page.wait_for_selector(f"#canvas-{name}[data-drawn=true]")
        box = page.locator(f"#canvas-{name}").bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100
    # Chart.js drew something: the canvas is not blank
    painted = page.evaluate(
        """() => { const c = document.getElementById('canvas-queue');
                   const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i]) n++; }
                   return n; }"""
    )
    assert painted > 1000, painted
    queue = page.inner_text("#table-queue")
    assert "催收" in queue and "12" in queue, queue
    rows = page.locator("#table-contacts tbody tr")
    assert rows.filter(has_text="ann").inner_text().split() == ["ann", "3", "2"]
    assert rows.filter(has_text="bob").inner_text().split() == ["bob", "1", "0"]
    made = page.locator("#table-promises tbody tr").first.inner_text().split()
    assert made == ["已承诺", "2", "5"], made
    collected = page.inner_text("#table-collected")
    assert "¥1,234.56" in collected and "¥5,000.00" in collected, collected
    assert "24.69%" in collected
    roll = page.inner_text("#table-roll")
    assert "M0" in roll and "100.00%" in roll, roll
    assert "数据来自日终批处理" in page.inner_text("#as-of")
    assert errors == []
    assert _axe_serious(page) == []
    keep_screenshot(page, "team-dashboard-zh")
