"""Taking the database away from the outside, as an operator or a failover would (PostgreSQL).

Every statement runs on a connection of its own to the ``postgres`` maintenance database, so
it is not one of the connections it ends. Nothing here stops the server: the machine's
PostgreSQL is shared, and ending a database's connections (``pg_terminate_backend``) and
refusing new ones (``ALLOW_CONNECTIONS false``) is what the application sees of a server
that went away, restarted or failed over.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg


def _admin(settings_dict: dict[str, Any]) -> psycopg.Connection[Any]:
    return psycopg.connect(
        host=settings_dict.get("HOST") or "127.0.0.1",
        port=settings_dict.get("PORT") or 5432,
        user=settings_dict.get("USER") or "postgres",
        password=settings_dict.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    )


def terminate(settings_dict: dict[str, Any], pid: int | None = None) -> int:
    """End the server process ``pid``, or every connection to the database; how many ended."""
    with _admin(settings_dict) as admin:
        if pid is not None:
            row = admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()
            return int(bool(row and row[0]))
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [settings_dict["NAME"]],
        ).fetchall()
        return sum(1 for (ended,) in rows if ended)


def set_accepting(settings_dict: dict[str, Any], accepting: bool) -> None:
    name = settings_dict["NAME"].replace('"', '""')
    with _admin(settings_dict) as admin:
        admin.execute(
            f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {"true" if accepting else "false"}'
        )


@contextmanager
def database_away(settings_dict: dict[str, Any]) -> Iterator[None]:
    """The database refuses new connections and its open ones are ended, until the block ends."""
    set_accepting(settings_dict, False)
    try:
        terminate(settings_dict)
        yield
    finally:
        set_accepting(settings_dict, True)


def url(settings_dict: dict[str, Any]) -> str:
    """``DATABASE_URL`` for a child process on the same database."""
    user = settings_dict.get("USER") or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgresql://{user}{password}@{host}:{port}/{settings_dict['NAME']}"
