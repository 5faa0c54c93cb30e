"""The log channel (the demo's default) and the in-app sink."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from arrears.channels import InAppChannel, LogChannel, OutboundMessage, SendResult, read_log

NOW = datetime(2026, 2, 16, 1, 30, 5, tzinfo=UTC)


def test_log_keeps_messages_in_memory(make_message: Callable[..., OutboundMessage]) -> None:
    log = LogChannel("sms", clock=lambda: NOW)
    message = make_message()
    assert log.send(message) == SendResult("sent", f"log:{message.idempotency_key}")
    assert log.messages == [
        {
            "at": "2026-02-16T01:30:05+00:00",
            "channel": "sms",
            "idempotency_key": message.idempotency_key,
            "to": "+8613800138000",
            "subject": "逾期还款提醒",
            "body": message.body,
            "locale": "zh-CN",
            "sender_name": "演示消费金融",
            "metadata": {"template": "overdue_reminder", "verification_code": "K7Q2"},
        }
    ]


def test_log_appends_json_lines_once_per_key(
    tmp_path: Path, make_message: Callable[..., OutboundMessage]
) -> None:
    path = tmp_path / "logs" / "outbox.jsonl"
    log = LogChannel("email", path, clock=lambda: NOW)
    first = make_message(channel="email")
    second = make_message(channel="email", idempotency_key="wi:other")
    results = [log.send(m) for m in (first, first, second)]
    assert [r.status for r in results] == ["sent", "sent", "sent"]
    assert results[1].detail.startswith("duplicate")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert "逾期还款提醒" in lines[0]  # UTF-8, not \\u escapes
    assert [e["idempotency_key"] for e in read_log(path)] == [first.idempotency_key, "wi:other"]


def test_concurrent_writers_do_not_interleave(
    tmp_path: Path, make_message: Callable[..., OutboundMessage]
) -> None:
    path = tmp_path / "outbox.jsonl"
    channels = [LogChannel("sms", path) for _ in range(4)]  # as if four processes

    def send_many(channel: LogChannel, worker: int) -> None:
        for i in range(50):
            channel.send(make_message(idempotency_key=f"k{worker}-{i}", body="x" * 2000))

    threads = [threading.Thread(target=send_many, args=(c, n)) for n, c in enumerate(channels)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    entries = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(entries) == 200


def test_read_log_skips_damage_and_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    assert read_log(path) == []
    path.write_text('{"idempotency_key": "a"}\nnot json\n[1]\n{"idempotency_key": "b"}\n')
    assert [e["idempotency_key"] for e in read_log(path)] == ["a", "b"]


def test_in_app_goes_to_the_sink(make_message: Callable[..., OutboundMessage]) -> None:
    stored: list[OutboundMessage] = []

    def sink(message: OutboundMessage) -> str:
        stored.append(message)
        return f"inbox-{len(stored)}"

    message = make_message(channel="in_app", to="B000123")
    assert InAppChannel(sink).send(message) == SendResult("sent", "inbox-1")
    assert stored == [message]
    assert InAppChannel(lambda m: None).send(message).provider_ref == (
        f"in_app:{message.idempotency_key}"
    )


def test_in_app_sink_failures(make_message: Callable[..., OutboundMessage]) -> None:
    def unknown(message: OutboundMessage) -> str:
        raise LookupError("no borrower B404")

    def down(message: OutboundMessage) -> str:
        raise RuntimeError("database is locked")

    message = make_message(channel="in_app", to="B404")
    assert InAppChannel(unknown).send(message).status == "failed"
    result = InAppChannel(down).send(message)
    assert (result.status, result.detail) == (
        "retry",
        "in-app sink failed: RuntimeError: database is locked",
    )
