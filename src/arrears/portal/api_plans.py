""" "Make a plan" as JSON (``/api/v1/my/loans/{ref}/plan``): the page's options, requests and
forms through the same ``portal.plans`` services, parsers and scoping (404 for a loan that is
not the token's borrower's); refusals in the API's one error shape, naming the field."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Router, Schema

from arrears.kernel.errors import ArrearsError
from arrears.kernel.money import Money
from arrears.portal import plan_views, plans, selectors
from arrears.portal.api import borrower_of, error_response

router = Router(tags=["plans"])


class PlanBody(Schema):
    instalments: str
    first_on: str
    first_amount: str = ""


class PromiseBody(Schema):
    amount: str
    on: str


def _plain(value: Any) -> Any:
    """Money as ``{"minor", "amount"}`` (like ``explain``), dates as ISO text."""
    if isinstance(value, Money):
        return {"minor": value.minor, "amount": str(value.amount)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "status_label"}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@router.get("loans/{ref}/plan", summary="The plans I may ask for, and my requests")
def plan(request: HttpRequest, ref: str) -> HttpResponse:
    borrower = borrower_of(request)
    found = selectors.loan_of(borrower, ref)
    context = plan_views.page_context(borrower, found)
    lim = context["limits"]
    body = {
        "as_of": context["on"].isoformat(),
        "total_due": context["data"]["totals"]["total_due"],
        "payoff": context["data"]["totals"]["payoff"],
        "open_request": context["open_request"] or None,
        "options": _plain(context["options"]),
        "requests": _plain(context["requests"]),
        "limits": {name: getattr(lim, name) for name in plans.DEFAULTS},
    }
    return JsonResponse(body, json_dumps_params={"ensure_ascii": False})


def _made(borrower: Any, loan: Any, ref: str) -> HttpResponse:
    rows = plan_views.page_context(borrower, loan)["requests"]
    made = next(r for r in rows if r["ref"] == ref)
    return JsonResponse({"request": _plain(made)}, status=201)


def _refused(refused: ArrearsError) -> HttpResponse:
    conflict = refused.code.startswith("portal-request-open") or refused.code == (
        "portal-plan-active"
    )
    return error_response(refused, 409 if conflict else 400)


@router.post("loans/{ref}/plan", summary="Ask for a repayment plan")
def propose(request: HttpRequest, ref: str, body: PlanBody) -> HttpResponse:
    borrower = borrower_of(request)
    found = selectors.loan_of(borrower, ref)
    data = {"instalments": body.instalments, "first_on": body.first_on}
    data["first_amount"] = body.first_amount
    try:
        made = plan_views.submit(borrower, found, "plan", data)
    except ArrearsError as refused:
        refused.field = plan_views.FIELDS["plan"].get(refused.field or "", refused.field)
        return _refused(refused)
    return _made(borrower, found, made)


@router.post("loans/{ref}/promise", summary="Promise to pay an amount by a date")
def promise(request: HttpRequest, ref: str, body: PromiseBody) -> HttpResponse:
    borrower = borrower_of(request)
    found = selectors.loan_of(borrower, ref)
    try:
        made = plan_views.submit(borrower, found, "promise", {"amount": body.amount, "on": body.on})
    except ArrearsError as refused:
        refused.field = plan_views.FIELDS["promise"].get(refused.field or "", refused.field)
        return _refused(refused)
    return _made(borrower, found, made)
