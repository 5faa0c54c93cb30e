"""The one pipeline that runs after the ledger has computed a day: the workflow, then whatever
the other apps do with its result (agency placements, letters, field visits), then the outbox.

``run-day`` and the demo both call :func:`run`, so there is one order of steps and nobody keeps a
second copy of it. Apps add a step with :func:`register` from their ``AppConfig.ready()``; a step
takes the business date and returns a one-line summary, and must be idempotent — re-running a day
changes nothing — because a crashed or repeated run calls every step again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

Step = Callable[[date], str]

#: Positions of the built-in steps; app steps go between them (10..90).
WORKFLOW_ORDER = 0
OUTBOX_ORDER = 100


@dataclass(frozen=True, slots=True)
class Registered:
    name: str
    order: int
    step: Step


_STEPS: dict[str, Registered] = {}


def register(name: str, step: Step, order: int) -> None:
    """Add (or replace, by name) a step; steps run in ``order``, then name."""
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
    """Run every step for ``day``; returns their summary lines in order."""
    return [registered.step(day) for registered in steps()]
