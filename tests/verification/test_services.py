"""Verification codes: unguessable, stored hashed, answer only what the document says."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from hypothesis import given
from hypothesis import strategies as st

from arrears.kernel.errors import ArrearsError
from arrears.verification import codes, services
from arrears.verification.models import Credential

SH = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 12, 1, 9, 0, tzinfo=SH)


def _issue(**over: object) -> services.Issued:
    fields: dict[str, object] = {
        "kind": "visit_authorisation",
        "holder": "王** (ID 1101**********1234)",
        "issuer_kind": "agency",
        "issuer_name": "Good Agency",
        "authorises_en": "a field visit to the borrower of contract C-1",
        "authorises_zh": "对合同 C-1 借款人的上门拜访",
        "valid_from": START,
        "valid_to": START + timedelta(days=7),
        "issued_at": START,
    }
    fields.update(over)
    return services.issue(**fields)  # type: ignore[arg-type]


def test_a_code_carries_at_least_64_random_bits_and_reads_back_in_any_spelling() -> None:
    code = codes.new_code()
    assert codes.BITS >= 64
    assert len(code.replace("-", "")) == codes.LENGTH
    assert codes.normalise(code.lower().replace("-", " ")) == code.replace("-", "")
    assert len({codes.new_code() for _ in range(1000)}) == 1000


@given(st.text(max_size=80))
def test_normalise_never_raises_and_accepts_only_alphabet_codes(text: str) -> None:
    found = codes.normalise(text)
    assert found is None or (len(found) == 16 and set(found) <= set(codes.ALPHABET))


@pytest.mark.django_db
def test_the_code_is_stored_only_hashed() -> None:
    issued = _issue()
    stored = Credential.objects.get()
    plain = issued.code.replace("-", "")
    assert plain not in json.dumps(list(Credential.objects.values()), default=str)
    assert stored.code_hash == codes.digest(plain) and stored.code_hint == plain[-4:]


@pytest.mark.django_db
def test_a_code_is_genuine_only_inside_its_window_and_until_revoked() -> None:
    issued = _issue()
    assert services.verify(issued.code, START - timedelta(seconds=1)).status == "not_yet_valid"
    valid = services.verify(issued.code, START + timedelta(days=1))
    assert valid.genuine and valid.status == "valid"
    assert valid.issuer_name == "Good Agency" and valid.holder.startswith("王**")
    assert services.verify(issued.code, START + timedelta(days=7)).status == "expired"
    admin = get_user_model().objects.create_user("compliance")
    services.revoke(
        issued.credential, by=admin, reason="visit cancelled", at=START + timedelta(days=2)
    )
    services.revoke(issued.credential, by=admin, reason="again", at=START + timedelta(days=3))
    before = services.verify(issued.code, START + timedelta(days=1))
    after = services.verify(issued.code, START + timedelta(days=2, hours=1))
    assert before.genuine and not after.genuine and after.status == "revoked"
    assert after.revoked_at == (START + timedelta(days=2)).isoformat()


@pytest.mark.django_db
def test_unknown_and_malformed_codes_reveal_nothing() -> None:
    _issue()
    unknown = services.verify(codes.new_code(), START + timedelta(days=1))
    malformed = services.verify("x" * 10_000, START)
    for answer in (unknown, malformed):
        assert not answer.genuine and not answer.kind and not answer.holder
        assert answer.official_repayment_channels  # where to pay safely, always
    assert (unknown.status, malformed.status) == ("unknown", "malformed")


@pytest.mark.django_db
def test_an_empty_window_and_oversized_text_are_refused() -> None:
    with pytest.raises(ArrearsError) as window:
        _issue(valid_to=START)
    assert window.value.code == "credential-window"
    with pytest.raises(ArrearsError) as long:
        _issue(holder="x" * 201)
    assert long.value.field == "holder"
    assert not Credential.objects.exists()


@pytest.mark.django_db
def test_the_command_answers_in_json_at_a_given_instant() -> None:
    issued = _issue()
    out = StringIO()
    at = (START + timedelta(days=8)).isoformat()
    call_command("verify", issued.code, "--at", at, "--json", stdout=out)
    answer = json.loads(out.getvalue())
    assert answer["status"] == "expired" and answer["genuine"] is False
    assert answer["issuer_name"] == "Good Agency" and answer["valid_to"]


@pytest.mark.django_db
def test_the_public_page_checks_a_code_without_login(client: object) -> None:
    issued = _issue(
        valid_from=datetime(2026, 11, 1, tzinfo=SH), valid_to=datetime(2027, 1, 1, tzinfo=SH)
    )
    page = client.get("/verify/", {"code": issued.code})  # type: ignore[attr-defined]
    assert page.status_code == 200
    assert b'data-status="valid"' in page.content and b"Good Agency" in page.content
    fake = client.get("/verify/", {"code": codes.new_code()})  # type: ignore[attr-defined]
    assert b'data-status="unknown"' in fake.content and b"Good Agency" not in fake.content


@pytest.mark.django_db
def test_a_message_carries_a_code_the_borrower_can_check_issued_once() -> None:
    """An SMS's verification code is a credential: 16 characters, genuine for the lender's
    message to that masked number, and the same when the message is prepared again."""
    from arrears.contact.models import OutboxMessage
    from arrears.contact.render import _message_code
    from tests import factories

    borrower = factories.borrower("B-V", phone="+8613800000077")
    message = OutboxMessage.objects.create(
        key="test:code",
        borrower=borrower,
        channel="sms",
        template="overdue_reminder",
        locale="zh-CN",
        not_before=START,
    )
    code = _message_code(message, "+8613800000077", START)
    again = _message_code(OutboxMessage.objects.get(pk=message.pk), "+8613800000077", START)
    assert code == again and codes.normalise(code) is not None
    answer = services.verify(code, START + timedelta(days=1))
    assert answer.genuine and answer.kind == "message" and answer.issuer_kind == "lender"
    assert answer.holder == "+86138****0077" and "overdue reminder" in answer.authorises_en
    assert Credential.objects.count() == 1
