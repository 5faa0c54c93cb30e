"""``arrears policy check|packs|validate`` prints JSON anyone can read and reproduce."""

from __future__ import annotations

import json
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
        "pack": {"name": "us-regf", "version": 2},
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
