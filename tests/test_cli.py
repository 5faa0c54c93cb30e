"""The `arrears` command finds its database wherever it is typed, and an unmigrated one is a
sentence, not a traceback (issue 9, item 16)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from arrears.cli import needs_database
from arrears.project.settings import data_dir
from tests.processes import REPO, migrated_copy


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARREARS_", "DATABASE_"))}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    # the child imports this checkout's sources first, as the parent does
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
    return {**env, **extra}


def _run(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``arrears ARGS`` in a child process started in ``cwd`` (not the repository)."""
    return subprocess.run(
        [sys.executable, "-m", "arrears.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    folder = tmp_path / "somewhere" / "else"
    folder.mkdir(parents=True)
    return folder


@pytest.mark.parametrize(
    "command",
    [
        ("explain", "WL260000001"),
        ("strategy", "list"),
        ("report", "variants", "--from", "2026-11-01", "--to", "2026-11-29"),
    ],
)
def test_a_database_never_migrated_says_run_migrate_and_is_not_created(
    tmp_path: Path, elsewhere: Path, command: tuple[str, ...]
) -> None:
    data = tmp_path / "data"
    result = _run(elsewhere, _env(ARREARS_DATA_DIR=str(data)), *command)
    assert result.returncode == 1, result.stdout + result.stderr
    database = data / "arrears.sqlite3"
    assert f"the database at {database} is not set up; run `arrears migrate`" in result.stderr
    assert "Traceback" not in result.stderr and "OperationalError" not in result.stderr
    assert not database.exists() and not data.exists()  # no empty database left behind
    assert list(elsewhere.iterdir()) == []  # nor anything in the folder it was typed in


def test_an_empty_database_file_is_not_set_up_either(tmp_path: Path, elsewhere: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "arrears.sqlite3").touch()
    result = _run(elsewhere, _env(ARREARS_DATA_DIR=str(data)), "explain", "WL260000001")
    assert result.returncode == 1
    assert "is not set up; run `arrears migrate`" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_migrate_in_one_folder_and_explain_in_another_use_the_same_database(
    tmp_path: Path, elsewhere: Path, migrated_sqlite: Path
) -> None:
    """``migrate`` typed in one folder opens (and creates) the database in the data directory,
    and ``explain`` typed in another finds the ledger there. ``migrate --plan`` stands for the
    migrating: where the command puts the database is what is tested, and applying every
    migration from scratch through ``arrears migrate`` is what CI's template and the session's
    ``migrated_sqlite`` do (fifteen CPU-seconds, which each would pay again here); the ledger
    ``explain`` then opens is that migration's result, copied where ``migrate`` opened it."""
    data = tmp_path / "data"
    env = _env(ARREARS_DATA_DIR=str(data))
    planned = _run(tmp_path, env, "migrate", "--plan")
    assert planned.returncode == 0, planned.stderr
    assert "ledger.0001_initial" in planned.stdout  # planned against an empty database
    database = data / "arrears.sqlite3"
    assert database.is_file()  # the data directory and its database, not the folder typed in
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "somewhere"]
    migrated_copy(migrated_sqlite, database)
    result = _run(elsewhere, env, "explain", "WL260000001")
    assert result.returncode == 1
    assert "unknown loan 'WL260000001'" in result.stderr  # the ledger was found, and is empty
    assert "migrate" not in result.stderr


#: What starting a command must not load: Polars and NumPy (the workflow's frames), Numba (the
#: compiled replay) and PyArrow (snapshots) cost a command that needs none of them a second.
HEAVY = ("polars", "numpy", "numba", "pyarrow")
#: ``arrears ARGS`` in this process, then which of :data:`HEAVY` it loaded (on stderr).
PROBE = f"""
import sys
from arrears.cli import main
try:
    main(sys.argv[1:])
finally:
    print("loaded:", *sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)
"""


@pytest.mark.slow
def test_a_command_starts_without_polars_numpy_or_the_engine(
    tmp_path: Path, migrated_sqlite: Path
) -> None:
    """Django's start (the apps' ``ready()``), the database check and every system check the
    project's commands run (the template checks import every tag library), then ``explain``:
    none of it needs the heavy libraries, which each ``arrears`` a cron job or a test starts
    would otherwise pay for."""
    migrated_copy(migrated_sqlite, tmp_path / "arrears.sqlite3")
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "explain", "WL260000001"],
        cwd=tmp_path,
        env=_env(ARREARS_DATA_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "unknown loan 'WL260000001'" in result.stderr  # it ran to the command's end
    assert result.stderr.splitlines()[-1] == "loaded:"


def test_pure_commands_need_no_database(tmp_path: Path, elsewhere: Path) -> None:
    data = tmp_path / "data"
    env = _env(ARREARS_DATA_DIR=str(data))
    result = _run(
        elsewhere,
        env,
        "schedule",
        "--principal",
        "1000.00",
        "--currency",
        "CNY",
        "--daily-rate",
        "0.0005",
        "--term",
        "3",
        "--method",
        "equal-instalment",
        "--start",
        "2026-01-15",
    )
    assert result.returncode == 0, result.stderr
    assert not data.exists()


def test_the_default_data_directory_does_not_depend_on_the_working_directory(
    tmp_path: Path, elsewhere: Path
) -> None:
    """Without ``ARREARS_DATA_DIR``, a process started in any folder: the settings module
    alone, which is where every ``arrears`` command reads its data directory from (starting
    Django for a command that prints it cost a second and a half a folder)."""
    show = "from arrears.project.settings import DATA_DIR; print(DATA_DIR)"
    seen = set()
    for cwd in (REPO, tmp_path, elsewhere):
        result = subprocess.run(
            [sys.executable, "-c", show],
            cwd=cwd,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        seen.add(result.stdout.strip())
    assert seen == {str(REPO / "var")}  # run from this source checkout


def test_data_dir_prefers_the_variable_then_the_checkout_then_the_user_data_dir(
    tmp_path: Path,
) -> None:
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "pyproject.toml").touch()
    chosen = tmp_path / "chosen"
    assert data_dir({"ARREARS_DATA_DIR": str(chosen)}, checkout) == chosen
    assert data_dir({}, checkout) == checkout / "var"
    assert data_dir({"XDG_DATA_HOME": str(tmp_path / "xdg")}, None) == tmp_path / "xdg" / "arrears"
    assert data_dir({}, None) == Path.home() / ".local" / "share" / "arrears"
    assert data_dir({}, tmp_path) != tmp_path / "var"  # a folder without pyproject.toml


@pytest.mark.parametrize(
    ("args", "needed"),
    [
        (["explain", "WL1"], True),
        (["run-day", "--as-of", "2026-12-01"], True),
        (["run-day", "--as-of", "2026-12-01", "--snapshot", "s", "--out", "o"], False),
        (["run-day", "--snapshot=s", "--out=o"], False),
        (["explain", "--help"], False),
        (["migrate"], False),
        (["schedule", "--term", "3"], False),
        (["policy", "packs"], False),
        ([], False),
        (["--version"], False),
    ],
)
def test_which_commands_need_the_database(args: list[str], needed: bool) -> None:
    assert needs_database(args) is needed


def test_the_readmes_example_dates_are_not_before_the_demos_date() -> None:
    """`arrears demo` seeds the book as of today (issue 9, item 21): an example dated before
    it would run the workflow backwards, which run-day refuses."""
    from datetime import date

    from django.conf import settings
    from django.utils import timezone

    readme = (REPO / "README.md").read_text("utf-8")
    demo_date = timezone.localdate()  # what `arrears demo` uses without --as-of
    flags = re.findall(r"--(?:as-of|from|to|now|start)[ =]\"?([^\s\"]+)", readme)
    assert flags, "no dated examples found"
    for value in flags:
        literal = re.match(r"\d{4}-\d{2}-\d{2}", value)
        if literal:
            assert date.fromisoformat(literal.group()) >= demo_date, value
        else:
            assert value.startswith(("$DAY", "${DAY}", "YYYY", "FIRST_MISSED_DAY")), value
    assert f"DAY=$(TZ={settings.TIME_ZONE} date +%F)" in readme
