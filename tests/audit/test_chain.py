"""The audit chain: entries are sealed after the commit and verify; edits, deletions and bundle
tampering are caught."""

from __future__ import annotations

import json
import os
import threading
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client

from arrears.audit import chain, services
from arrears.audit.export import export_case
from arrears.audit.models import AuditEntry
from arrears.ledger import services as ledger
from tests import factories

sqlite_only = pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
    reason="raw tampering is refused by the PostgreSQL trigger (tested below)",
)
needs_postgres = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
    reason="needs PostgreSQL (trigger, a connection per thread)",
)


def _three() -> list[AuditEntry]:
    """Three entries, sealed (a test's transaction never commits, so it seals by hand)."""
    made = [
        services.record("test.one", subject_type="t", subject_id=1, case_id=7, after={"a": 1}),
        services.record("test.two", subject_type="t", subject_id=2, after={"b": "二"}),
        services.record("test.three", subject_type="t", subject_id=3, case_id=7),
    ]
    services.seal()
    for entry in made:
        entry.refresh_from_db()
    return made


def test_canonical_form_is_sorted_compact_utf8() -> None:
    body = chain.canonical({"seq": 1, "actor": "张三", "prev_hash": chain.GENESIS})
    assert body.startswith(b'{"action":null,"actor":"\xe5\xbc\xa0')
    assert b" " not in body


@pytest.mark.django_db
def test_appends_link_and_verify() -> None:
    entries = _three()
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == chain.GENESIS
    assert entries[1].prev_hash == entries[0].hash
    assert services.verify_chain(chunk=2) is None


