"""The REST API for integrators (django-ninja), mounted at ``/api/v1/``.

A lender's systems create loans (with the schedule the ledger builds), send payments and
reversals, read a loan's state as of a date (the same document as ``arrears explain``), and
read or add to cases: contact attempts, promises, plans and holds; ``GET gate/check`` answers
"may I contact this borrower by this channel now?" without recording anything. Every write
goes through the app's own service (``ledger.services``, ``collections.services``,
``collections.concessions``, ``contact.gate``): this module parses, checks scopes, pages and
formats, and holds no business rule.

* **Auth**: ``Authorization: Bearer ark_…`` (``access.token_for``); each endpoint needs one
  scope (403 ``api-scope``); each key has a per-minute limit counted in the database (429
  ``api-rate-limited`` with ``Retry-After``).
* **Errors**: ``{"error": {"code", "message", "field", "errors": [{"field", "code",
  "message"}]}}`` (``arrears.api.common``) — body validation is 422 ``api-invalid`` with one
  entry per field; a service's refusal is 422 (409 for a reference already taken) with its
  own code; an unknown object is 404 ``api-not-found``.
* **Idempotency**: loans by ``ref``, payments by ``reference`` and reversals by
  ``reversal_ref``, per integration (``idempotency.run_once``): a replay returns the first
  answer with ``Idempotent-Replayed: true``; other content under a used reference is 409.
* **Pagination**: every list is ordered by id and takes ``cursor`` (opaque) and ``limit``
  (≤ 200); the answer's ``next_cursor`` is ``null`` on the last page.

``docs/api.md`` has the reference with curl examples.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from functools import wraps
from typing import Annotated, Any, Literal, TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern
from django.utils import timezone
from ninja import NinjaAPI, Path, Query
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer

from arrears import errorcodes
from arrears.api import access, idempotency
from arrears.api.common import error_body, error_json
from arrears.api.models import IntegrationToken
from arrears.api.schemas import (
    FIRST_DAY,
    LAST_DAY,
    CaseOut,
    CasePage,
    ContactIn,
    ContactOut,
    ContactPage,
    ErrorOut,
    GateOut,
    HoldIn,
    HoldOut,
    HoldPage,
    Id,
    LoanIn,
    LoanOut,
    PageQuery,
    PaymentIn,
    PaymentOut,
    PlanIn,
    PlanOut,
    PlanPage,
    PromiseIn,
    PromiseOut,
    PromisePage,
    ReversalIn,
    StateOut,
)
from arrears.collections import concessions, services
from arrears.collections.models import Case, ContactAttempt, Hold, Promise
from arrears.contact import gate
from arrears.kernel.errors import ArrearsError
from arrears.kernel.explain import explain
from arrears.ledger import selectors as ledger_selectors
from arrears.ledger import services as ledger
from arrears.ledger.masking import mask_phone, mask_text
from arrears.ledger.models import Borrower, Loan, Payment, Product, RepaymentPlan

errorcodes.define(
    {
        "api-unauthenticated": "a valid API key is needed: Authorization: Bearer <key>",
        "api-scope": "this key does not have the scope %(scope)s",
        "api-rate-limited": "at most %(limit)s requests a minute; retry in %(seconds)s s",
        "api-invalid": "the request is not valid: %(problems)s",
        "api-not-found": "no such %(what)s",
        "api-cursor": "this cursor is not one this API gave",
        "api-unknown-borrower": "no borrower with reference %(ref)s",
        "api-unknown-product": "no product %(product)s in force on %(day)s",
        "api-contact-at": "a contact's time must be within the last %(days)s days, not later",
        "api-error": "the request failed (%(status)s)",
        "api-malformed": "the body is not valid JSON",
    }
)

RefPath = Annotated[str, Path(..., max_length=64, examples=["L1"])]
Channel = Literal["call", "sms", "email", "letter", "visit", "in_app"]
Party = Literal["borrower", "co_borrower", "emergency_contact", "third_party"]
CaseStatus = Literal[
    "open", "promised", "in_plan", "on_hold", "placed", "field", "resolved", "written_off"
]

#: How far back a contact may be logged.
CONTACT_BACKDATE_DAYS = 31
#: How far past "now" a contact's time may be (clocks of other systems drift).
CONTACT_CLOCK_SKEW = timedelta(minutes=5)


class ApiRefused(ArrearsError):
    """A refusal of the API itself (not of a service), with its HTTP status."""

    code = "api-refused"
    status = 400


class Unauthenticated(ApiRefused):
    status = 401


class ScopeMissing(ApiRefused):
    status = 403


class NotFound(ApiRefused):
    status = 404


class RateLimited(ApiRefused):
    status = 429
    retry_after = 60


class Invalid(ApiRefused):
    status = 422


class KeyAuth(HttpBearer):
    """An integration key holding ``scope``; ``request.auth`` becomes its
    :class:`IntegrationToken`. The request is counted against the key's rate limit, then the
    scope is checked (403 ``api-scope``) — both before the body is read or validated."""

    def __init__(self, scope: str = "") -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> IntegrationToken | None:
        found = access.token_for(token.strip())
        if found is None:
            return None
        check = access.count_request(found)
        request.rate_check = check  # type: ignore[attr-defined]  # for the X-RateLimit headers
        if not check.allowed:
            refused = errorcodes.refuse(
                RateLimited, "api-rate-limited", limit=check.limit, seconds=check.retry_after
            )
            refused.retry_after = check.retry_after
            raise refused
        if self.scope and self.scope not in (found.scopes or []):
            raise errorcodes.refuse(ScopeMissing, "api-scope", scope=self.scope)
        return found


def scoped(scope: str) -> KeyAuth:
    """The authentication of an operation that needs ``scope``."""
    if scope not in access.SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    return KeyAuth(scope)


api = NinjaAPI(
    title="Arrears integration API",
    version="1",
    urls_namespace="integration-api",
    auth=KeyAuth(),
    description=__doc__ or "",
)

#: The error answers every operation may give (documented in the OpenAPI document).
ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}
WRITE_ERRORS: dict[int, Any] = {**ERRORS, 400: ErrorOut, 409: ErrorOut}


# --- errors --------------------------------------------------------------------------------


def status_of(error: ArrearsError) -> int:
    if isinstance(error, ApiRefused):
        return error.status
    if isinstance(error, ledger.DuplicateReference | idempotency.IdempotencyConflict):
        return 409
    return 422


def error_document(
    error: ArrearsError, errors: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """``{"error": …}`` for ``error``, its message in the request's language."""
    message = errorcodes.describe(error)
    return error_body(error.code, message, field=error.field, errors=errors or [])


