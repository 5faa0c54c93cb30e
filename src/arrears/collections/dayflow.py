"""Closing a day: the ledger's states, then the workflow, then whatever the other apps do with
its result (agency placements, letters, field visits), then the outbox.

:func:`close_day` is the one service that does all of it; ``run-day`` and the demo call it, so
there is one order of steps and nobody keeps a second copy of it. It lives here, above the
``daily`` app it calls, because the ledger state must not know what is built on it (``daily``
imports no ``collections``). :func:`run` is the part after the ledger, for tests and callers
that built the day's states themselves.

Apps add a step with :func:`register` from their ``AppConfig.ready()``; a step takes the
business date and returns a one-line summary, and must be idempotent — re-running a day changes
nothing — because a crashed or repeated run calls every step again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.module_loading import import_string

from arrears.engine.names import COMPILED

if TYPE_CHECKING:
    from arrears.daily.services import RunSummary

Step = Callable[[date], str]

#: Positions of the built-in steps; app steps go between them (10..90).
WORKFLOW_ORDER = 0
OUTBOX_ORDER = 100


@dataclass(frozen=True, slots=True)
class Registered:
    name: str
    order: int
    target: Step | str

    @property
    def step(self) -> Step:
        """The step function (imported now when it was registered by its dotted path)."""
        if isinstance(self.target, str):
            step: Step = import_string(self.target)
            return step
        return self.target


_STEPS: dict[str, Registered] = {}


def register(name: str, step: Step | str, order: int) -> None:
    """Add (or replace, by name) a step; steps run in ``order``, then name. ``step`` may be the
    function's dotted path (``"arrears.legal.services.letters_day"``): it is imported when a
    day is closed, not when the app starts, so a step that brings Polars or the PDF stack
    costs nothing to the commands and requests that never close a day."""
    _STEPS[name] = Registered(name, order, step)


def steps() -> list[Registered]:
    """The registered steps in the order they run."""
    return sorted(_STEPS.values(), key=lambda s: (s.order, s.name))


def _workflow(day: date) -> str:
    from arrears.collections.workflow import evaluate_day

    return evaluate_day(day).line()


def _outbox(day: date) -> str:
    from arrears.contact.outbox import enqueue_due

    return f"{day}: {enqueue_due(day)} message(s) queued for dispatch"


register("workflow", _workflow, WORKFLOW_ORDER)
register("outbox", _outbox, OUTBOX_ORDER)


def run(day: date) -> list[str]:
    """Run every step for ``day``, each in one transaction; returns their summary lines in
    order.

    One transaction per step: a step that fails leaves nothing of itself half-applied (the
    steps before it stand, and a re-run of the day redoes the rest, every step being
    idempotent), and a step that writes row by row pays for one commit, not one per row —
    on SQLite a commit is a sync to disk, which made a day's letters cost seconds."""
    lines = []
    for registered in steps():
        with transaction.atomic():
            lines.append(registered.step(day))
    return lines


@dataclass(frozen=True, slots=True)
class ClosedDay:
    """What closing a day did: the ledger run and each step's summary line, in order."""

    ledger: RunSummary
    steps: tuple[str, ...]

    def lines(self) -> list[str]:
        """The lines ``run-day`` and the demo print: the ledger's, then each step's."""
        return [self.ledger.line(), *self.steps]


def close_day(
    as_of: date,
    *,
    engine: str = COMPILED,
    progress: Callable[[int, int], None] | None = None,
    workflow: bool = True,
    full: bool = False,
) -> ClosedDay:
    """Close ``as_of``: compute and store every loan's state with ``engine``, then (unless
    ``workflow`` is false: the ledger state only) run every registered step — the workflow,
    the apps' steps, the outbox. Every part is idempotent, so closing a day twice changes
    nothing the second time. ``full`` recomputes every loan's state even on a rerun of a day
    (see :func:`arrears.daily.services.day_run`)."""
    # imported here: every app registers its step at start-up, and the ledger run brings
    # the compiled engine (Numba, Polars, Arrow) that most commands and requests never use
    from arrears.daily.services import day_run

    ledger = day_run(as_of=as_of, engine=engine, progress=progress, full=full)
    return ClosedDay(ledger, tuple(run(as_of)) if workflow else ())
