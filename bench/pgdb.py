"""The benchmarks' PostgreSQL databases: one named by a ``DATABASE_URL``, dropped (whoever is
connected) and created empty, so every run starts from the same state.

One place for what ``case_page``, ``api_load`` and ``import`` each did for themselves: connect
to the server's ``postgres`` database with the URL's host, port and user, and recreate the
URL's database (``daily_db`` also from a template it keeps, and asks whether one exists).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse


def server_params(url: str) -> dict[str, Any]:
    """psycopg's connection parameters for the server of ``url``, on its ``postgres`` database."""
    parts = urlparse(url)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": parts.username or "postgres",
        "password": parts.password,
        "dbname": "postgres",
        "autocommit": True,
    }


def recreate(url: str) -> None:
    """Drop the database ``url`` names (with any sessions on it) and create it empty."""
    recreate_named(server_params(url), urlparse(url).path.lstrip("/"))


def recreate_named(params: dict[str, Any], name: str, template: str | None = None) -> None:
    """Drop database ``name`` on the server of ``params`` and create it, empty or as a copy
    of ``template``."""
    import psycopg

    with psycopg.connect(**params) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        source = f' template "{template}"' if template else ""
        conn.execute(f'create database "{name}"{source}')


def exists(params: dict[str, Any], name: str) -> bool:
    """Whether the server of ``params`` has a database ``name``."""
    import psycopg

    with psycopg.connect(**params) as conn:
        found = conn.execute("select 1 from pg_database where datname = %s", [name]).fetchone()
        return found is not None