def refusal(error: ArrearsError) -> tuple[int, dict[str, Any]]:
    """A service's refusal as the (status, body) the API answers (and stores for replays)."""
    return status_of(error), error_document(error)


def error_response(error: ArrearsError, errors: list[dict[str, str]] | None = None) -> HttpResponse:
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, RateLimited) else {}
    message = errorcodes.describe(error)
    return error_json(
        error.code,
        message,
        status_of(error),
        field=error.field,
        errors=errors or [],
        headers=headers,
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(errorcodes.refuse(Unauthenticated, "api-unauthenticated"))


@api.exception_handler(ArrearsError)
def _refused(request: HttpRequest, exc: ArrearsError) -> HttpResponse:
    return error_response(exc)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    what = str(exc) or "object"
    return error_response(errorcodes.refuse(NotFound, "api-not-found", what=what))


def _field(location: Iterable[Any]) -> str:
    parts = [str(p) for p in location]
    if parts and parts[0] in ("body", "query", "path"):
        parts = parts[1:]
    if parts and parts[0] in ("body", "filters", "page"):  # ninja's parameter names
        parts = parts[1:]
    return ".".join(parts) or "body"


@api.exception_handler(NinjaValidationError)
def _invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    problems = [
        {
            "field": _field(e.get("loc", ())),
            "code": str(e.get("type", "invalid")),
            "message": str(e.get("msg", "invalid")),
        }
        for e in exc.errors
    ]
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
    error = errorcodes.refuse(
        Invalid, "api-invalid", field=problems[0]["field"] if problems else None, problems=summary
    )
    return error_response(error, problems)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """Ninja's own refusals (a body that is not JSON…) in the one error format."""
    if exc.status_code == 400:
        error = errorcodes.refuse(Invalid, "api-malformed")
    else:
        error = errorcodes.refuse(Invalid, "api-error", status=exc.status_code)
    return error_json(error.code, errorcodes.describe(error), exc.status_code, errors=[])


def token_of(request: HttpRequest) -> IntegrationToken:
    """The request's key (authenticated, counted and checked for the operation's scope)."""
    return request.auth  # type: ignore[attr-defined,no-any-return]


# --- pagination ----------------------------------------------------------------------------

M = TypeVar("M", bound=Model)


def _encode(pk: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{pk}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    version, _, number = text.partition(":")
    if version != "v1" or not number.isdigit() or len(number) > 18:
        raise errorcodes.refuse(Invalid, "api-cursor", field="cursor")
    return int(number)


def paginate(
    rows: QuerySet[M], page: PageQuery, render: Callable[[M], dict[str, Any]]
) -> dict[str, Any]:
    """One page of ``rows`` by ascending id after the cursor (stable however rows change)."""
    if page.cursor:
        rows = rows.filter(pk__gt=_decode(page.cursor))
    found = list(rows.order_by("pk")[: page.limit + 1])
    more = len(found) > page.limit
    found = found[: page.limit]
    return {
        "items": [render(row) for row in found],
        "next_cursor": _encode(found[-1].pk) if more else None,
    }


# --- lookups -------------------------------------------------------------------------------


def _loan(ref: str) -> Loan:
    found = Loan.objects.select_related("product", "borrower").filter(ref=ref[:64]).first()
    if found is None:
        raise Http404("loan")
    return found


def _case(case_id: int) -> Case:
    found = Case.objects.select_related("borrower").filter(pk=case_id).first()
    if found is None:
        raise Http404("case")
    return found


def _borrower(ref: str, field: str = "borrower") -> Borrower:
    found = Borrower.objects.filter(ref=ref).first()
    if found is None:
        raise errorcodes.refuse(Invalid, "api-unknown-borrower", field=field, ref=repr(ref))
    return found


def _product(code: str, version: int | None, day: date) -> Product:
    rows = Product.objects.filter(code=code)
    if version is not None:
        rows = rows.filter(version=version)
    found = rows.filter(effective_from__lte=day).order_by("-version").first()
    if found is None:
        raise errorcodes.refuse(
            Invalid, "api-unknown-product", field="product", product=code, day=day
        )
    return found


# --- rendering -----------------------------------------------------------------------------


def loan_body(loan: Loan) -> dict[str, Any]:
    return {
        "ref": loan.ref,
        "borrower": loan.borrower.ref,
        "product": loan.product.code,
        "product_version": loan.product.version,
        "currency": loan.currency,
        "principal_minor": loan.principal_minor,
        "rate_value": str(loan.rate_value),
        "rate_basis": loan.rate_basis,
        "term": loan.term,
        "method": loan.method,
        "day_count": loan.day_count,
        "start_date": loan.start_date.isoformat(),
        "schedule": [
            {
                "seq": i.seq,
                "due_date": i.due_date.isoformat(),
                "principal_minor": i.principal,
                "interest_minor": i.interest,
            }
            for i in loan.instalments
        ],
    }


def payment_body(payment: Payment) -> dict[str, Any]:
    return {
        "reference": payment.ref,
        "loan": payment.loan.ref,
        "value_date": payment.value_date.isoformat(),
        "amount_minor": payment.amount_minor,
        "currency": payment.currency,
        "reversed_on": payment.reversed_on.isoformat() if payment.reversed_on else None,
        "reversal_ref": payment.reversal_ref,
    }


def case_body(case: Case) -> dict[str, Any]:
    loans = Loan.objects.filter(borrower_id=case.borrower_id).order_by("id")
    return {
        "id": case.pk,
        "borrower": case.borrower.ref,
        "status": case.status,
        "stage": case.stage,
        "bucket": case.bucket,
        "dpd": case.dpd,
        "total_due_minor": case.total_due_minor,
        "currency": case.currency,
        "opened_on": case.opened_on.isoformat(),
        "closed_on": case.closed_on.isoformat() if case.closed_on else None,
        "collector": case.collector.user.username if case.collector else None,
        "loans": list(loans.values_list("ref", flat=True)),
    }


def contact_body(attempt: ContactAttempt) -> dict[str, Any]:
    return {
        "id": attempt.pk,
        "case": attempt.case_id,
        "at": attempt.at.isoformat(),
        "channel": attempt.channel,
        "direction": attempt.direction,
        "party": attempt.party,
        "outcome": attempt.outcome,
        "phone": mask_phone(attempt.phone.number) if attempt.phone else None,
        "note": mask_text(attempt.note),
        "gate_outcome": attempt.gate_outcome,
        "gate_rules": list(attempt.gate_rules or []),
        "overridden": attempt.overridden,
    }


def promise_body(promise: Promise) -> dict[str, Any]:
    return {
        "id": promise.pk,
        "case": promise.case_id,
        "amount_minor": promise.amount_minor,
        "made_on": promise.made_on.isoformat(),
        "due_date": promise.due_date.isoformat(),
        "tolerance_minor": promise.tolerance_minor,
        "status": promise.status,
        "paid_minor": promise.paid_minor,
    }


def plan_body(plan: RepaymentPlan) -> dict[str, Any]:
    return {
        "ref": plan.ref,
        "loan": plan.loan.ref,
        "effective_on": plan.effective_on.isoformat(),
        "status": plan.status,
        "grace_days": plan.grace_days,
        "tolerance_minor": plan.tolerance_minor,
        "waive_rest": plan.waive_rest,
        "concession_minor": plan.concession_minor,
        "instalments": [
            {"seq": i.seq, "due_date": i.due_date.isoformat(), "amount_minor": i.amount_minor}
            for i in plan.instalments.order_by("seq")
        ],
    }


def hold_body(hold: Hold) -> dict[str, Any]:
    return {
        "id": hold.pk,
        "borrower": hold.borrower.ref,
        "loan": hold.loan.ref if hold.loan else None,
        "reason": hold.reason,
        "channels": list(hold.channels or []),
        "starts_on": hold.starts_on.isoformat(),
        "ends_on": hold.ends_on.isoformat(),
        "released_on": hold.released_on.isoformat() if hold.released_on else None,
    }


def answered(answer: idempotency.Answer) -> HttpResponse:
    response = JsonResponse(answer.body, status=answer.status)
    if answer.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


# --- loans ---------------------------------------------------------------------------------


@api.post(
    "loans",
    response={201: LoanOut, 200: LoanOut, **WRITE_ERRORS},
    summary="Create a loan; the ledger builds its schedule (idempotent by ref)",
    auth=scoped("loans:write"),
)
def create_loan(request: HttpRequest, body: LoanIn) -> HttpResponse:
    token = token_of(request)
    payload = body.model_dump(mode="json")
    owner = _borrower(body.borrower)
    product = _product(body.product, body.product_version, body.start_date)

    def work() -> tuple[int, dict[str, Any]]:
        loan = ledger.create_loan(
            ref=body.ref,
            borrower=owner,
            product=product,
            currency=body.currency,
            principal_minor=body.principal_minor,
            rate_value=body.rate_value,
            rate_basis=body.rate_basis,
            term=body.term,
            method=body.method,
            start_date=body.start_date,
            day_count=body.day_count,
        )
        return 201, loan_body(_loan(loan.ref))

    return answered(
        idempotency.run_once(token.integration, "loan", body.ref, payload, work, refusal)
    )


@api.get(
    "loans/{ref}",
    response={200: LoanOut, **ERRORS},
    summary="A loan and its schedule",
    auth=scoped("loans:read"),
)
def get_loan(request: HttpRequest, ref: RefPath) -> HttpResponse:
    return JsonResponse(loan_body(_loan(ref)))


@api.get(
    "loans/{ref}/state",
    response={200: StateOut, **ERRORS},
    summary="The loan's state as of a date (the same document as `arrears explain --json`)",
    auth=scoped("loans:read"),
)
def loan_state(
    request: HttpRequest,
    ref: RefPath,
    as_of: Annotated[date | None, Query(None, ge=FIRST_DAY, le=LAST_DAY)] = None,
) -> HttpResponse:
    loan = _loan(ref)
    day = as_of or timezone.localdate()
    data = explain(*ledger_selectors.loan_state(loan, day))
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False})


