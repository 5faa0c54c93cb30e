"""A contact attempt and a promise keep when they were recorded (``created_at``) beside their
own, possibly back-dated, time; the migration that added the column takes it from the audit
chain's ``<model>.created`` entry, and leaves a row the chain never saw empty."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps

from arrears.collections.models import ContactAttempt, Promise
from tests.reports.eventbook import at, make_book

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("arrears.collections.migrations.0011_recorded_at")


def test_a_back_dated_contact_and_promise_keep_their_recording_instant(settings: Any) -> None:
    settings.ARREARS_AUDIT = True
    book = make_book()
    contact = book.call(0, "ann", 2, month=12, at=at(20, 11))
    promise = book.promise(1, "ann", made=5, due=12, amount=10_000, recorded=at(2, month=12))
    assert (contact.at, contact.created_at) == (at(20, 11), at(2, 10, month=12))
    assert (promise.made_on.day, promise.created_at) == (5, at(2, month=12))
    ContactAttempt.objects.update(created_at=None)
    Promise.objects.update(created_at=None)
    MIGRATION.backfill(apps, None)
    assert ContactAttempt.objects.get(pk=contact.pk).created_at == at(2, 10, month=12)
    assert Promise.objects.get(pk=promise.pk).created_at == at(2, month=12)


def test_without_the_chain_the_backfill_leaves_the_instant_empty(settings: Any) -> None:
    settings.ARREARS_AUDIT = False
    book = make_book()
    contact = book.call(0, "ann", 3)
    assert contact.created_at == at(3, 10)
    ContactAttempt.objects.update(created_at=None)
    MIGRATION.backfill(apps, None)
    assert ContactAttempt.objects.get(pk=contact.pk).created_at is None
