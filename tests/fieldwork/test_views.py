"""The field-visit pages: who sees what, the actions as POST forms, refusals in the page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import override_settings

from arrears.fieldwork import services
from arrears.fieldwork.models import FieldAgent, FieldVisit
from tests import sharing
from tests.fieldwork.book import FieldKeys
from tests.fieldwork.conftest import AGENT_IDS, Field


@pytest.fixture
def field(shared_field: Field) -> Field:
    """Every test here starts from the field book as built: built once for the module."""
    return shared_field


def _scheduled(field: Field) -> FieldVisit:
    field.break_promises()
    s = field.staff
    visit = services.request_visit(field.case, by=s["ann"], reason="unreachable")
    services.approve(visit, by=s["lead"])
    services.assign(visit, [field.agents["fay"], field.agents["gus"]], by=s["lead"])
    services.authorise(visit, by=s["lead"])
    return visit


def test_request_form_shows_each_condition_and_refuses_ineligible(field: Field) -> None:
    client = field.client("ann")
    page = client.get(f"/visits/new/?case={field.case.pk}").content.decode()
    assert 'data-condition="unreachable_or_broken_promises"' in page
    assert "Not eligible for a field visit." in page and "not met" in page
    page = client.post(f"/visits/new/?case={field.case.pk}", {"reason": "try"}).content.decode()
    assert "is not eligible for a field visit: unreachable_or_broken_promises" in page
    assert not FieldVisit.objects.exists()


def test_request_then_approve_through_the_pages(field: Field) -> None:
    field.break_promises()
    response = field.client("ann").post(f"/visits/new/?case={field.case.pk}", {"reason": "gone"})
    visit = FieldVisit.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/visits/{visit.pk}/"
    page = field.client("ann").get(f"/visits/{visit.pk}/").content.decode()
    assert 'id="approve-form"' not in page  # a plain collector does not decide
    response = field.client("lead").post(f"/visits/{visit.pk}/", {"action": "approve", "note": ""})
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == FieldVisit.Status.APPROVED


def test_the_requester_sees_the_refusal_in_the_page(field: Field) -> None:
    field.break_promises()
    visit = services.request_visit(field.case, by=field.staff["lead"], reason="mine")
    page = field.client("lead").post(f"/visits/{visit.pk}/", {"action": "approve"}).content
    assert "never approves or rejects it" in page.decode()


def test_nobody_gets_404(field: Field) -> None:
    client = field.client("olga")
    assert client.get("/visits/").status_code == 404
    assert client.get(f"/visits/new/?case={field.case.pk}").status_code == 404


def test_an_empty_request_says_the_reason_is_required(field: Field) -> None:
    page = field.client("ann").post(f"/visits/new/?case={field.case.pk}", {}).content.decode()
    assert "errorlist" in page and not FieldVisit.objects.exists()


@pytest.fixture(scope="class")
def _authorised(
    _field_book: FieldKeys, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[int]:
    """:func:`_scheduled` on the module's book, built once for the class that asks for it
    (tests/sharing.py: rolled back after the class's last test); its authorisation letter is
    kept in a folder of the class's own."""
    letters = tmp_path_factory.mktemp("letters")

    def build() -> int:
        with override_settings(ARREARS_FIELDWORK_DIR=str(letters)):
            return _scheduled(_field_book.load()).pk

    yield from sharing.module_book(django_db_blocker, build, lambda pk: pk)


class TestAnAuthorisedVisit:
    """The pages of a visit requested, approved, assigned to fay and gus and authorised: the
    class's tests start from it (:func:`_authorised`), each in its own savepoint."""

    @pytest.fixture
    def visit(self, _authorised: int, field: Field) -> FieldVisit:
        """The authorised visit, loaded afresh."""
        return FieldVisit.objects.get(pk=_authorised)

    def test_an_agent_sees_only_assigned_visits_with_minimal_data(
        self, field: Field, visit: FieldVisit
    ) -> None:
        page = field.client("fay").get("/visits/").content.decode()
        assert f'data-visit="{visit.pk}"' in page
        detail = field.client("fay").get(f"/visits/{visit.pk}/").content.decode()
        assert "张三" in detail and "+86139****0009" in detail
        assert "unreachable" not in detail  # not the request's reason: minimal case data
        assert 'id="eligibility"' not in detail and AGENT_IDS["fay"] not in detail
        assert field.client("fay").get(f"/visits/{visit.pk}/letter/").status_code == 200
        other = User.objects.create_user(username="hal")
        FieldAgent.objects.create(user=other, full_name="何", id_number="X1")
        client = field.client("ann")
        client.force_login(other)
        assert f'data-visit="{visit.pk}"' not in client.get("/visits/").content.decode()
        assert client.get(f"/visits/{visit.pk}/").status_code == 404
        assert client.get(f"/visits/{visit.pk}/letter/").status_code == 404

    def test_schedule_at_night_shows_the_rule(
        self, field: Field, visit: FieldVisit, settings: Any
    ) -> None:
        night = (field.today + timedelta(days=1)).isoformat() + "T23:00"
        page = field.client("lead").post(
            f"/visits/{visit.pk}/",
            {"action": "schedule", "appointment_at": night, "place": "home"},
        )
        assert "cn.hours" in page.content.decode()

    def test_pages_read_in_chinese(self, field: Field, visit: FieldVisit) -> None:
        client = field.client("lead")
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
        page = client.get(f"/visits/{visit.pk}/").content.decode()
        assert "上门催收 #" in page and "出具授权书" not in page and "确定预约" in page
        assert "符合上门催收条件" in page
        night = (field.today + timedelta(days=1)).isoformat() + "T23:00"
        page = client.post(
            f"/visits/{visit.pk}/", {"action": "schedule", "appointment_at": night, "place": "家"}
        ).content.decode()
        assert "合规检查不允许" in page and "cn.hours" in page

    def test_a_field_agent_walks_the_visit_through_the_pages(
        self, field: Field, visit: FieldVisit, _frozen_clock: Any
    ) -> None:
        from arrears.collections.models import ContactAttempt, Promise

        tomorrow = field.today + timedelta(days=1)
        lead, fay = field.client("lead"), field.client("fay")
        response = lead.post(
            f"/visits/{visit.pk}/",
            {"action": "schedule", "appointment_at": f"{tomorrow}T10:00", "place": "幸福路1号"},
        )
        assert response.status_code == 302
        page = fay.get(f"/visits/{visit.pk}/").content.decode()
        assert 'id="check-in-form"' in page and 'id="approve-form"' not in page
        _frozen_clock.move_to(f"{tomorrow}T10:02:00+08:00")
        fay.post(
            f"/visits/{visit.pk}/", {"action": "check_in", "lat": "31.2304", "lon": "121.4737"}
        )
        page = fay.get(f"/visits/{visit.pk}/").content.decode()
        assert 'id="check-out-form"' in page and "31.230400" in page
        fay.post(f"/visits/{visit.pk}/", {"action": "check_out", "lat": "", "lon": ""})
        response = fay.post(
            f"/visits/{visit.pk}/",
            {
                "action": "report",
                "outcome": "promise",
                "notes": "本人在家",
                "evidence": "audio/1.m4a\nphoto/2.jpg\n",
                "promise_amount": "5000.00",
                "promise_due": str(tomorrow + timedelta(days=7)),
            },
        )
        assert response.status_code == 302
        assert Promise.objects.get(status="pending").amount_minor == 500_000
        assert ContactAttempt.objects.get(channel="visit").visitors == ["fay", "gus"]
        lead.post(f"/visits/{visit.pk}/", {"action": "close"})
        visit.refresh_from_db()
        assert visit.status == FieldVisit.Status.CLOSED
        assert visit.evidence == ["audio/1.m4a", "photo/2.jpg"]