# --- payments ------------------------------------------------------------------------------


@api.post(
    "payments",
    response={201: PaymentOut, **WRITE_ERRORS},
    summary="Record a payment (idempotent by your reference)",
    auth=scoped("payments:write"),
)
def create_payment(request: HttpRequest, body: PaymentIn) -> HttpResponse:
    token = token_of(request)
    loan = _loan(body.loan)
    payload = body.model_dump(mode="json")

    def work() -> tuple[int, dict[str, Any]]:
        payment = ledger.record_payment(
            loan=loan,
            ref=body.reference,
            value_date=body.value_date,
            amount_minor=body.amount_minor,
            currency=body.currency,
            source=f"api:{token.integration.name}"[:200],
        )
        return 201, payment_body(payment)

    owner = token.integration
    return answered(idempotency.run_once(owner, "payment", body.reference, payload, work, refusal))


@api.get(
    "payments/{reference}",
    response={200: PaymentOut, **ERRORS},
    summary="A payment by its reference",
    auth=scoped("payments:read"),
)
def get_payment(request: HttpRequest, reference: RefPath) -> HttpResponse:
    found = Payment.objects.select_related("loan").filter(ref=reference).first()
    if found is None:
        raise Http404("payment")
    return JsonResponse(payment_body(found))


@api.post(
    "payments/{reference}/reversal",
    response={201: PaymentOut, **WRITE_ERRORS},
    summary="Reverse a payment (bounce, chargeback); idempotent by reversal_ref",
    auth=scoped("payments:write"),
)
def reverse_payment(request: HttpRequest, body: ReversalIn, reference: RefPath) -> HttpResponse:
    token = token_of(request)
    found = Payment.objects.select_related("loan").filter(ref=reference).first()
    if found is None:
        raise Http404("payment")
    payload = {"payment": reference, **body.model_dump(mode="json")}

    def work() -> tuple[int, dict[str, Any]]:
        done = ledger.reverse_payment(
            payment=found,
            reversed_on=body.reversed_on,
            reversal_ref=body.reversal_ref,
            reason=body.reason,
        )
        return 201, payment_body(done)

    owner = token.integration
    return answered(
        idempotency.run_once(owner, "reversal", body.reversal_ref, payload, work, refusal)
    )