@pytest.mark.django_db
def test_record_writes_unsealed_and_the_commit_seals(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        first = services.record("test.a", subject_type="t", subject_id=1)
        services.record("test.b", subject_type="t", subject_id=2)
        assert first.seq is None and first.hash is None and first.prev_hash == ""
    assert len(callbacks) == 1  # one seal per transaction, however many entries
    rows = list(AuditEntry.objects.order_by("id"))
    assert [r.seq for r in rows] == [1, 2]
    assert rows[1].prev_hash == rows[0].hash and rows[0].prev_hash == chain.GENESIS
    assert services.verify_chain() is None


@pytest.mark.django_db
def test_seal_appends_after_the_head_in_id_order() -> None:
    _three()
    late = services.record("test.four", subject_type="t", subject_id=4)
    assert services.seal() == 1 and services.seal() == 0
    late.refresh_from_db()
    head = AuditEntry.objects.get(seq=3)
    assert late.seq == 4 and late.prev_hash == head.hash
    assert services.verify_chain() is None


@pytest.mark.django_db
def test_verify_warns_of_entries_left_unsealed_for_a_minute(
    capsys: pytest.CaptureFixture[str], _frozen_clock: Any
) -> None:
    _three()
    services.record("test.pending", subject_type="t", subject_id=9)
    call_command("audit", "verify", "--json", "--no-seal")
    assert json.loads(capsys.readouterr().out)["unsealed_stale"] == 0
    _frozen_clock.shift(timedelta(minutes=2))
    call_command("audit", "verify", "--no-seal")
    out = capsys.readouterr()
    assert "chain holds: 3 entries" in out.out and "1 entries unsealed" in out.err
    call_command("audit", "verify", "--json")  # seals first: nothing pending afterwards
    report = json.loads(capsys.readouterr().out)
    assert report == {
        "ok": True,
        "entries": 4,
        "seq": None,
        "id": None,
        "why": None,
        "unsealed_stale": 0,
        "altered_days": [],
    }


@sqlite_only
@pytest.mark.django_db
def test_raw_edit_is_named_by_verify(capsys: pytest.CaptureFixture[str]) -> None:
    _three()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET after = %s WHERE seq = 2", ['{"b": "x"}'])
    broken = services.verify_chain()
    assert broken is not None and broken.seq == 2 and "edited" in broken.why
    with pytest.raises(SystemExit) as exit_:
        call_command("audit", "verify", "--json")
    assert exit_.value.code == 1
    assert json.loads(capsys.readouterr().out)["seq"] == 2


@sqlite_only
@pytest.mark.django_db
def test_raw_delete_is_named_as_a_gap() -> None:
    _three()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE seq = 2")
    broken = services.verify_chain()
    assert broken is not None and broken.seq == 2 and "deleted" in broken.why


@pytest.mark.django_db
def test_entry_rolls_back_with_the_change() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        services.record("test.rolled", subject_type="t", subject_id=1)
        raise RuntimeError
    assert not AuditEntry.objects.filter(action="test.rolled").exists()


@pytest.mark.django_db
def test_images_are_masked_and_bounded() -> None:
    entry = services.record(
        "t", subject_type="t", subject_id=1, after={"phone": "+8613812345678", "x": "y" * 70000}
    )
    text = json.dumps(entry.after, ensure_ascii=False)
    assert "13812345678" not in text
    assert len(text.encode()) <= services.MAX_IMAGE_BYTES + 100
    assert entry.after is not None and entry.after["_truncated"] is True


@pytest.mark.django_db
def test_login_and_failed_login_are_recorded_without_password() -> None:
    get_user_model().objects.create_user("ana", password="pw-secret-1")
    client = Client()
    assert client.login(username="ana", password="pw-secret-1")
    assert not client.login(username="ana", password="wrong-secret")
    actions = list(AuditEntry.objects.values_list("action", "actor"))
    assert ("login", "ana") in actions and ("login.failed", "ana") in actions
    assert "wrong-secret" not in json.dumps([e.record() for e in AuditEntry.objects.all()])


@pytest.mark.django_db
def test_payment_recorded_and_reversed_has_before_and_after() -> None:
    owner = factories.borrower()
    the_loan = factories.loan("L1", owner, factories.product())
    pay = ledger.record_payment(
        loan=the_loan, ref="P1", value_date=date(2026, 2, 1), amount_minor=5000, currency="CNY"
    )
    ledger.reverse_payment(
        payment=pay, reversed_on=date(2026, 2, 3), reversal_ref="R1", reason="bounced"
    )
    rows = list(AuditEntry.objects.filter(subject_type="ledger.Payment").order_by("id"))
    assert [r.action for r in rows] == ["payment.created", "payment.changed"]
    assert rows[1].before is not None and rows[1].before["reversed_on"] is None
    assert rows[1].after is not None and rows[1].after["reversal_ref"] == "R1"
    assert services.verify_chain() is None


@pytest.mark.django_db
def test_bundle_verifies_alone_and_fails_when_edited(tmp_path: Path) -> None:
    _three()
    names = export_case(7, tmp_path)
    assert names == ["entries.json", "bundle.pdf", "manifest.json"]
    assert chain.verify_bundle(str(tmp_path)) == []
    data = json.loads((tmp_path / "entries.json").read_text("utf-8"))
    assert [e["seq"] for e in data["entries"]] == [1, 3] and len(data["chain"]) == 3
    data["entries"][0]["after"] = {"a": 2}
    (tmp_path / "entries.json").write_text(json.dumps(data), "utf-8")
    problems = chain.verify_bundle(str(tmp_path))
    assert any("entries.json" in p for p in problems)
    assert any("seq 1: edited" in p for p in problems)


def _refused(sql: str, params: list[Any] | None = None) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


@needs_postgres
@pytest.mark.django_db
def test_postgres_trigger_lets_only_the_seal_update_through() -> None:
    entry = services.record("t", subject_type="t", subject_id=1, after={"a": 1})
    # sealing may not change anything else at the same time
    _refused("UPDATE audit_auditentry SET seq = 1, hash = 'x', actor = 'mallory'")
    assert services.seal() == 1
    entry.refresh_from_db()
    assert entry.seq == 1
    for sql in (
        "UPDATE audit_auditentry SET actor = 'x'",
        "UPDATE audit_auditentry SET seq = 2",  # a sealed row is never sealed again
        "DELETE FROM audit_auditentry",
    ):
        _refused(sql)
    _refused(  # only the sealer places entries in the chain
        "INSERT INTO audit_auditentry (seq, at, actor, action, subject_type, subject_id, "
        "reason, config, prev_hash, hash) VALUES (2, now(), 'm', 'a', 't', '1', '', '{}', "
        "%s, 'forged')",
        [entry.hash],
    )
    assert services.verify_chain() is None


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_concurrent_appends_never_fork() -> None:
    def writer(n: int) -> None:
        try:
            for i in range(10):
                with transaction.atomic():
                    services.record("race", subject_type="t", subject_id=f"{n}-{i}")
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # every commit sealed its entries: nothing is left for verify to do
    assert AuditEntry.objects.filter(action="race", seq__isnull=False).count() == 40
    assert services.seal() == 0
    assert services.verify_chain() is None


@pytest.mark.django_db
def test_nothing_is_recorded_while_the_chain_is_switched_off(settings: object) -> None:
    settings.ARREARS_AUDIT = False  # type: ignore[attr-defined]
    product = factories.product()
    factories.loan("L-OFF", factories.borrower("B-OFF"), product)
    get_user_model().objects.create_user("quiet")
    assert not AuditEntry.objects.exists()
