"""The ``arrears`` console script: Django's management commands under one name.

``arrears schedule …``, ``arrears import loans FILE``, ``arrears explain REF`` and the usual
Django commands (``migrate``, ``runserver``) all go through here, so operators need one tool.

Before a command that reads or writes the ledger runs, the database is checked: a database
that was never migrated (or lacks migrations the code needs) gets one line saying where it is
and to run ``arrears migrate``, never a traceback, and a SQLite file that does not exist is not
created as an empty one. Only ``migrate`` creates the data directory.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: Commands that run without a migrated database: the migration tools themselves, Django's
#: development helpers, and the pure commands (``schedule``, ``policy``).
NO_DATABASE = frozenset(
    {
        "check",
        "collectstatic",
        "compilemessages",
        "createcachetable",
        "dbshell",
        "diffsettings",
        "findstatic",
        "help",
        "inspectdb",
        "makemessages",
        "makemigrations",
        "migrate",
        "optimizemigration",
        "policy",
        "schedule",
        "sendtestemail",
        "shell",
        "showmigrations",
        "sqlflush",
        "sqlmigrate",
        "sqlsequencereset",
        "squashmigrations",
        "startapp",
        "startproject",
        "test",
        "testserver",
        "version",
    }
)
NOT_SET_UP = "the database at {where} is not set up; run `arrears migrate`"
NOT_CURRENT = (
    "the database at {where} lacks {count} migration(s) this version needs; run `arrears migrate`"
)


def needs_database(args: list[str]) -> bool:
    """Whether ``arrears ARGS`` reads or writes the ledger (``--help`` never does, nor a
    ``run-day`` on a Parquet snapshot)."""
    if not args or args[0].startswith("-") or args[0] in NO_DATABASE:
        return False
    if any(a in ("-h", "--help") for a in args[1:]):
        return False
    snapshot = any(a.split("=", 1)[0] in ("--snapshot", "--out") for a in args[1:])
    return not (args[0] == "run-day" and snapshot)


def where(settings_dict: dict[str, object]) -> str:
    """The database as a person finds it: the SQLite file, or ``engine://user@host:port/name``
    (never the password)."""
    name = str(settings_dict.get("NAME") or "")
    engine = str(settings_dict.get("ENGINE", "")).rsplit(".", 1)[-1]
    if engine == "sqlite3":
        return name
    user = f"{settings_dict['USER']}@" if settings_dict.get("USER") else ""
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"{engine}://{user}{settings_dict.get('HOST') or 'localhost'}{port}/{name}"


def _sqlite_file(settings_dict: dict[str, object]) -> Path | None:
    """The SQLite file of the database, or ``None`` (another engine, or in memory)."""
    if not str(settings_dict.get("ENGINE", "")).endswith("sqlite3"):
        return None
    name = str(settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)


def _missing_file(settings_dict: dict[str, object]) -> str | None:
    """The "not set up" message when the database is a SQLite file that does not exist
    (connecting would create an empty one), else ``None``: known from the settings alone."""
    sqlite = _sqlite_file(settings_dict)
    if sqlite is not None and not sqlite.is_file():
        return NOT_SET_UP.format(where=where(settings_dict))
    return None


def database_problem() -> str | None:
    """Why the default database cannot serve a command yet, or ``None`` when it can."""
    from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
    from django.db.migrations.executor import MigrationExecutor

    connection = connections[DEFAULT_DB_ALIAS]
    place = where(connection.settings_dict)
    if (missing_file := _missing_file(connection.settings_dict)) is not None:
        return missing_file
    try:
        if "django_migrations" not in connection.introspection.table_names():
            return NOT_SET_UP.format(where=place)
        executor = MigrationExecutor(connection)
        missing = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return f"cannot open the database at {place}: {first}"
    finally:
        connection.close()
    if missing:
        return NOT_CURRENT.format(where=place, count=len(missing))
    return None


def absent_database(args: list[str]) -> str | None:
    """Why ``arrears ARGS`` cannot run when the database it needs is a SQLite file that does
    not exist, or ``None``. Known from the settings alone, so said before Django starts —
    setting up its apps was most of the second such a command took — in
    :func:`database_problem`'s words (which checks the same first, for any other caller)."""
    from django.conf import settings

    if not needs_database(args):
        return None
    return _missing_file(settings.DATABASES["default"])


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arrears.project.settings")
    import django
    from django.conf import settings
    from django.core.management import execute_from_command_line

    from arrears.audit.context import acting_as, cli_actor

    actor, args = cli_actor(sys.argv[1:] if argv is None else argv)
    from arrears.project.startup import SettingRefused

    try:
        absent = absent_database(args)  # reads the settings first, which may refuse one
        if absent is None:
            django.setup()
    except SettingRefused as error:  # a weak ARREARS_SECRET_KEY…: one line, not a traceback
        sys.stderr.write(f"arrears: {error}\n")
        sys.exit(1)
    if absent is not None:
        sys.stderr.write(f"arrears: {absent}\n")
        sys.exit(1)
    if args[:1] == ["migrate"]:
        sqlite = _sqlite_file(settings.DATABASES["default"])
        if sqlite is not None:
            sqlite.parent.mkdir(parents=True, exist_ok=True)
    elif needs_database(args):
        problem = database_problem()
        if problem is not None:
            sys.stderr.write(f"arrears: {problem}\n")
            sys.exit(1)
    with acting_as(actor):  # the audit chain records who ran the command
        execute_from_command_line(["arrears", *args])


if __name__ == "__main__":
    main()
