"""The portal's pages: thin views over ``signin``, ``session`` and ``selectors``.

Every page after the sign-in is ``borrower_required`` and reads only through
``selectors`` (scoped to the signed-in borrower). Pages are mobile-first (one column, large
targets) and in both languages; the language switch is the same ``set_language`` as staff use.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from arrears import errorcodes, formfields
from arrears.kernel.calendar import parse_date
from arrears.kernel.errors import ArrearsError
from arrears.ledger.masking import mask_phone
from arrears.portal import selectors, session, signin
from arrears.portal.session import borrower_required

CHALLENGE = "portal.challenge"

errorcodes.define(
    {
        "portal-amount": "type an amount like 1200 or 1200.50",
        "portal-amount-too-large": "that amount is larger than anything this loan could owe",
        "portal-date-range": "choose a date from %(first)s to %(last)s",
        "portal-date": "%(value)s is not a date (YYYY-MM-DD)",
    }
)


class PortalInputError(ArrearsError):
    code = "portal-input"


def client_address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """Step 1: the loan number. Already signed in: straight to the overview."""
    if session.current(request) is not None:
        return redirect("portal:home")
    error, typed = "", ""
    if request.method == "POST":
        typed = str(request.POST.get("loan", ""))[:200]
        try:
            started = signin.start(typed, client_address(request))
        except signin.SignInRefused as refused:
            error = errorcodes.describe(refused)
        else:
            request.session[CHALLENGE] = started.challenge.pk
            return redirect("portal:code")
    status = 400 if error else 200
    return render(request, "portal/sign_in.html", {"error": error, "typed": typed}, status=status)


@require_http_methods(["GET", "POST"])
def code(request: HttpRequest) -> HttpResponse:
    """Step 2: the one-time code from the text message."""
    challenge = request.session.get(CHALLENGE)
    if not isinstance(challenge, int):
        return redirect("portal:sign-in")
    error = ""
    if request.method == "POST":
        try:
            loan = signin.confirm(
                challenge, str(request.POST.get("code", "")), client_address(request)
            )
        except signin.SignInRefused as refused:
            error = errorcodes.describe(refused)
        else:
            request.session.pop(CHALLENGE, None)
            session.sign_in(request, loan)
            return redirect("portal:home")
    minutes = signin.limits()["code_minutes"]
    return render(
        request,
        "portal/code.html",
        {"error": error, "minutes": minutes},
        status=400 if error else 200,
    )


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    session.sign_out(request)
    return redirect("portal:sign-in")


def _phone(borrower: Any) -> str:
    phone = borrower.phones.filter(is_valid=True, kind="mobile").order_by("id").first()
    return mask_phone(phone.number) if phone else ""


@borrower_required
def home(request: HttpRequest) -> HttpResponse:
    """Every loan of the borrower with what is due today."""
    borrower = request.borrower  # type: ignore[attr-defined]
    on = selectors.today()
    rows = [
        {"loan": loan, "data": selectors.statement(loan, on)}
        for loan in selectors.loans_of(borrower)
    ]
    return render(
        request,
        "portal/home.html",
        {"borrower": borrower, "rows": rows, "on": on, "phone": _phone(borrower)},
    )


def parse_amount(text: str, currency: str) -> int:
    """A typed amount in exact minor units, refused with a reason the page shows: the shared
    bounded parser of :mod:`arrears.formfields` (plain digits, the currency's decimals, no
    ``1e2``, no full-width digits, no sign, below the ledger's limit); thousands separators
    (``,``) are dropped first."""
    cleaned = text.strip().replace(",", "")
    try:
        return formfields.parse_amount(cleaned, currency).minor
    except ValidationError as error:
        code = "portal-amount-too-large" if error.code == "amount-too-large" else "portal-amount"
        raise errorcodes.refuse(PortalInputError, code, field="amount") from None


def parse_day(text: str, first: date, last: date) -> date:
    """A typed date within ``first``…``last``."""
    try:
        day = parse_date(text.strip()[:32], field_name="on")
    except ArrearsError:
        raise errorcodes.refuse(
            PortalInputError, "portal-date", field="on", value=text[:32]
        ) from None
    if not first <= day <= last:
        raise errorcodes.refuse(
            PortalInputError, "portal-date-range", field="on", first=first, last=last
        )
    return day


@borrower_required
def loan(request: HttpRequest, ref: str) -> HttpResponse:
    """What I owe and why: the itemised balance as of today, with every penalty formula; a
    payoff quote; "if I pay on date X"; where a payment goes."""
    borrower = request.borrower  # type: ignore[attr-defined]
    found = selectors.loan_of(borrower, ref)
    on = selectors.today()
    data = selectors.statement(found, on)
    last = on + timedelta(days=selectors.MAX_PROJECTION_DAYS)
    projection, error = None, ""
    typed_on = str(request.GET.get("on", ""))
    typed_amount = str(request.GET.get("amount", ""))[:40]
    if typed_on or typed_amount:
        try:
            day = parse_day(typed_on, on, last) if typed_on else on
            amount = parse_amount(typed_amount, found.currency) if typed_amount else None
            projection = selectors.projection(found, day, amount)
        except ArrearsError as refused:
            error = errorcodes.describe(refused)
    context = {
        "loan": found,
        "data": data,
        "on": on,
        "quote": selectors.quote(found, on),
        "projection": projection,
        "error": error,
        "typed_on": typed_on,
        "typed_amount": typed_amount,
        "last": last,
        "product": found.product,
    }
    return render(request, "portal/loan.html", context, status=400 if error else 200)