# --- cases ---------------------------------------------------------------------------------


@api.get(
    "cases", response={200: CasePage, **ERRORS}, summary="Cases, by id", auth=scoped("cases:read")
)
def list_cases(
    request: HttpRequest,
    page: Query[PageQuery],
    status: CaseStatus | None = None,
    borrower: Annotated[str | None, Query(None, max_length=64)] = None,
) -> HttpResponse:
    rows = Case.objects.select_related("borrower", "collector__user")
    if status:
        rows = rows.filter(status=status)
    if borrower:
        rows = rows.filter(borrower__ref=borrower)
    return JsonResponse(paginate(rows, page, case_body))


@api.get(
    "cases/{case_id}",
    response={200: CaseOut, **ERRORS},
    summary="One case",
    auth=scoped("cases:read"),
)
def get_case(request: HttpRequest, case_id: Id) -> HttpResponse:
    return JsonResponse(case_body(_case(case_id)))


@api.get(
    "cases/{case_id}/contacts",
    response={200: ContactPage, **ERRORS},
    summary="The case's contact attempts, by id",
    auth=scoped("contacts:read"),
)
def list_contacts(request: HttpRequest, case_id: Id, page: Query[PageQuery]) -> HttpResponse:
    case = _case(case_id)
    rows = ContactAttempt.objects.filter(case=case).select_related("phone")
    return JsonResponse(paginate(rows, page, contact_body))


