"""Every admin list of the collections and contact apps opens, and addresses stay masked."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from arrears.contact import dispatch
from arrears.contact.outbox import enqueue_due
from arrears.ledger import models
from tests.contact.conftest import DAY, Recorder, at


@pytest.mark.usefixtures("plain_templates")
def test_admin_lists_open_and_mask_addresses(book: list[models.Borrower]) -> None:
    enqueue_due(DAY)
    dispatch.dispatch_once({"sms": Recorder()}, now=lambda: at(10))
    client = Client()
    client.force_login(User.objects.create_superuser("root", password="x"))
    for model in admin.site._registry:
        if model._meta.app_label not in ("collections", "contact", "ledger"):
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = client.get(url)
        assert response.status_code == 200, url
        assert "+8613800000001" not in response.content.decode(), url
