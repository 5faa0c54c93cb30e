"""The letter PDF download: for those who can see the case; 404 for everyone else."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.test import Client
from django.utils import translation

from arrears.collections.models import Case
from arrears.legal import services
from arrears.legal.models import LawFirm
from arrears.legal.selectors import letters_for_case

from .conftest import DAY


def test_only_those_who_see_the_case_get_the_pdf(case: Case, firm: LawFirm) -> None:
    letter = services.issue_letter(case, DAY)
    url = f"/letters/{letter.pk}/pdf"
    assert Client().get(url).status_code == 302  # to the login page
    users = get_user_model().objects
    outsider = Client()
    outsider.force_login(users.create_user("outsider", is_staff=True))
    assert outsider.get(url).status_code == 404  # staff, but not this case's
    lead = Client()
    lead.force_login(users.create_superuser("lead"))
    response = lead.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content == services.letter_pdf(letter)
    assert lead.get(f"/letters/{letter.pk + 1}/pdf").status_code == 404
    Path(letter.pdf_path).write_bytes(b"%PDF-1.4 altered")
    assert lead.get(url).status_code == 409  # never serves a file that is not the letter


def test_the_case_panel_lists_letters_in_chinese(case: Case, firm: LawFirm) -> None:
    letter = services.issue_letter(case, DAY)
    with translation.override("zh-hans"):
        html = render_to_string("legal/_case_letters.html", {"letters": letters_for_case(case)})
    assert "律师函" in html and letter.reference in html and "Demo Law LLP" in html
    assert f"…{letter.credential.code_hint}" in html and f"/letters/{letter.pk}/pdf" in html
    assert "已出具" in html and "函件日期" in html
    with translation.override("zh-hans"):
        assert "暂无函件" in render_to_string("legal/_case_letters.html", {"letters": []})
