"""Audit the pinned dependencies for known vulnerabilities (``make audit``; CI runs it first).

Reads every ``name==version`` pin of ``pyproject.toml`` (the project's dependencies and every
extra), hands them to ``pip-audit`` as a requirements file without resolving anything
(``--no-deps --disable-pip``: nothing is downloaded or installed), and decides:

* a known vulnerability fails (exit 1) unless ``.pip-audit-ignore`` lists its ID with a reason
  (``PYSEC-2026-1  why it does not apply``; a line without a reason is itself an error);
* a package the vulnerability service has no data for, or a service that cannot be reached, is
  reported in one clear line and does not fail: CI machines reach the package registries, but
  the mirror they reach may answer without per-version vulnerability data. Set
  ``ARREARS_AUDIT_STRICT=1`` to fail then too.

Standard library only (and ``pip-audit``, pinned in the ``dev`` extra, run as a child process).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IGNORE_FILE = ".pip-audit-ignore"
STRICT_ENV = "ARREARS_AUDIT_STRICT"
#: Seconds for each request to the service; the whole audit stays well under 30 s.
TIMEOUT = 10
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*([^\s;,]+)")


def pins(pyproject: Path) -> dict[str, str]:
    """Every ``name==version`` of the project's dependencies and extras (the project itself,
    named as an extra's dependency, is not a pin)."""
    data = tomllib.loads(pyproject.read_text("utf-8"))
    project = data.get("project", {})
    lines = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        lines.extend(extra)
    found: dict[str, str] = {}
    for line in lines:
        match = _PIN.match(line)
        if match:
            found[match.group(1).lower()] = match.group(3)
    return found


class IgnoreFileError(ValueError):
    """A line of the ignore file without a reason, or unreadable."""


def ignored(text: str) -> dict[str, str]:
    """``ID reason`` lines (``#`` starts a comment) → {ID: reason}; a bare ID is refused."""
    entries: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split(None, 1)
        if len(parts) < 2:
            raise IgnoreFileError(
                f"{IGNORE_FILE}:{number}: {parts[0]} has no reason; write why it does not apply"
            )
        entries[parts[0]] = parts[1].strip()
    return entries


@dataclass
class Verdict:
    """What the audit found: the lines to print and whether CI fails."""

    lines: list[str] = field(default_factory=list)
    failed: bool = False


def judge(
    report: Mapping[str, object], ignore: Mapping[str, str], *, audited: int, strict: bool
) -> Verdict:
    """The verdict on pip-audit's JSON report of ``audited`` packages."""
    verdict = Verdict()
    skipped: list[str] = []
    found = 0
    dependencies = report.get("dependencies", [])
    for dep in dependencies if isinstance(dependencies, list) else []:
        name, version = dep.get("name", "?"), dep.get("version", "?")
        if dep.get("skip_reason"):
            skipped.append(str(name))
            continue
        for vuln in dep.get("vulns", []) or []:
            ids = [vuln.get("id", "?"), *(vuln.get("aliases") or [])]
            reason = next((ignore[i] for i in ids if i in ignore), None)
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            if reason is not None:
                verdict.lines.append(f"ignored: {name} {version} {ids[0]} ({reason})")
                continue
            found += 1
            description = str(vuln.get("description") or "").strip().splitlines()
            summary = description[0][:160] if description else ""
            verdict.lines.append(
                f"VULNERABLE: {name} {version} {ids[0]} (fixed in {fixes}) {summary}"
            )
    if found:
        verdict.failed = True
        verdict.lines.append(
            f"pip-audit: {found} known vulnerabilit{'y' if found == 1 else 'ies'} in the pinned "
            f"set: upgrade the pin, or list the ID in {IGNORE_FILE} with the reason it does "
            "not apply"
        )
    if skipped:
        verdict.lines.append(
            f"pip-audit: the vulnerability service has no data for {len(skipped)} of {audited} "
            f"pinned packages ({', '.join(sorted(skipped)[:8])}"
            f"{', …' if len(skipped) > 8 else ''}); they were NOT audited"
            + (f" ({STRICT_ENV}=1: failing)" if strict else "")
        )
        verdict.failed = verdict.failed or strict
    if not found and not skipped:
        verdict.lines.append(f"pip-audit: {audited} pinned packages, no known vulnerabilities")
    return verdict


def requirements(found: Mapping[str, str]) -> str:
    return "".join(f"{name}=={version}\n" for name, version in sorted(found.items()))


def run_pip_audit(requirement_file: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "-r",
        str(requirement_file),
        "--no-deps",
        "--disable-pip",
        "--progress-spinner",
        "off",
        "--timeout",
        str(TIMEOUT),
        "-f",
        "json",
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def _first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


def main(argv: Iterable[str] = ()) -> int:
    del argv
    strict = os.environ.get(STRICT_ENV, "") not in ("", "0")
    try:
        ignore_path = ROOT / IGNORE_FILE
        ignore = ignored(ignore_path.read_text("utf-8")) if ignore_path.is_file() else {}
    except IgnoreFileError as error:
        print(f"pip-audit: {error}")
        return 2
    found = pins(ROOT / "pyproject.toml")
    with tempfile.TemporaryDirectory() as tmp:
        requirement_file = Path(tmp) / "pinned.txt"
        requirement_file.write_text(requirements(found), "utf-8")
        try:
            done = run_pip_audit(requirement_file)
        except (OSError, subprocess.TimeoutExpired) as error:
            done = subprocess.CompletedProcess([], 99, "", str(error))
    try:
        report = json.loads(done.stdout) if done.stdout.strip() else None
    except json.JSONDecodeError:
        report = None
    if not isinstance(report, dict):
        print(
            "pip-audit: could not audit the pinned set (the vulnerability service did not "
            f"answer: {_first_line(done.stderr)}); NOT audited"
            + (f" ({STRICT_ENV}=1: failing)" if strict else "")
        )
        return 1 if strict else 0
    verdict = judge(report, ignore, audited=len(found), strict=strict)
    print("\n".join(verdict.lines))
    return 1 if verdict.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
