"""The agency JSON API (django-ninja), mounted at ``/api/v1/agency/``.

Authentication is an API key per agency integration: ``Authorization: Bearer <key>``, looked
up by its SHA-256 (``access.token_for``); each key has scopes (``placements:read``,
``results:write``). Every error has one shape, with a stable code::

    {"error": {"code": "...", "message": "...", "errors": [{"row", "field", "code",
     "message"}]}}

``GET placements`` lists the agency's live placements (minimised like the export);
``POST results`` takes ``{"reference": "...", "results": [...]}`` and hands it to
``exchange.submit`` — the same validation and application as a results file: all rows
checked, all-or-nothing, idempotent by reference (a resend returns the original result with
``"replayed": true``; other content under a used reference is 409).
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from arrears import errorcodes
from arrears.agencies import access, exchange
from arrears.agencies.models import AgencyToken, ResultBatch
from arrears.api.common import error_json
from arrears.collections.workflow import business_date
from arrears.kernel.errors import ArrearsError

#: The largest request body read: as large as a results file (a full batch of
#: ``exchange.MAX_ROWS`` rows with the longest notes fits).
MAX_BODY_BYTES = exchange.MAX_FILE_BYTES

errorcodes.define(
    {
        "api-unauthenticated": "a valid API key is needed: Authorization: Bearer <key>",
        "api-scope": "this key does not have the scope %(scope)s",
        "api-body": "the body must be a JSON object with reference and results",
        "api-body-too-large": "the body has %(size)s bytes; at most %(max)s are accepted",
    }
)


#: The keys of a results body; anything else (a ``collected_total``, say) is refused.
_ENVELOPE = ("reference", "results")


class ApiRefused(ArrearsError):
    code = "api-refused"


class KeyAuth(HttpBearer):
    """An agency API key; ``request.auth`` becomes its :class:`AgencyToken`."""

    def authenticate(self, request: HttpRequest, token: str) -> AgencyToken | None:
        return access.token_for(token.strip())


api = NinjaAPI(
    title="Arrears agency API",
    version="1",
    urls_namespace="agency-api",
    auth=KeyAuth(),
    description=__doc__ or "",
)


def error_response(
    error: ArrearsError, status: int, rows: list[exchange.RowError] | None = None
) -> JsonResponse:
    """The one error shape of this API."""
    text = str(error)
    if error.field and text.startswith(f"{error.field}: "):
        text = text[len(error.field) + 2 :]
    errors = [row.as_dict() for row in rows or []]
    return error_json(error.code, text, status, field=error.field, errors=errors)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(errorcodes.refuse(ApiRefused, "api-unauthenticated"), 401)


def _scope(request: HttpRequest, scope: str) -> AgencyToken | JsonResponse:
    token: AgencyToken = request.auth  # type: ignore[attr-defined]
    if scope not in (token.scopes or []):
        return error_response(errorcodes.refuse(ApiRefused, "api-scope", scope=scope), 403)
    return token


@api.get("placements", summary="Live placements of the key's agency (minimised)")
def placements(request: HttpRequest) -> HttpResponse:
    token = _scope(request, "placements:read")
    if isinstance(token, JsonResponse):
        return token
    day = business_date()
    rows = exchange.placement_rows(token.agency, day)
    for row in rows:
        for name in ("placed_on", "ends_on", "promise_due_date"):
            row[name] = row[name].isoformat() if row[name] else None
    return JsonResponse({"as_of": day.isoformat(), "placements": rows})


@api.post(
    "results",
    summary="Report contact attempts and promises (all-or-nothing, idempotent by reference)",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["reference", "results"],
                        "properties": {
                            "reference": {"type": "string", "maxLength": exchange.MAX_REFERENCE},
                            "results": {
                                "type": "array",
                                "maxItems": exchange.MAX_ROWS,
                                "items": {
                                    "type": "object",
                                    "required": list(exchange.REQUIRED),
                                    "properties": {
                                        name: {"type": "string"} for name in exchange.FIELDS
                                    },
                                },
                            },
                        },
                    }
                }
            }
        }
    },
)
def results(request: HttpRequest) -> HttpResponse:
    token = _scope(request, "results:write")
    if isinstance(token, JsonResponse):
        return token
    length = request.headers.get("Content-Length") or "0"
    size = int(length) if length.isdigit() else MAX_BODY_BYTES + 1
    if size > MAX_BODY_BYTES:
        error = errorcodes.refuse(ApiRefused, "api-body-too-large", size=size, max=MAX_BODY_BYTES)
        return error_response(error, 413)
    try:
        body = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("reference"), str):
        return error_response(errorcodes.refuse(ApiRefused, "api-body"), 400)
    extra = [exchange.envelope_error(str(name)) for name in body if name not in _ENVELOPE]
    if extra:
        refused = exchange.refuse_batch(extra)
        return error_response(refused, 400, refused.errors)
    try:
        outcome = exchange.submit(
            token.agency, body["reference"], body.get("results"), source=ResultBatch.Source.API
        )
    except exchange.ResultsRefused as refused:
        return error_response(refused, 400, refused.errors)
    except exchange.ResultsConflict as conflict:
        return error_response(conflict, 409)
    return JsonResponse(outcome.as_dict(), status=200 if outcome.replayed else 201)
