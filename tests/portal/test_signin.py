"""Signing in with a loan number and the one-time code from the text message."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from arrears.collections.services import place_hold
from arrears.contact.models import GateDecision, OutboxMessage
from arrears.kernel.explain import explain
from arrears.ledger import selectors as ledger_selectors
from arrears.portal import signin
from arrears.portal.models import SignInChallenge, SignInEvent
from tests.portal.conftest import Book


@pytest.fixture
def book(shared_book: Book) -> Book:
    """Every test here starts from the portal's book as built: built once for the module."""
    return shared_book


def test_a_borrower_signs_in_with_the_code_from_the_text_message(book: Book, client: Client):
    book.sign_in(client)
    page = client.get("/my/home/").content.decode()
    data = explain(*ledger_selectors.loan_state(book.loan, book.today))
    assert data["totals"]["total_due"]["minor"] > 0
    assert f"{data['totals']['total_due']['amount']}" in page
    assert "Alex Chen" in page


def test_the_code_goes_through_the_outbox_and_the_gate_and_is_not_kept(book: Book, client: Client):
    client.post("/my/", {"loan": book.loan.ref})
    code = book.codes()[-1]
    message = OutboxMessage.objects.get(template="portal_sign_in_code")
    assert message.status == OutboxMessage.Status.SENT
    assert code not in message.body and "••••••" in message.body
    assert message.to_address == "+8613900000021"
    decision = GateDecision.objects.get(message=message)
    assert decision.outcome == "allow"
    challenge = SignInChallenge.objects.get()
    assert code not in challenge.code_hmac and challenge.loan == book.loan


def test_a_code_is_sent_in_quiet_hours_and_through_a_complaint_hold(book: Book, client: Client):
    """A code the borrower is waiting for is not a collection contact: 23:30 local time and a
    complaint hold on every channel do not stop it (the hold stops the reminders)."""
    place_hold(
        book.borrower.pk,
        reason="complaint",
        starts_on=book.today,
        ends_on=book.today + timedelta(days=30),
        note="test",
    )
    midnight = timezone.make_aware(datetime.combine(book.today, time.min))
    with time_machine.travel(midnight + timedelta(hours=23, minutes=30), tick=False):
        book.sign_in(client)
    assert OutboxMessage.objects.get(template="portal_sign_in_code").status == "sent"


def test_a_sign_in_code_does_not_spend_the_days_reminder(book: Book):
    from arrears.contact.gate import history

    signin.start(book.loan.ref, "10.0.0.1")
    assert OutboxMessage.objects.filter(template="portal_sign_in_code", status="sent").exists()
    assert history(book.borrower, timezone.now() + timedelta(minutes=1)) == []


def test_an_unknown_loan_number_gets_the_same_answer_and_no_code_works(book: Book, client: Client):
    known = client.post("/my/", {"loan": book.loan.ref})
    stranger = Client(HTTP_ACCEPT_LANGUAGE="en")
    unknown = stranger.post("/my/", {"loan": "NO-SUCH-LOAN"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(book.codes()) == 1  # nothing sent for the unknown number
    response = stranger.post("/my/code/", {"code": book.codes()[-1]})
    assert response.status_code == 400 and "not right" in response.content.decode()


def test_a_wrong_code_says_how_many_tries_are_left_then_the_code_is_spent(book: Book):
    started = signin.start(book.loan.ref, "10.0.0.1")
    right = book.codes()[-1]
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    messages = []
    for _ in range(5):
        with pytest.raises(signin.SignInRefused) as refused:
            signin.confirm(started.challenge.pk, wrong, "10.0.0.1")
        messages.append(refused.value.code)
    assert messages[:4] == ["portal-code-wrong"] * 4 and messages[4] == "portal-code-expired"
    with pytest.raises(signin.SignInRefused) as refused:
        signin.confirm(started.challenge.pk, right, "10.0.0.1")
    assert refused.value.code == "portal-code-expired"  # even the right code, once spent


def test_a_code_expires_after_its_minutes(book: Book):
    started = signin.start(book.loan.ref, "10.0.0.1")
    later = timezone.now() + timedelta(minutes=5, seconds=1)
    with pytest.raises(signin.SignInRefused) as refused:
        signin.confirm(started.challenge.pk, book.codes()[-1], "10.0.0.1", now=later)
    assert refused.value.code == "portal-code-expired"


def test_a_code_is_used_once(book: Book):
    started = signin.start(book.loan.ref, "10.0.0.1")
    assert signin.confirm(started.challenge.pk, book.codes()[-1], "10.0.0.1") == book.loan
    with pytest.raises(signin.SignInRefused):
        signin.confirm(started.challenge.pk, book.codes()[-1], "10.0.0.1")


def test_brute_force_is_stopped_by_send_limits_and_the_lockout(book: Book):
    """A guesser gets 3 codes per 15 minutes and 5 tries a code; 10 wrong codes in a day lock
    the loan number for an hour, and then even the right code does not open it."""
    now = timezone.now()

    def guess(at, codes: int) -> None:
        for _ in range(codes):
            started = signin.start(book.loan.ref, "10.0.0.1", now=at)
            for _ in range(2):
                with pytest.raises(signin.SignInRefused):
                    signin.confirm(started.challenge.pk, "000000", "10.0.0.9", now=at)

    guess(now, 3)  # 6 wrong codes
    with pytest.raises(signin.SignInRefused) as refused:
        signin.start(book.loan.ref, "10.9.9.9", now=now)
    assert refused.value.code == "portal-too-many-codes"
    guess(now + timedelta(minutes=16), 2)  # 10 wrong codes: locked
    assert len(book.codes()) == 5
    later = now + timedelta(minutes=40)
    with pytest.raises(signin.SignInRefused) as refused:
        signin.start(book.loan.ref, "10.0.0.1", now=later)
    assert refused.value.code == "portal-locked"
    assert SignInEvent.objects.filter(kind="locked").exists()
    unlocked = now + timedelta(minutes=16 + 61)  # an hour after the last wrong code
    started = signin.start(book.loan.ref, "10.0.0.1", now=unlocked)
    assert signin.confirm(started.challenge.pk, book.codes()[-1], "10.0.0.1", now=unlocked)


def test_one_client_address_cannot_ask_codes_for_every_loan(book: Book, settings):
    settings.ARREARS_PORTAL_SIGN_IN = {"sends_per_client_hour": 2}
    signin.start("A-1", "10.0.0.7")
    signin.start("A-2", "10.0.0.7")
    with pytest.raises(signin.SignInRefused) as refused:
        signin.start(book.loan.ref, "10.0.0.7")
    assert refused.value.code == "portal-too-many-codes"
    assert book.codes() == []


def test_the_page_refuses_a_malformed_code_without_spending_a_try(book: Book, client: Client):
    client.post("/my/", {"loan": book.loan.ref})
    response = client.post("/my/code/", {"code": "１２３４５６"})  # full-width digits
    assert response.status_code == 400 and "6 digits" in response.content.decode()
    assert SignInChallenge.objects.get().tries == 0


def test_the_sign_in_pages_speak_chinese(book: Book):
    zh = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "验证码" in zh.get("/my/").content.decode()


def test_a_misconfigured_limit_is_an_error_not_a_silent_default(settings):
    from django.core.exceptions import ImproperlyConfigured

    for bad in ({"code_minuets": 5}, {"tries_per_code": 0}, {"lock_after": "10"}):
        settings.ARREARS_PORTAL_SIGN_IN = bad
        with pytest.raises(ImproperlyConfigured):
            signin.limits()
