"""``make audit`` (``scripts/audit_deps.py``): the pinned set is what is audited, a known
vulnerability fails unless ignored with a reason, and missing data is said, not hidden."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.processes import REPO


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_deps", REPO / "scripts/audit_deps.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["audit_deps"] = module
    spec.loader.exec_module(module)
    return module


audit = _load()

VULN = {
    "id": "PYSEC-2099-1",
    "aliases": ["CVE-2099-0001", "GHSA-xxxx"],
    "fix_versions": ["5.2.20"],
    "description": "SQL injection in something.\nMore text.",
}


def _report(*deps: dict[str, object]) -> dict[str, object]:
    return {"dependencies": list(deps), "fixes": []}


def test_the_pins_are_every_exact_pin_of_the_project_and_its_extras() -> None:
    found = audit.pins(REPO / "pyproject.toml")
    assert found["django"] and found["pip-audit"] == "2.10.1"
    assert found["pyspark"] and found["psycopg"]  # an extra, and a name with [binary]
    assert "arrears" not in found
    assert audit.requirements({"b": "2", "a": "1"}) == "a==1\nb==2\n"


def test_a_known_vulnerability_fails_and_is_named() -> None:
    verdict = audit.judge(
        _report({"name": "django", "version": "5.2.19", "vulns": [VULN]}),
        {},
        audited=1,
        strict=False,
    )
    assert verdict.failed
    assert any(
        "VULNERABLE: django 5.2.19 PYSEC-2099-1 (fixed in 5.2.20)" in x for x in verdict.lines
    )


def test_an_ignored_vulnerability_by_id_or_alias_passes_with_its_reason() -> None:
    for key in ("PYSEC-2099-1", "CVE-2099-0001"):
        verdict = audit.judge(
            _report({"name": "django", "version": "5.2.19", "vulns": [VULN]}),
            {key: "we do not use the affected feature"},
            audited=1,
            strict=False,
        )
        assert not verdict.failed
        assert "we do not use the affected feature" in verdict.lines[0]


def test_missing_data_is_reported_and_fails_only_when_strict() -> None:
    report = _report(
        {"name": "django", "skip_reason": "Dependency not found on PyPI"},
        {"name": "babel", "version": "2.19.0", "vulns": []},
    )
    lenient = audit.judge(report, {}, audited=2, strict=False)
    assert not lenient.failed
    assert "no data for 1 of 2 pinned packages (django); they were NOT audited" in lenient.lines[0]
    assert audit.judge(report, {}, audited=2, strict=True).failed
    clean = audit.judge(
        _report({"name": "babel", "version": "2", "vulns": []}), {}, audited=1, strict=False
    )
    assert not clean.failed and "no known vulnerabilities" in clean.lines[0]


def test_an_ignore_line_needs_a_reason() -> None:
    assert audit.ignored("# comment\n\nPYSEC-1  not used here  # note\n") == {
        "PYSEC-1": "not used here"
    }
    with pytest.raises(audit.IgnoreFileError, match=r"\.pip-audit-ignore:2: PYSEC-2 has no reason"):
        audit.ignored("PYSEC-1 fine\nPYSEC-2\n")
    assert audit.ignored((REPO / ".pip-audit-ignore").read_text("utf-8")) == {}


def test_a_service_that_does_not_answer_is_said_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import subprocess

    def unreachable(_path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess([], 1, "", "ConnectionError: could not resolve host\n")

    monkeypatch.setattr(audit, "run_pip_audit", unreachable)
    monkeypatch.delenv(audit.STRICT_ENV, raising=False)
    assert audit.main() == 0
    assert "did not answer: ConnectionError: could not resolve host); NOT audited" in (
        capsys.readouterr().out
    )
    monkeypatch.setenv(audit.STRICT_ENV, "1")
    assert audit.main() == 1
