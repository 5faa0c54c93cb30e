"""The bucket page and the explain view, through Django's test client."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model

from arrears.daily.services import day_run
from tests import factories

FIRST_DUE = date(2026, 2, 15)
AS_OF = FIRST_DUE + timedelta(days=10)


@pytest.fixture
def client_in(client, db):
    user = get_user_model().objects.create_user("lead", password="pw-lead-123", is_staff=True)
    client.force_login(user)
    product = factories.product()
    factories.loan("LATE", factories.borrower(), product)
    day_run(as_of=AS_OF)
    return client


def test_pages_need_a_login(client, db):
    response = client.get("/loans/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_bucket_page_lists_the_delinquent_loan_with_a_masked_phone(client_in):
    page = client_in.get("/loans/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "LATE" in page
    assert "+86138****5678" in page
    assert "13812345678" not in page
    assert "Loans by bucket" in page


def test_explain_view_shows_the_penalty_formula(client_in):
    page = client_in.get(f"/loans/LATE/?as_of={AS_OF}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "10 days × 833.33 × 0.075% = 6.20" in page


def test_explain_json_matches_any_date_asked(client_in):
    later = AS_OF + timedelta(days=5)
    data = client_in.get(f"/loans/LATE/?as_of={later}&format=json").json()
    assert data["as_of"] == str(later) and data["dpd"] == 15


def test_the_ui_speaks_chinese(client_in):
    page = client_in.get("/loans/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "按账龄查看借据" in page


def test_a_bad_date_is_a_404_not_a_crash(client_in):
    assert client_in.get("/loans/LATE/?as_of=2026-02-30").status_code == 404
    assert client_in.get("/loans/NOPE/").status_code == 404