@api.post(
    "cases/{case_id}/contacts",
    response={201: ContactOut, **WRITE_ERRORS},
    summary="Log a contact attempt (put to the compliance gate like a collector's)",
    auth=scoped("contacts:write"),
)
def log_contact(request: HttpRequest, case_id: Id, body: ContactIn) -> HttpResponse:
    case = _case(case_id)
    now = timezone.now()
    at = body.at or now
    if at > now + CONTACT_CLOCK_SKEW or at < now - timedelta(days=CONTACT_BACKDATE_DAYS):
        raise errorcodes.refuse(Invalid, "api-contact-at", field="at", days=CONTACT_BACKDATE_DAYS)
    attempt = services.log_contact(
        case,
        channel=body.channel,
        direction=body.direction,
        party=body.party,
        outcome=body.outcome,
        note=body.note,
        recording_ref=body.recording_ref,
        at=at,
        override_reason=body.override_reason,
    )
    return JsonResponse(contact_body(attempt), status=201)


@api.get(
    "cases/{case_id}/promises",
    response={200: PromisePage, **ERRORS},
    summary="The case's promises to pay, by id",
    auth=scoped("promises:read"),
)
def list_promises(request: HttpRequest, case_id: Id, page: Query[PageQuery]) -> HttpResponse:
    rows = Promise.objects.filter(case=_case(case_id))
    return JsonResponse(paginate(rows, page, promise_body))


