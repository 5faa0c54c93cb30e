"""``arrears policy check|packs|validate`` prints JSON anyone can read and reproduce."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from arrears.policy.cli import run


def write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


REQUEST = {
    "request_id": "r-1",
    "debt_id": "L-1",
    "person_id": "P-1",
    "party": "borrower",
    "channel": "voice",
    "action": "call",
    "timezone": "America/New_York",
}
HISTORY = [
    {
        "at": f"2026-03-0{d}T10:00:00-05:00",
        "channel": "voice",
        "action": "call",
        "person_id": "P-1",
        "debt_id": "L-1",
    }
    for d in range(2, 9)
]


def check(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = run(["check", "--pack", "us-regf", "--request", str(tmp_path / "req.json"), *extra])
    out = capsys.readouterr()
    return code, out.out or out.err


def test_check_prints_the_decision_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "req.json", REQUEST)
    code, out = check(tmp_path, capsys, "--now", "2026-03-08T20:59:00-04:00")
    assert code == 0
    assert json.loads(out) == {
        "request_id": "r-1",
        "outcome": "allow",
        "next_allowed": None,
        "decided_at": "2026-03-08T20:59:00-04:00",
        "pack": {"name": "us-regf", "version": 3},
        "fired": [],
    }
    code, out = check(tmp_path, capsys, "--now", "2026-03-09T01:00:00Z")  # 21:00 EDT
    decision = json.loads(out)
    assert decision["outcome"] == "defer"
    assert decision["next_allowed"] == "2026-03-09T08:00:00-04:00"
    assert decision["fired"][0]["rule"] == "regf.inconvenient-time"
    assert "1006.6(b)(1)(i)" in decision["fired"][0]["citation"]
    assert decision["fired"][0]["description"]["zh"]


def test_check_with_history_and_a_batch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "req.json", [REQUEST, {**REQUEST, "request_id": "r-2", "debt_id": "L-2"}])
    history = write(tmp_path, "hist.json", HISTORY)
    code, out = check(
        tmp_path, capsys, "--history", str(history), "--now", "2026-03-08T12:00-04:00"
    )
    assert code == 0
    decisions = json.loads(out)
    assert [d["outcome"] for d in decisions] == ["defer", "allow"]
    assert decisions[0]["fired"][0]["rule"] == "regf.call-frequency"


@pytest.mark.parametrize(
    ("request_data", "now", "message"),
    [
        (REQUEST, "2026-03-08T12:00", "no UTC offset"),
        ({**REQUEST, "chanel": "voice"}, "2026-03-08T12:00Z", "unknown field 'chanel'"),
        ({**REQUEST, "channel": "fax"}, "2026-03-08T12:00Z", "unknown channel 'fax'"),
        ({**REQUEST, "cease": "yes"}, "2026-03-08T12:00Z", "field 'cease' has the wrong type"),
        ({k: v for k, v in REQUEST.items() if k != "party"}, "2026-03-08T12:00Z", "missing field"),
    ],
)
def test_bad_input_exits_1_naming_the_problem(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    request_data: dict[str, object],
    now: str,
    message: str,
) -> None:
    write(tmp_path, "req.json", request_data)
    code, err = check(tmp_path, capsys, "--now", now)
    assert code == 1
    assert message in err


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["check", "--pack", "cn"]) == 2
    assert run([]) == 2
    capsys.readouterr()


def test_packs_and_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["packs"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {p["name"] for p in listed} == {"cn", "us-regf", "default"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nversion: 1\neffective: 2026-01-01\ntitles: x\n", encoding="utf-8")
    assert run(["validate", str(bad)]) == 1
    assert "bad.yaml:4: unknown key 'titles'" in capsys.readouterr().err


def test_every_missing_and_invalid_field_is_reported_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = {
        "debt_id": "L-1",
        "chanel": "voice",
        "channel": "fax",
        "cease": "yes",
        "holds": [{"kind": "vacation"}],
        "consents": [{"by": "P-1", "given_at": "2026-03-08T10:00", "starts": "soon"}],
    }
    write(tmp_path, "req.json", bad)
    code, err = check(tmp_path, capsys, "--now", "2026-03-08T12:00Z")
    assert code == 1
    lines = err.splitlines()
    assert lines[0] == "arrears policy: error: request: 10 problems:"
    for fragment in (
        "unknown field 'chanel'",
        "field 'cease' has the wrong type (expected true or false, got 'yes')",
        "missing field 'person_id'",
        "missing field 'party'",
        "missing field 'action'",
        "channel: unknown channel 'fax'",
        "holds[0].kind: unknown hold kind 'vacation'",
        "missing field 'consents[0].ends'",
        "consents[0].given_at: '2026-03-08T10:00' has no UTC offset",
        "consents[0].starts: not an ISO 8601 timestamp",
    ):
        assert sum(fragment in line for line in lines[1:]) == 1, fragment


def test_a_batch_reports_the_problems_of_every_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    no_party = {k: v for k, v in REQUEST.items() if k != "party"}
    write(tmp_path, "req.json", [no_party, REQUEST, {**REQUEST, "action": "sms"}])
    code, err = check(tmp_path, capsys, "--now", "2026-03-08T12:00Z")
    assert code == 1
    assert "request[0]: missing field 'party'" in err
    assert "request[2]: action: action 'sms' is not carried by channel 'voice'" in err
    assert "request[1]" not in err


def test_check_help_documents_the_request_format_with_a_full_example(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(["check", "--help"]) == 0
    out = capsys.readouterr().out
    for field in (*REQUIRED_FIELDS, "consents", "visitors", "holds", "until", "answered"):
        assert f'"{field}"' in out, field
    assert "REQUIRED" in out and "History file" in out


REQUIRED_FIELDS = ("debt_id", "person_id", "party", "channel", "action")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "policy.md"


def _json_blocks(text: str) -> list[str]:
    return re.findall(r"```json\n(.*?)```", text, re.S)


def test_the_documented_example_request_is_valid_and_decided(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request, history = (json.loads(block) for block in _json_blocks(DOCS.read_text("utf-8"))[:2])
    assert set(REQUIRED_FIELDS) <= set(request)
    assert {"consents", "visitors", "holds", "facts"} <= set(request)
    write(tmp_path, "req.json", request)
    hist = write(tmp_path, "hist.json", history)
    code = run(
        ["check", "--pack", "cn", "--request", str(tmp_path / "req.json"),
         "--history", str(hist), "--now", "2026-11-30T21:45:00+08:00"]
    )  # fmt: skip
    decision = json.loads(capsys.readouterr().out)
    assert code == 0 and decision["request_id"] == request["request_id"]
