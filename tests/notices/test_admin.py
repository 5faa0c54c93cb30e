"""The admin: lists, change pages with the rendered sample and problems, the preview page,
activation through the service."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from arrears.notices import services
from arrears.notices.models import MessageTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", password="x"))
    return client


def test_changelist_opens(client: Client) -> None:
    response = client.get(reverse("admin:notices_messagetemplate_changelist"))
    assert response.status_code == 200
    assert "overdue_reminder" in response.content.decode()


def test_preview_page_renders_the_sample(client: Client) -> None:
    template = services.active_template("lawyer_letter", "zh-CN", "letter")
    response = client.get(reverse("admin:notices_messagetemplate_preview", args=[template.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    sample = services.sample_context("zh-CN")
    assert sample["law_firm"] in page and sample["amount_due"] in page
    assert "${" not in page.split("Sample context")[0]
    assert "No problems" in page


def test_change_page_shows_preview_and_problems(client: Client) -> None:
    draft, _ = services.save_draft(
        "overdue_reminder",
        "en",
        "sms",
        "${lender_name}: we will have you arrested. ${amount_due}",
    )
    response = client.get(reverse("admin:notices_messagetemplate_change", args=[draft.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Demo Consumer Finance: we will have you arrested." in page
    assert "arrested" in page and "complaint_channel" in page  # listed as problems
    preview = client.get(reverse("admin:notices_messagetemplate_preview", args=[draft.pk]))
    assert "complaint_channel" in preview.content.decode()


def test_active_templates_are_read_only(client: Client) -> None:
    template = services.active_template("overdue_reminder", "en", "sms")
    page = client.get(reverse("admin:notices_messagetemplate_change", args=[template.pk]))
    assert 'name="body"' not in page.content.decode()


def test_add_creates_a_draft_and_warns(client: Client) -> None:
    response = client.post(
        reverse("admin:notices_messagetemplate_add"),
        {
            "code": "overdue_reminder",
            "locale": "en",
            "channel": "sms",
            "subject": "",
            "body": "Hi ${x}",
        },
        follow=True,
    )
    assert response.status_code == 200
    draft = MessageTemplate.objects.get(code="overdue_reminder", locale="en", version=2)
    assert draft.status == "draft"
    assert "problem" in response.content.decode()


def test_activate_action_refuses_with_problems_and_activates_good_drafts(client: Client) -> None:
    current = services.active_template("overdue_reminder", "en", "sms")
    bad, _ = services.save_draft("overdue_reminder", "en", "sms", current.body + " ${agency}")
    url = reverse("admin:notices_messagetemplate_changelist")
    response = client.post(
        url, {"action": "activate_selected", "_selected_action": [bad.pk]}, follow=True
    )
    assert "cannot be activated" in response.content.decode()
    bad.refresh_from_db()
    assert bad.status == "draft"
    good, _ = services.save_draft("overdue_reminder", "en", "sms", current.body)
    client.post(url, {"action": "activate_selected", "_selected_action": [good.pk]})
    good.refresh_from_db()
    assert good.status == "active"


def test_new_draft_action_copies(client: Client) -> None:
    current = services.active_template("legal_notice", "en", "letter")
    client.post(
        reverse("admin:notices_messagetemplate_changelist"),
        {"action": "new_draft_from_selected", "_selected_action": [current.pk]},
    )
    copy = MessageTemplate.objects.get(code="legal_notice", locale="en", version=2)
    assert (copy.body, copy.subject, copy.status) == (current.body, current.subject, "draft")


def test_add_page_lists_the_documented_variables(client: Client) -> None:
    page = client.get(reverse("admin:notices_messagetemplate_add")).content.decode()
    assert "${complaint_channel}" in page and "${agency_name}" in page


def test_a_draft_can_be_edited(client: Client) -> None:
    current = services.active_template("overdue_reminder", "en", "sms")
    draft, _ = services.save_draft("overdue_reminder", "en", "sms", "draft text")
    client.post(
        reverse("admin:notices_messagetemplate_change", args=[draft.pk]),
        {"subject": "", "body": current.body},
    )
    draft.refresh_from_db()
    assert draft.body == current.body and draft.status == "draft"
    assert services.problems(draft) == []
