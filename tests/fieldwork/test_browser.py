"""A field agent's pages in a real headless Chromium: the agent signs in, finds the visit she is
assigned, checks in and out at the appointment, files the report, and the lead closes it —
in Chinese, then in English (screenshots on request: tests/browser.py)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from arrears.fieldwork import services
from arrears.fieldwork.models import FieldVisit
from tests.browser import keep_screenshot, needs_chromium
from tests.fieldwork.conftest import Field

pytestmark = needs_chromium


@pytest.fixture
def field_site(transactional_db: None, live_server: Any, field: Field) -> str:
    for who in ("fay", "lead"):
        field.staff[who].set_password(f"pw-{who}-123")
        field.staff[who].save()
    return str(live_server.url)


def _sign_in(page: Any, site: str, who: str) -> None:
    page.goto(f"{site}/visits/")
    page.fill("#id_username", who)
    page.fill("#id_password", f"pw-{who}-123")
    page.click("button[type=submit]")
    page.wait_for_selector("h1")


@pytest.mark.slow
def test_a_field_agent_walks_her_visit_from_check_in_to_report(
    browser_page: Any, field_site: str, field: Field, _frozen_clock: time_machine.Traveller
) -> None:
    today = field.today
    _frozen_clock.move_to(timezone.make_aware(datetime.combine(today, time(9, 0))))
    field.break_promises()
    s = field.staff
    visit = services.request_visit(field.case, by=s["ann"], reason="失联 unreachable")
    services.approve(visit, by=s["lead"])
    services.assign(visit, [field.agents["fay"], field.agents["gus"]], by=s["lead"])
    services.authorise(visit, by=s["lead"])
    appointment = timezone.make_aware(datetime.combine(today, time(10, 0)))
    services.schedule(visit, at=appointment, place="幸福路1号", by=s["lead"])
    _frozen_clock.move_to(appointment + timedelta(minutes=2))

    page = browser_page
    _sign_in(page, field_site, "fay")
    page.wait_for_selector(f"a[href='/visits/{visit.pk}/']")
    page.click(f"a[href='/visits/{visit.pk}/']")
    page.wait_for_selector("#check-in-form")
    page.click("#check-in-form button[type=submit]")
    page.wait_for_selector("#check-out-form")
    page.click("#check-out-form button[type=submit]")
    page.wait_for_selector("#report-form")
    page.select_option("#id_outcome", "not_home")
    page.fill("#id_notes", "无人应门，已留联系卡")
    page.fill("#id_evidence", "photo/door.jpg")
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("#report-form", state="detached")
    visit.refresh_from_db()
    assert visit.status == FieldVisit.Status.REPORTED
    assert visit.checked_in_at is not None and visit.checked_out_at is not None
    body = page.inner_text("main")
    assert "幸福路1号" in body and "****" in body  # the agents' ID numbers only masked
    keep_screenshot(page, "field-visit-agent-zh")
    page.select_option("select[name=language]", "en")
    page.wait_for_selector("text=Field visit")
    keep_screenshot(page, "field-visit-agent-en")

    page.click("form[action$='/logout/'] button")
    _sign_in(page, field_site, "lead")
    page.goto(f"{field_site}/visits/{visit.pk}/")
    page.click("#close-form button[type=submit]")
    page.wait_for_selector("#cancel-form", state="detached")
    visit.refresh_from_db()
    assert visit.status == FieldVisit.Status.CLOSED
