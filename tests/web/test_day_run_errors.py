"""A day run "completed with errors" is shown on the bucket page: the skipped loans named, each
with its one line, in English and in Chinese (issue 14, day summary)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from arrears.daily.models import DayRun
from arrears.daily.services import day_run
from arrears.ledger import models
from arrears.web import views
from tests import factories

AS_OF = date(2026, 2, 25)


@pytest.fixture
def staff(db: None) -> Client:
    user = get_user_model().objects.create_user("lead", is_staff=True)
    client = Client()
    client.force_login(user)
    product = factories.product()
    owner = factories.borrower()
    for ref in ("GOOD1", "POISON", "GOOD2"):
        factories.loan(ref, owner, product)
    return client


def _poison(ref: str) -> None:
    models.Loan.objects.filter(ref=ref).update(start_date=date(1, 1, 1))


def test_a_clean_run_shows_no_error_section(staff: Client) -> None:
    day_run(as_of=AS_OF)
    page = staff.get("/loans/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="run-errors"' not in page and "completed with errors" not in page


def test_the_skipped_loan_is_named_with_its_line_in_both_languages(staff: Client) -> None:
    _poison("POISON")
    day_run(as_of=AS_OF)
    run = DayRun.objects.get(as_of=AS_OF)
    assert run.status == DayRun.Status.COMPLETED_WITH_ERRORS
    english = staff.get("/loans/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="run-errors"' in english
    assert "completed with errors: 1 loan was skipped" in english
    assert 'data-loan="POISON"' in english and 'data-loan="GOOD1"' not in english
    assert "beyond what the ledger computes" in english and "ledger-limit-exceeded" in english
    chinese = staff.get("/loans/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "日终批处理已完成但有错误：1 笔贷款被跳过" in chinese
    assert "超出账务可计算的范围" in chinese and 'data-loan="POISON"' in chinese
    # another date's page does not carry this run's errors
    day_run(as_of=AS_OF + timedelta(days=1))
    later = staff.get("/loans/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert DayRun.objects.get(as_of=AS_OF + timedelta(days=1)).errors  # still poisoned
    assert 'data-loan="POISON"' in later
    models.Loan.objects.filter(ref="POISON").update(start_date=date(2026, 1, 15))
    day_run(as_of=AS_OF + timedelta(days=2))
    fixed = staff.get("/loans/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="run-errors"' not in fixed
    past = staff.get(f"/loans/?as_of={AS_OF.isoformat()}", HTTP_ACCEPT_LANGUAGE="en")
    assert 'data-loan="POISON"' in past.content.decode()


def test_many_errors_are_listed_up_to_a_limit_with_a_count_and_masked_details(
    staff: Client,
) -> None:
    day_run(as_of=AS_OF)
    run = DayRun.objects.get(as_of=AS_OF)
    run.status = DayRun.Status.COMPLETED_WITH_ERRORS
    run.errors = [
        {"loan": f"L{n}", "code": "loan-not-computable", "message": "call 13812345678"}
        for n in range(views.RUN_ERRORS_SHOWN + 7)
    ]
    run.save()
    page = staff.get("/loans/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert page.count("data-loan=") == views.RUN_ERRORS_SHOWN
    assert "… and 7 more" in page
    assert "13812345678" not in page
    assert "The loan&#x27;s stored values cannot be computed" in page
