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