@api.post(
    "cases/{case_id}/promises",
    response={201: PromiseOut, **WRITE_ERRORS},
    summary="Record a promise to pay (replaces the case's pending one)",
    auth=scoped("promises:write"),
)
def make_promise(request: HttpRequest, case_id: Id, body: PromiseIn) -> HttpResponse:
    token = token_of(request)
    promise = services.make_promise(
        _case(case_id),
        amount_minor=body.amount_minor,
        due_date=body.due_date,
        tolerance_minor=body.tolerance_minor,
        user=token.integration.user,
    )
    return JsonResponse(promise_body(promise), status=201)


# --- plans and holds -----------------------------------------------------------------------


@api.get(
    "loans/{ref}/plans",
    response={200: PlanPage, **ERRORS},
    summary="The loan's plans, by id",
    auth=scoped("plans:read"),
)
def list_plans(request: HttpRequest, page: Query[PageQuery], ref: RefPath) -> HttpResponse:
    rows = RepaymentPlan.objects.filter(loan=_loan(ref)).select_related("loan")
    return JsonResponse(paginate(rows, page, plan_body))


@api.post(
    "loans/{ref}/plans",
    response={201: PlanOut, **WRITE_ERRORS},
    summary="Propose a repayment plan (it waits for approval like a collector's)",
    auth=scoped("plans:write"),
)
def propose_plan(request: HttpRequest, body: PlanIn, ref: RefPath) -> HttpResponse:
    token = token_of(request)
    plan = concessions.propose_plan(
        _loan(ref),
        user=token.integration.user,
        effective_on=body.effective_on,
        instalments=[(i.due_date, i.amount_minor) for i in body.instalments],
        grace_days=body.grace_days,
        tolerance_minor=body.tolerance_minor,
        waive_rest=body.waive_rest,
        note=body.note,
    )
    return JsonResponse(plan_body(plan), status=201)


