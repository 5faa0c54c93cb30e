"""What the three JSON APIs (agency, portal, integrations) share, so they cannot drift.

* Keys and tokens are random secrets shown once and stored as their SHA-256 (:func:`hash_key`):
  a database leak yields no usable key, and a lookup is one indexed equality.
* Every error has one shape, ``{"error": {"code", "message", "field"?, "errors"?}}``
  (:func:`error_json`), with the stable codes of ``arrears.errorcodes``. ``field`` appears
  when the error concerns one input; ``errors`` (per-row or per-field problems) only for the
  APIs whose errors can carry several.

This module imports no app, so every app's API may import it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from django.http import JsonResponse

from arrears import errorcodes


def hash_key(key: str) -> str:
    """The stored form of a key or token: its SHA-256, hex."""
    return hashlib.sha256(key.encode()).hexdigest()


def error_body(
    code: str,
    message: str,
    *,
    field: str | None = None,
    errors: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The ``{"error": …}`` document (``errors`` left out when ``None``)."""
    body: dict[str, Any] = {"code": code, "message": message}
    if field:
        body["field"] = field
    if errors is not None:
        body["errors"] = [dict(e) for e in errors]
    return {"error": body}


def error_json(
    code: str,
    message: str,
    status: int,
    *,
    field: str | None = None,
    errors: Sequence[Mapping[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JsonResponse:
    """The one error response of the JSON APIs."""
    response = JsonResponse(error_body(code, message, field=field, errors=errors), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def check_scopes(
    wanted: Sequence[str], allowed: Sequence[str], error: type[Any], *, none: str, unknown: str
) -> None:
    """Refuse a key's scope list that is empty (code ``none``) or names a scope outside
    ``allowed`` (code ``unknown``, naming it and the allowed ones): the rule every API's keys
    share; each API keeps its own error class and codes."""
    if not wanted:
        raise errorcodes.refuse(error, none, field="scopes")
    for scope in wanted:
        if scope not in allowed:
            raise errorcodes.refuse(
                error, unknown, field="scopes", value=repr(scope), allowed=", ".join(allowed)
            )
