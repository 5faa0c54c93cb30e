"""Who is acting: a contextvar set by the middleware (web) or a management command (cli)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_actor: ContextVar[str] = ContextVar("audit_actor", default="system")


def current_actor() -> str:
    """The username acting now, ``cli:<user>``, or ``system``."""
    return _actor.get()


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Record everything inside the block as done by ``actor``."""
    token = _actor.set(actor[:150] or "system")
    try:
        yield
    finally:
        _actor.reset(token)


def os_user() -> str:
    """The operating-system user running this process (``unknown`` when it cannot be told)."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, no USER/LOGNAME (a bare container)
        return "unknown"


def cli_actor(args: list[str]) -> tuple[str, list[str]]:
    """The actor of an ``arrears …`` command line and the arguments without ``--as``.

    ``--as NAME`` (or ``--as=NAME``) anywhere names the person acting (an operator running a
    command for a colleague's approval, a scheduler naming its job); otherwise the command acts
    as ``cli:<os user>``. Either way the audit chain says who ran it."""
    rest: list[str] = []
    actor = f"cli:{os_user()}"
    it = iter(args)
    for arg in it:
        if arg == "--as":
            actor = next(it, "") or actor
        elif arg.startswith("--as="):
            actor = arg.split("=", 1)[1] or actor
        else:
            rest.append(arg)
    return actor, rest