@api.get(
    "holds", response={200: HoldPage, **ERRORS}, summary="Holds, by id", auth=scoped("holds:read")
)
def list_holds(
    request: HttpRequest,
    page: Query[PageQuery],
    borrower: Annotated[str | None, Query(None, max_length=64)] = None,
) -> HttpResponse:
    rows = Hold.objects.select_related("borrower", "loan")
    if borrower:
        rows = rows.filter(borrower__ref=borrower)
    return JsonResponse(paginate(rows, page, hold_body))


@api.post(
    "holds",
    response={201: HoldOut, **WRITE_ERRORS},
    summary="Place a hold",
    auth=scoped("holds:write"),
)
def place_hold(request: HttpRequest, body: HoldIn) -> HttpResponse:
    token = token_of(request)
    owner = _borrower(body.borrower)
    loan_id = None
    if body.loan:
        loan = Loan.objects.filter(ref=body.loan, borrower=owner).first()
        if loan is None:
            raise Http404("loan")
        loan_id = loan.pk
    hold = services.place_hold(
        owner.pk,
        reason=body.reason,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        loan_id=loan_id,
        channels=list(body.channels),
        note=body.note,
        user=token.integration.user,
    )
    return JsonResponse(
        hold_body(Hold.objects.select_related("borrower", "loan").get(pk=hold.pk)), status=201
    )


# --- the gate ------------------------------------------------------------------------------


@api.get(
    "gate/check",
    response={200: GateOut, **ERRORS},
    summary="May I contact this borrower by this channel now? (records nothing)",
    auth=scoped("gate:read"),
)
def gate_check(
    request: HttpRequest,
    borrower: Annotated[str, Query(..., min_length=1, max_length=64, examples=["B1"])],
    channel: Channel = "call",
    party: Party = "borrower",
) -> HttpResponse:
    found = Borrower.objects.filter(ref=borrower).first()
    if found is None:
        raise Http404("borrower")
    case = Case.objects.filter(borrower=found, closed_on__isnull=True).first()
    now = timezone.now()
    decision = gate.decide_contact(
        found, case.pk if case else None, now, channel=channel, party=party
    ).decision
    return JsonResponse(
        {
            "borrower": found.ref,
            "channel": channel,
            "party": party,
            "at": now.isoformat(),
            "allowed": decision.allowed,
            "outcome": str(decision.outcome),
            "next_allowed": decision.next_allowed.isoformat() if decision.next_allowed else None,
            "pack": f"{decision.pack_name} v{decision.pack_version}",
            "rules": [
                {"id": f.rule_id, "effect": str(f.effect), "message": f.message}
                for f in decision.fired
            ],
        },
        json_dumps_params={"ensure_ascii": False},
    )


# --- the URLs, with the rate-limit headers -------------------------------------------------


def _rate_headers(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Add ``X-RateLimit-Limit`` and ``X-RateLimit-Remaining`` to every answer to a key."""

    @wraps(view)
    def answer(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        check = getattr(request, "rate_check", None)
        if isinstance(check, access.RateCheck):
            response["X-RateLimit-Limit"] = str(check.limit)
            response["X-RateLimit-Remaining"] = str(check.remaining)
        return response

    return answer


def urls() -> tuple[list[Any], str, str]:
    """``api.urls`` (for ``include``) with every view answering the rate-limit headers."""
    patterns, app_name, namespace = api.urls
    wrapped = [
        URLPattern(p.pattern, _rate_headers(p.callback), p.default_args, p.name)
        if isinstance(p, URLPattern)
        else p
        for p in patterns
    ]
    return wrapped, app_name, namespace
