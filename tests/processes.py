"""Running the real `arrears` command in a child process (crash and end-to-end tests)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
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


#: What :func:`commands` runs in its child: each command line through Django's
#: ``call_command``, its output kept apart, all of them printed as one JSON line at the end.
_COMMANDS = """
import json
from io import StringIO
from django.core.management import call_command
outputs = []
for args in json.loads({lines!r}):
    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    outputs.append(out.getvalue())
print({marker!r} + json.dumps(outputs))
"""
_MARKER = "arrears-commands:"


def commands(env: dict[str, str], *lines: tuple[str, ...]) -> list[str]:
    """Run several ``arrears`` command lines one after the other in *one* child process (an
    ``arrears shell``), and return what each printed. Starting Django in a child costs about a
    CPU-second; a test whose point is that a fresh process does (or does not do) something
    needs that process, not one per command after it. Fails the test with the output unless
    every command succeeds."""
    import json

    script = _COMMANDS.format(lines=json.dumps([list(line) for line in lines]), marker=_MARKER)
    output = check(env, "shell", "--no-imports", "-c", script)
    last = [line for line in output.splitlines() if line.startswith(_MARKER)]
    assert last, output
    outputs: list[str] = json.loads(last[-1][len(_MARKER) :])
    return outputs


def migrated_copy(template: Path, db: Path) -> None:
    """Put a migrated SQLite database at ``db``: a copy of the session's ``template``."""
    shutil.copyfile(template, db)


def sqlite_env(folder: Path, **extra: str) -> dict[str, str]:
    """The environment of a child working on ``folder/arrears.sqlite3``, with ``folder`` its
    data directory: this process's, less its Django settings (the command picks its own)."""
    env = {
        **os.environ,
        "ARREARS_DATA_DIR": str(folder),
        "DATABASE_URL": f"sqlite:///{folder / 'arrears.sqlite3'}",
        **extra,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


@dataclass(frozen=True)
class Book:
    """A SQLite database some commands built once for the session (``sqlite_book`` in
    ``tests/conftest.py``), and what they printed. Tests that share it copy ``db``
    (:func:`migrated_copy`) and work on their copy; nothing writes to ``db`` itself."""

    db: Path
    output: str


#: How a book is built: given the environment of a child on the book's database (see
#: :func:`sqlite_env`), run the commands that fill it and return what they printed.
Build = Callable[[dict[str, str]], str]
