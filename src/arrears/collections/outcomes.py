"""Apps that take a contact outcome over (``complaints`` files a logged dispute as a complaint).

An app registers a handler of an outcome from its ``AppConfig.ready()``; ``log_contact``
(``collections.services``) calls it in the contact's transaction, and a handled outcome places
no hold of its own. The registry lives here, not in ``collections.services``, so registering
costs start-up nothing: the services bring the workflow and Polars, which a command or request
that logs no contact never needs. A handler may be given by its dotted path, imported when the
outcome is first logged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from arrears.collections.models import ContactAttempt

Handler = Callable[["ContactAttempt"], None]

#: outcome -> handler of the logged attempt.
OUTCOME_HANDLERS: dict[str, Handler] = {}


def _by_path(path: str) -> Handler:
    """A handler that imports ``path`` on its first call."""

    def handler(attempt: ContactAttempt) -> None:
        target: Handler = import_string(path)
        target(attempt)

    handler.__qualname__ = handler.__name__ = path.rpartition(".")[2]
    return handler


def handle_outcome(outcome: str, handler: Handler | str) -> None:
    """Register (or replace) the handler of ``outcome`` (from an ``AppConfig.ready()``), or its
    dotted path (``"arrears.complaints.disputes.file_from_contact"``)."""
    OUTCOME_HANDLERS[outcome] = _by_path(handler) if isinstance(handler, str) else handler
