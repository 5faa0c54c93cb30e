"""The borrower portal in a real headless Chromium at a phone's width (390 px), with axe-core.

Must show (issue 11): a borrower signs in with the code from the captured SMS, sees the balance
matching ``arrears explain`` to the fen, verifies a genuine and a fake authorisation code, files
a harassment complaint, and the case is then on hold (no reminder on the next daily run). Each
page passes an automated accessibility check with no serious or critical violations;
``ARREARS_SCREENSHOTS=DIR`` keeps a screenshot of each (tests/browser.py).
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from tests.browser import chromium_page, keep_screenshot, needs_chromium
from tests.portal.conftest import Book

pytestmark = needs_chromium

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone_page():
    with chromium_page(
        locale="en-US", viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    ) as page:
        yield page


def accessible(page, name: str) -> None:
    """axe-core on the page as it is: no serious or critical violation (a screenshot on request)."""
    from axe_playwright_python.sync_playwright import Axe

    keep_screenshot(page, f"portal-{name}-390")
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_a_borrower_checks_a_visitor_and_complains_and_collection_stops(
    phone_page, portal_site: str, book: Book
):
    """The rest of the must-show walk: a genuine visit authorisation and a fake code checked on
    the verify page, a harassment complaint filed, and the next daily run sends no reminder
    (the day's reminder work item is suppressed by the complaint's hold). Every portal page
    (plan, verify, preferences, history, complaints, notices) passes axe at 390 px."""
    from datetime import timedelta

    from django.utils import timezone

    from arrears.collections.models import Case, WorkItem
    from arrears.collections.workflow import evaluate_day
    from arrears.complaints.models import Complaint
    from arrears.daily.services import day_run
    from arrears.verification.services import issue

    now = timezone.now()
    genuine = issue(
        kind="visit_authorisation",
        holder="方芳 (field agent)",
        issuer_kind="lender",
        issuer_name="Demo Consumer Finance",
        authorises_en="a field visit to the borrower's home address",
        authorises_zh="上门拜访借款人住址",
        valid_from=now - timedelta(days=1),
        valid_to=now + timedelta(days=6),
        issued_at=now - timedelta(days=1),
        case=book.case,
    ).code
    page = phone_page
    site = portal_site
    page.goto(f"{site}/my/")
    page.fill("#loan", book.loan.ref)
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_selector("#code")
    page.fill("#code", book.codes()[-1])
    page.click("#code-form button[type=submit]")
    page.wait_for_selector(".loan-card")

    page.goto(f"{site}/my/verify/")
    accessible(page, "verify")
    page.fill("#code", genuine)
    page.click("#code-form button[type=submit]")
    page.wait_for_selector("#document")
    assert page.get_attribute("#document", "data-status") == "valid"
    assert "方芳" in page.inner_text("#document")
    accessible(page, "verify-genuine")
    page.fill("#code", "7K3M-Q9XD-2WPA-HF0T")
    page.click("#code-form button[type=submit]")
    page.wait_for_selector("#document")
    assert page.get_attribute("#document", "data-status") == "unknown"

    for name in ("preferences", "history", "notices", "complaints"):
        page.goto(f"{site}/my/{name}/")
        accessible(page, name)
    page.goto(f"{site}/my/loans/{book.loan.ref}/plan/")
    accessible(page, "plan")

    page.goto(f"{site}/my/complaints/new/")
    accessible(page, "complaint-new")
    page.select_option("#category", "harassment")
    page.fill("#description", "Someone called me ten times today and shouted.")
    page.click("#complaint-form button[type=submit]")
    page.wait_for_selector("#filed")
    assert page.query_selector("#paused") is not None
    accessible(page, "complaint-filed")
    complaint = Complaint.objects.get(borrower=book.borrower)
    assert complaint.category == "harassment" and complaint.channel == "portal"

    tomorrow = book.today + timedelta(days=1)
    day_run(as_of=tomorrow, engine="reference")
    evaluate_day(tomorrow)
    reminders = WorkItem.objects.filter(borrower_id=book.borrower.pk, due_on=tomorrow)
    assert reminders.exists()  # the ladder asked for one …
    assert not reminders.exclude(status="suppressed").exists()  # … and the hold stopped it
    assert Case.objects.get(pk=book.case.pk).status == "on_hold"
