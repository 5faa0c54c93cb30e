"""The agency user's pages: only the agency's live placed cases, minimised; actions through
the contact log and its gate; files in and out."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import polars as pl
import pytest
import time_machine
from django.test import Client

from arrears.collections.models import ContactAttempt, Promise
from arrears.ledger.models import RepaymentPlan
from tests.agencies.conftest import PHONES, Agencies, local
from tests.factories import valid_ric


def _case_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-case="(\d+)"', page)]


def _url(agencies: Agencies, n: int) -> str:
    return f"/agency/cases/{agencies.book.cases[n].pk}/"


def _contact(client: Client, url: str, **fields: str) -> object:
    data = {
        "action": "contact",
        "contact-channel": "call",
        "contact-party": "borrower",
        "contact-phone": "",
        "contact-outcome": "no_answer",
        "contact-note": "",
    }
    data.update({f"contact-{k}": v for k, v in fields.items()})
    return client.post(url, data)


# --- who sees what ----------------------------------------------------------------------------


def test_the_list_shows_only_the_agencys_live_cases_masked(agencies: Agencies) -> None:
    page = agencies.client("amy").get("/agency/")
    assert page.status_code == 200
    text = page.content.decode()
    cases = agencies.book.cases
    assert _case_ids(text) == [cases[0].pk, cases[1].pk]
    assert valid_ric() not in text and not any(p in text for p in PHONES)
    assert _case_ids(agencies.client("ben").get("/agency/").content.decode()) == [cases[2].pk]


def test_a_recalled_placement_disappears_from_the_list_and_its_page(agencies: Agencies) -> None:
    placement = agencies.placements[0]
    placement.recalled_on, placement.recall_reason = agencies.book.today, "complaint"
    placement.save()
    amy = agencies.client("amy")
    assert _case_ids(amy.get("/agency/").content.decode()) == [agencies.book.cases[1].pk]
    assert amy.get(_url(agencies, 0)).status_code == 404


def test_another_agencys_case_and_a_missing_one_are_the_same_404(agencies: Agencies) -> None:
    amy = agencies.client("amy")
    assert amy.get(_url(agencies, 0)).status_code == 200
    assert amy.get(_url(agencies, 2)).status_code == 404
    assert amy.get("/agency/cases/999999/").status_code == 404
    assert _contact(amy, _url(agencies, 2)).status_code == 404
    assert not ContactAttempt.objects.exists()


def test_an_agency_user_gets_nothing_of_the_internal_pages(agencies: Agencies) -> None:
    amy = agencies.client("amy")
    assert amy.get("/queue/").status_code == 403
    assert amy.get(f"/cases/{agencies.book.cases[0].pk}/").status_code == 404
    assert amy.get("/loans/L-0/").status_code == 404
    assert amy.get("/approvals/").status_code == 403


def test_the_agency_pages_are_for_agency_users_only(agencies: Agencies) -> None:
    assert Client().get("/agency/").status_code == 302  # to the login page
    ann = Client()
    ann.force_login(agencies.book.staff["ann"].user)
    assert ann.get("/agency/").status_code == 403
    assert ann.get(_url(agencies, 0)).status_code == 403


def test_the_case_page_shows_amounts_and_dials_only_in_the_contact_form(
    agencies: Agencies,
) -> None:
    text = agencies.client("amy").get(_url(agencies, 0)).content.decode()
    assert "¥900.00" in text or "CN¥900.00" in text
    assert "+86138****0001" in text and valid_ric() not in text
    form = re.search(r'<form method="post" id="contact-form">.*?</form>', text, re.S)
    assert form is not None and PHONES[0] in form.group(0)
    assert text.count(PHONES[0]) == form.group(0).count(PHONES[0])
    channels = re.search(r'<select name="contact-channel".*?</select>', text, re.S)
    assert channels is not None
    assert re.findall(r'value="(\w+)"', channels.group(0)) == ["call", "sms"]
    assert "contact-visitors" not in text  # no visits in acme's contract


@pytest.mark.usefixtures("office_hours")
def test_a_visit_needs_the_contract_and_two_visitors(agencies: Agencies) -> None:
    agencies.acme.permitted_channels = ["call", "visit"]
    agencies.acme.save()
    amy = agencies.client("amy")
    alone = _contact(amy, _url(agencies, 0), channel="visit", outcome="rpc")
    assert alone.status_code == 400 and "cn.visit-two-collectors" in alone.content.decode()
    pair = _contact(amy, _url(agencies, 0), channel="visit", outcome="rpc", visitors="al")
    assert pair.status_code == 302
    assert ContactAttempt.objects.get().visitors == ["al", "amy"]


# --- actions ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("office_hours")
def test_a_contact_is_logged_through_the_gate_with_the_agency(agencies: Agencies) -> None:
    amy = agencies.client("amy")
    phone = agencies.book.cases[0].borrower.phones.get()
    response = _contact(amy, _url(agencies, 0), phone=str(phone.pk), outcome="rpc", note="ok")
    assert response.status_code == 302
    contact = ContactAttempt.objects.get()
    assert (contact.agency, contact.collector.username, contact.gate_outcome) == (
        agencies.acme,
        "amy",
        "allow",
    )
    page = amy.get(_url(agencies, 0)).content.decode()
    assert "Right-party contact" in page


def test_a_call_at_2300_is_refused_citing_the_rule(
    agencies: Agencies, _frozen_clock: time_machine.Traveller
) -> None:
    _frozen_clock.move_to(local(agencies.book.today, 23, 0))
    response = _contact(agencies.client("amy"), _url(agencies, 0))
    assert response.status_code == 400
    text = response.content.decode()
    assert "cn.hours" in text and "override" not in text.lower()
    assert not ContactAttempt.objects.exists()


@pytest.mark.usefixtures("office_hours")
def test_a_channel_outside_the_contract_is_refused(agencies: Agencies) -> None:
    response = _contact(agencies.client("amy"), _url(agencies, 0), channel="visit")
    assert response.status_code == 400
    assert not ContactAttempt.objects.exists()


@pytest.mark.usefixtures("office_hours")
def test_a_promise_is_recorded_for_the_agency(agencies: Agencies) -> None:
    due = agencies.book.today + timedelta(days=5)
    response = agencies.client("amy").post(
        _url(agencies, 1),
        {"action": "promise", "promise-amount": "300.50", "promise-due_date": due.isoformat()},
    )
    assert response.status_code == 302
    promise = Promise.objects.get()
    assert (promise.agency, promise.amount_minor, promise.case) == (
        agencies.acme,
        30_050,
        agencies.book.cases[1],
    )


@pytest.mark.usefixtures("office_hours")
def test_a_plan_goes_to_the_lenders_approvers_with_the_agency_user_as_maker(
    agencies: Agencies,
) -> None:
    today = agencies.book.today
    lines = "\n".join(f"{(today + timedelta(days=30 * n)).isoformat()} 3000.00" for n in (1, 2, 3))
    loan = agencies.book.cases[0].borrower.loans.get()
    response = agencies.client("amy").post(
        _url(agencies, 0),
        {
            "action": "plan",
            "plan-loan": str(loan.pk),
            "plan-instalments": lines,
            "plan-grace_days": "3",
            "plan-tolerance": "",
            "plan-note": "asked on the phone",
        },
    )
    assert response.status_code == 302, re.findall(
        r'class="errorlist.*?</ul>', response.content.decode(), re.S
    )
    plan = RepaymentPlan.objects.get()
    assert plan.proposed_by.username == "amy" and plan.status == "requested"
    assert plan.note.startswith("[agency acme]")


# --- files ------------------------------------------------------------------------------------


def test_the_export_downloads_as_csv_and_parquet(agencies: Agencies) -> None:
    amy = agencies.client("amy")
    csv = amy.get("/agency/export.csv")
    assert csv.status_code == 200 and "attachment" in csv["Content-Disposition"]
    assert csv.content.decode().startswith("placement_id,case_id,")
    parquet = amy.get("/agency/export.parquet")
    frame = pl.read_parquet(io.BytesIO(parquet.content))
    assert frame["case_id"].to_list() == [c.pk for c in agencies.book.cases[:2]]
    assert amy.get("/agency/export.xlsx").status_code == 403


def _upload(client: Client, data: bytes, name: str = "results.csv", reference: str = "") -> object:
    upload = io.BytesIO(data)
    upload.name = name
    return client.post("/agency/results/", {"file": upload, "reference": reference})


@pytest.mark.usefixtures("office_hours")
def test_a_results_file_is_imported_once(agencies: Agencies) -> None:
    at = local(agencies.book.today, 10, 0).isoformat()
    data = f"case_id,at,channel,party,outcome\n{agencies.book.cases[0].pk},{at},call,borrower,rpc\n"
    amy = agencies.client("amy")
    assert _upload(amy, data.encode()).status_code == 302
    assert ContactAttempt.objects.get().agency == agencies.acme
    again = amy.get(_upload(amy, data.encode())["Location"])
    assert "already imported" in again.content.decode()
    assert ContactAttempt.objects.count() == 1


@pytest.mark.usefixtures("office_hours")
def test_a_bad_results_file_shows_row_errors_and_applies_nothing(agencies: Agencies) -> None:
    at = local(agencies.book.today, 10, 0).isoformat()
    cases = agencies.book.cases
    data = (
        "case_id,at,channel,party,outcome,paid\n"
        f"{cases[0].pk},{at},call,borrower,rpc,\n"
        f"{cases[2].pk},{at},call,borrower,rpc,\n"
        f"{cases[1].pk},{at},call,borrower,rpc,100\n"
    )
    response = _upload(agencies.client("amy"), data.encode(), reference="bad-1")
    assert response.status_code == 400
    text = response.content.decode()
    table = re.search(r'<table id="row-errors">.*?</table>', text, re.S)
    assert table is not None
    assert 'data-code="results-case-not-placed"' in table.group(0)
    assert 'data-code="results-collected-refused"' in table.group(0)
    assert not ContactAttempt.objects.exists()


# --- language ---------------------------------------------------------------------------------


def test_the_agency_pages_speak_chinese(agencies: Agencies) -> None:
    amy = agencies.client("amy")
    amy.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    home = amy.get("/agency/").content.decode()
    assert "委托给 Acme Collections 的案件" in home and "上传结果" in home
    case = amy.get(_url(agencies, 0)).content.decode()
    assert "记录催记" in case and "本机构的联系记录" in case


def test_the_list_is_paged(agencies: Agencies, monkeypatch: pytest.MonkeyPatch) -> None:
    from arrears.agencies import views

    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    amy = agencies.client("amy")
    first = amy.get("/agency/").content.decode()
    second = amy.get("/agency/?page=2").content.decode()
    cases = agencies.book.cases
    assert (_case_ids(first), _case_ids(second)) == ([cases[0].pk], [cases[1].pk])
    assert "1 / 2" in first


@pytest.mark.usefixtures("office_hours")
def test_row_errors_read_in_chinese(agencies: Agencies) -> None:
    amy = agencies.client("amy")
    amy.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    at = local(agencies.book.today, 10, 0).isoformat()
    data = (
        "case_id,at,channel,party,outcome,collected\n"
        f"999999,{at},call,borrower,rpc,\n{agencies.book.cases[0].pk},{at},call,borrower,rpc,5\n"
    )
    text = _upload(amy, data.encode(), reference="zh").content.decode()
    assert "不是委托给贵机构的案件" in text and "还款仅以账务系统为准" in text
    assert "未应用任何内容" in text
