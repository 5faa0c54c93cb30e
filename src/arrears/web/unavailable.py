"""A clean 503 when the database goes away, in the app's style and the reader's language.

A database that refuses connections, or whose server ends our connection mid-request
(restart, failover, ``pg_terminate_backend``), raises ``django.db.OperationalError`` or
``InterfaceError``. Without this module that is Django's 500 page — or, with ``DEBUG`` on as
in the demo, a traceback. :class:`DatabaseUnavailableMiddleware` (first in ``MIDDLEWARE``)
answers instead:

* pages: ``503.html`` ("the database is unavailable, try again"), a standalone page like
  ``500.html`` that needs no database;
* the JSON APIs (``/api/…``): the APIs' one error shape (``api.common.error_json``), code
  ``database-unavailable``, status 503;
* both with ``Retry-After``.

It catches the error at three places, because Django turns an exception into a 500 response at
the middleware that raised it, before an outer middleware sees it:

1. before anything else, it makes sure a connection can be opened (``ensure_connection``): a
   database that refuses connections is answered here, before the session and user lookups;
2. an exception a view raises (``process_exception``): logged once, here, as one masked line;
3. an exception raised by another middleware (the session, the user) after the check: Django
   has already logged it once and rendered its 500; ``got_request_exception`` notes the cause
   on the request and the 500 is replaced on its way out.

The write in flight is not half-applied: the server rolls back the transaction of a connection
it ends, and the request's atomic blocks never commit. Afterwards every connection that errored
and is no longer usable is closed, so the next request opens a fresh one (Django does this at
the end of a request too; ``CONN_HEALTH_CHECKS`` covers persistent connections at the start).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils import translation

from arrears import errorcodes
from arrears.api.common import error_json
from arrears.kernel.errors import ArrearsError
from arrears.ledger.masking import mask_text

logger = logging.getLogger("arrears.unavailable")

errorcodes.define(
    {
        "database-unavailable": (
            "the database is unavailable; nothing was changed. Try again in a moment"
        ),
    }
)

#: Seconds a client is told to wait before trying again.
RETRY_AFTER = 30
#: Errors that mean "the database is not there", not "this statement is wrong": a refused or
#: ended connection. ``IntegrityError``, ``DataError`` and ``ProgrammingError`` stay 500s/4xxs.
UNAVAILABLE = (OperationalError, InterfaceError)
_NOTED = "_arrears_database_unavailable"


class DatabaseUnavailable(ArrearsError):
    code = "database-unavailable"


def is_unavailable(error: BaseException | None) -> bool:
    """Whether ``error`` (or an error it was raised from) is a lost or refused connection.

    SQLite's "database is locked" is an ``OperationalError`` too, and is answered the same way:
    the database cannot serve the request now, and trying again later is the right advice."""
    seen = 0
    while error is not None and seen < 8:
        if isinstance(error, UNAVAILABLE):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__


def release_broken_connections() -> None:
    """Close every connection that errored and cannot be used any more (outside a transaction),
    so the next query opens a new one."""
    for connection in connections.all(initialized_only=True):
        if connection.connection is None or connection.in_atomic_block:
            continue
        if not connection.is_usable():
            connection.close()


def response(request: HttpRequest) -> HttpResponse:
    """The 503 answer for ``request``: JSON under ``/api/``, else ``503.html``, in the
    language ``LocaleMiddleware`` would choose (which may not have run yet)."""
    with translation.override(translation.get_language_from_request(request)):
        return _response(request)


def _response(request: HttpRequest) -> HttpResponse:
    message = errorcodes.describe(errorcodes.refuse(DatabaseUnavailable, "database-unavailable"))
    answer: HttpResponse
    if request.path.startswith("/api/"):
        answer = error_json("database-unavailable", message, 503)
    else:
        # rendered with no request and no context processors: nothing here needs the database
        answer = HttpResponse(loader.get_template("503.html").render(), status=503)
    answer["Retry-After"] = str(RETRY_AFTER)
    answer["Cache-Control"] = "no-store"
    return answer


def _log(request: HttpRequest, error: BaseException) -> None:
    logger.error(
        mask_text(
            f"database unavailable: {request.method} {request.path}: "
            f"{type(error).__name__}: {_first_line(error)}"
        )
    )


def _note(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """``got_request_exception``: remember on the request that its error was the database's."""
    import sys

    if request is not None and is_unavailable(sys.exc_info()[1]):
        setattr(request, _NOTED, True)


got_request_exception.connect(_note, dispatch_uid="arrears.web.unavailable")


def _raise(request: HttpRequest, exception: Exception) -> HttpResponse:
    raise exception


def pass_database_errors(api: Any) -> None:
    """Let a lost database out of a django-ninja API to the middleware (its JSON 503): ninja
    otherwise answers any exception itself (a 500; with ``DEBUG`` a plain-text traceback)."""
    for kind in UNAVAILABLE:
        api.add_exception_handler(kind, _raise)


class DatabaseUnavailableMiddleware:
    """First in ``MIDDLEWARE``; see the module docstring."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            connections["default"].ensure_connection()
        except UNAVAILABLE as error:
            _log(request, error)
            release_broken_connections()
            return self._answer(request)
        answer = self.get_response(request)
        if getattr(request, _NOTED, False) and answer.status_code == 500:
            release_broken_connections()
            answer = self._answer(request)  # Django logged the exception once already
        return answer

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_unavailable(exception):
            return None
        _log(request, exception)
        release_broken_connections()
        return self._answer(request)

    @staticmethod
    def _answer(request: HttpRequest) -> HttpResponse:
        answer = response(request)
        answer._has_been_logged = True  # type: ignore[attr-defined]  # logged here: once
        return answer
