"""The audit page and the case page's audit panel: staff and compliance only."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.utils import timezone

from arrears.audit import chain, services
from arrears.audit.models import AuditEntry
from arrears.collections import dayflow
from arrears.collections.models import Case, Collector, Team
from arrears.complaints import services as complaints
from arrears.daily.services import day_run
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def case() -> Case:
    today = timezone.localdate()
    owner = factories.borrower("B-V", phone="+8613900000031")
    factories.loan(
        "L-V", owner, factories.product(), principal_minor=900_000, start=today - timedelta(40)
    )
    day_run(as_of=today, engine="reference")
    dayflow.run(today)
    return Case.objects.get(borrower=owner)


def _client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _complaint(case: Case) -> None:
    complaints.file_complaint(
        borrower=case.borrower,
        kind="dispute",
        category="wrong_amount",
        description="the penalty is wrong",
        channel="letter",
    )


def test_collectors_and_agency_users_get_403_staff_and_compliance_see_it(case: Case) -> None:
    team = Team.objects.create(code="t", name="T", owner="team")
    collector = User.objects.create_user("col")
    Collector.objects.create(user=collector, team=team, role="team_lead")
    assert _client(collector).get("/audit/").status_code == 403
    assert _client(collector).get(f"/audit/case/{case.pk}/bundle.zip").status_code == 403
    assert Client().get("/audit/").status_code == 302  # to the sign-in page
    compliance = User.objects.create_user("comp")
    compliance.user_permissions.add(Permission.objects.get(codename="view_auditentry"))
    assert _client(compliance).get("/audit/").status_code == 200
    assert _client(User.objects.create_user("st", is_staff=True)).get("/audit/").status_code == 200


def test_filters_narrow_the_trail_and_changes_are_shown(case: Case) -> None:
    _complaint(case)
    services.record(
        "test.edit",
        subject_type="t",
        subject_id=5,
        actor="mei",
        before={"amount": 100, "same": 1},
        after={"amount": 250, "same": 1},
    )
    staff = _client(User.objects.create_user("st", is_staff=True))
    page = staff.get("/audit/", {"actor": "mei"}).content.decode()
    assert page.count("data-entry=") == 1 and "test.edit" in page
    assert "<th>amount</th><td><del>100</del></td><td><ins>250</ins></td>" in page
    assert "<th>same</th>" not in page  # only what changed
    by_case = staff.get("/audit/", {"case": case.pk}).content.decode()
    assert "complaint.created" in by_case and "test.edit" not in by_case
    typed = staff.get("/audit/", {"subject_type": "complaints.Complaint"}).content.decode()
    assert typed.count("data-entry=") == 2  # filed, then its hold linked
    assert "complaint.changed" in typed and "hold.created" not in typed
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert "data-entry=" not in staff.get("/audit/", {"from": tomorrow}).content.decode()
    assert "data-entry=" not in staff.get("/audit/", {"case": "x"}).content.decode()


def test_the_status_line_verifies_the_chain_on_request(case: Case) -> None:
    staff = _client(User.objects.create_user("st", is_staff=True))
    page = staff.get("/audit/").content.decode()
    assert 'id="verify-chain"' in page and "waiting to be sealed" in page
    checked = staff.get("/audit/", {"verify": "1"}).content.decode()
    sealed = AuditEntry.objects.filter(seq__isnull=False).count()
    assert sealed > 0 and f"Chain verified: {sealed} entries hold." in checked


def test_the_case_page_panel_links_the_trail_and_the_bundle(case: Case, tmp_path: Path) -> None:
    _complaint(case)
    staff = _client(User.objects.create_user("boss", is_staff=True, is_superuser=True))
    page = staff.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="audit-trail"' in page and f"/audit/?case={case.pk}" in page
    assert "complaint.created" in page
    response = staff.get(f"/audit/case/{case.pk}/bundle.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        archive.extractall(tmp_path)
    folder = tmp_path / f"case-{case.pk}"
    assert sorted(p.name for p in folder.iterdir()) == [
        "bundle.pdf",
        "entries.json",
        "manifest.json",
    ]
    assert chain.verify_bundle(str(folder)) == []
    entries = json.loads((folder / "entries.json").read_text("utf-8"))["entries"]
    assert entries and {e["case_id"] for e in entries} == {case.pk}
    assert staff.get("/audit/case/999999/bundle.zip").status_code == 404


def test_the_panel_is_not_shown_to_a_collector(case: Case) -> None:
    team = Team.objects.create(code="t", name="T", owner=case.owner)
    collector = User.objects.create_user("col")
    Collector.objects.create(user=collector, team=team, role="manager")
    page = _client(collector).get(f"/cases/{case.pk}/")
    assert page.status_code == 200
    assert 'id="audit-trail"' not in page.content.decode()


def test_the_page_speaks_chinese(case: Case) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(User.objects.create_user("st", is_staff=True))
    page = client.get("/audit/", {"verify": "1"}).content.decode()
    assert "审计记录" in page and "哈希链校验通过" in page
