"""`arrears policy check`: the gate's answer for a case in a file, as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import execute_from_command_line


def _check(tmp_path: Path, capsys: pytest.CaptureFixture[str], now: str) -> dict[str, object]:
    request = tmp_path / "request.json"
    request.write_text(
        json.dumps(
            {
                "debt_id": "L-1",
                "person_id": "P-1",
                "party": "borrower",
                "channel": "voice",
                "action": "call",
                "timezone": "Asia/Shanghai",
            }
        )
    )
    with pytest.raises(SystemExit) as done:
        execute_from_command_line(
            ["arrears", "policy", "check", "--pack", "cn", "--request", str(request), "--now", now]
        )
    assert done.value.code == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_a_call_at_21_59_is_allowed_and_at_22_00_deferred_to_the_morning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _check(tmp_path, capsys, "2026-11-29T21:59:00+08:00")["outcome"] == "allow"
    late = _check(tmp_path, capsys, "2026-11-29T22:00:00+08:00")
    assert (late["outcome"], late["next_allowed"]) == ("defer", "2026-11-30T08:00:00+08:00")
    assert late["fired"][0]["rule"] == "cn.hours"  # type: ignore[index]


def test_the_command_documents_its_request_format_and_lists_every_bad_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        execute_from_command_line(["arrears", "policy", "check", "--help"])
    assert done.value.code == 0
    usage = capsys.readouterr().out
    assert '"consents"' in usage and '"visitors"' in usage and "REQUIRED" in usage
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"channel": "fax", "party": "neighbour"}))
    with pytest.raises(SystemExit) as done:
        execute_from_command_line(
            ["arrears", "policy", "check", "--pack", "cn", "--request", str(request),
             "--now", "2026-11-29T21:59:00+08:00"]
        )  # fmt: skip
    assert done.value.code == 1
    errors = capsys.readouterr().err
    for name in ("debt_id", "person_id", "action"):
        assert f"missing field {name!r}" in errors
    assert "channel: unknown channel 'fax'" in errors and "party: unknown party" in errors
