"""The portal as JSON for a mobile app (django-ninja), mounted at ``/api/v1/my/``.

The same services and the same scoping as the pages: ``POST sign-in`` asks for a code (the
same rate limits, the same answer for an unknown loan number), ``POST sign-in/confirm``
exchanges the code for a bearer token (``Authorization: Bearer <token>``; only its SHA-256 is
kept, it lapses after the portal's idle limit), and every other endpoint reads through
``portal.selectors`` for the token's borrower — another borrower's loan is 404. Errors have one
shape: ``{"error": {"code", "message", "field"}}`` with the stable codes of ``errorcodes``.
"""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from arrears import errorcodes
from arrears.api.common import error_json
from arrears.kernel.errors import ArrearsError
from arrears.ledger.models import Borrower
from arrears.portal import selectors, session, signin
from arrears.portal.models import SignInChallenge
from arrears.portal.views import client_address, parse_amount, parse_day

errorcodes.define({"portal-api-unauthenticated": "sign in first: Authorization: Bearer <token>"})


class PortalApiRefused(ArrearsError):
    code = "portal-api-refused"


class TokenAuth(HttpBearer):
    """A portal token; ``request.auth`` becomes its :class:`Borrower`."""

    def authenticate(self, request: HttpRequest, token: str) -> Borrower | None:
        return session.token_borrower(token.strip()[:128])


api = NinjaAPI(
    title="Arrears borrower API",
    version="1",
    urls_namespace="portal-api",
    auth=TokenAuth(),
    description=__doc__ or "",
)


def error_response(error: ArrearsError, status: int) -> JsonResponse:
    """The one error shape (the message in the request's language)."""
    return error_json(error.code, errorcodes.describe(error), status, field=error.field)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(errorcodes.refuse(PortalApiRefused, "portal-api-unauthenticated"), 401)


def borrower_of(request: HttpRequest) -> Borrower:
    return request.auth  # type: ignore[attr-defined,no-any-return]


class SignInBody(Schema):
    loan: str


class ConfirmBody(Schema):
    challenge: str
    code: str


@api.post("sign-in", auth=None, summary="Ask for a one-time code by SMS")
def sign_in(request: HttpRequest, body: SignInBody) -> HttpResponse:
    try:
        started = signin.start(body.loan[:200], client_address(request))
    except signin.SignInRefused as refused:
        return error_response(refused, 429 if "too-many" in refused.code else 400)
    minutes = signin.limits()["code_minutes"]
    return JsonResponse({"challenge": started.challenge.salt, "valid_minutes": minutes})


@api.post("sign-in/confirm", auth=None, summary="Exchange the code for a bearer token")
def confirm(request: HttpRequest, body: ConfirmBody) -> HttpResponse:
    found = SignInChallenge.objects.filter(salt=body.challenge[:64]).values_list("pk", flat=True)
    try:
        loan = signin.confirm(found.first() or 0, body.code, client_address(request))
    except signin.SignInRefused as refused:
        return error_response(refused, 400)
    minutes = int(session.idle_limit().total_seconds() // 60)
    return JsonResponse({"token": session.issue_token(loan), "idle_minutes": minutes})


@api.post("sign-out", summary="Revoke this token")
def sign_out(request: HttpRequest) -> HttpResponse:
    header = request.headers.get("Authorization", "")
    session.revoke_token(header.removeprefix("Bearer ").strip())
    return JsonResponse({"signed_out": True})


@api.get("loans", summary="The borrower's loans with what is due today")
def loans(request: HttpRequest) -> HttpResponse:
    on = selectors.today()
    rows = []
    for loan in selectors.loans_of(borrower_of(request)):
        data = selectors.statement(loan, on)
        rows.append(
            {
                "ref": loan.ref,
                "currency": loan.currency,
                "dpd": data["dpd"],
                "total_due": data["totals"]["total_due"],
                "payoff": data["totals"]["payoff"],
            }
        )
    return JsonResponse({"as_of": on.isoformat(), "loans": rows})


@api.get("loans/{ref}", summary="What I owe and why (the same explain as staff see)")
def loan(request: HttpRequest, ref: str) -> HttpResponse:
    found = selectors.loan_of(borrower_of(request), ref)
    on = selectors.today()
    quote = selectors.quote(found, on)
    return JsonResponse(
        {
            "explain": selectors.statement(found, on),
            "quote": {
                "today": quote.today_amount,
                "amount": quote.amount,
                "valid_to": quote.valid_to.isoformat(),
            },
        },
        json_dumps_params={"ensure_ascii": False},
    )


@api.get("loans/{ref}/projection", summary="If I pay (amount) on (date)")
def projection(request: HttpRequest, ref: str, on: str, amount: str = "") -> HttpResponse:
    found = selectors.loan_of(borrower_of(request), ref)
    today = selectors.today()
    last = today + timedelta(days=selectors.MAX_PROJECTION_DAYS)
    try:
        day = parse_day(on, today, last)
        minor = parse_amount(amount, found.currency) if amount else None
    except ArrearsError as refused:
        return error_response(refused, 400)
    result = selectors.projection(found, day, minor)
    result["on"] = day.isoformat()
    return JsonResponse(result, json_dumps_params={"ensure_ascii": False})


api.add_router("", "arrears.portal.api_pages.router")
api.add_router("", "arrears.portal.api_plans.router")
