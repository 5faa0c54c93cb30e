"""Running the real `arrears` command in a child process (crash and end-to-end tests)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def arrears(env: dict[str, str], *args: str, **kwargs: Any) -> subprocess.Popen[bytes]:
    """Start ``arrears ARGS`` from the repository root (so ``tests`` is importable there)."""
    return subprocess.Popen(
        [sys.executable, "-m", "arrears.cli", *args], env=env, cwd=REPO, **kwargs
    )


def check(env: dict[str, str], *args: str) -> str:
    """Run ``arrears ARGS`` to the end; fail the test with its output unless it succeeds."""
    process = arrears(env, *args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output.decode()
    return output.decode()


def migrated_copy(template: Path, db: Path) -> None:
    """Put a migrated SQLite database at ``db``: a copy of the session's ``template``."""
    shutil.copyfile(template, db)
