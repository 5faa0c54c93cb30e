"""Thin views: parse the request, call a selector or the kernel, render.

A date the reader typed that is not a date is shown on the page, in the reader's language
(``errorcodes.describe``), next to the figures of the date used instead; it is not a 404.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from arrears import errorcodes, formfields
from arrears.accounts.roles import Role, has_role
from arrears.daily.models import DayRun
from arrears.kernel.calendar import parse_date
from arrears.kernel.errors import ArrearsError, InvalidDate
from arrears.kernel.explain import explain
from arrears.ledger import selectors as ledger_selectors
from arrears.ledger.masking import mask_phone, mask_text
from arrears.ledger.models import Loan
from arrears.web import selectors

errorcodes.define({"web-invalid-date": "%(value)s is not a date (YYYY-MM-DD)"})


def home(request: HttpRequest) -> HttpResponse:
    """Where the logo (and a login) leads: staff to the book, an agency user to their placed
    cases, a field agent to their visits, a compliance officer (no cases of their own) to the
    messages and gate decisions, everyone else to their queue."""
    user = request.user
    if user.is_authenticated and not user.is_staff:
        if not hasattr(user, "collector") and has_role(user, Role.COMPLIANCE_OFFICER):
            return redirect("web:outbox")
        if getattr(getattr(user, "agency_member", None), "active", False):
            return redirect("agencies:home")
        if getattr(getattr(user, "field_agent", None), "active", False) and not hasattr(
            user, "collector"
        ):
            return redirect("fieldwork:list")
        return redirect("web:queue")
    return redirect("web:loans")


def _as_of(request: HttpRequest, default: date | None) -> tuple[date | None, str]:
    """The ``as_of`` asked for, or ``default`` and why the one typed cannot be used."""
    text = request.GET.get("as_of")
    if not text:
        return default, ""
    try:
        parse_date(text, field_name="as_of")
    except InvalidDate:
        error = errorcodes.refuse(InvalidDate, "web-invalid-date", field="as_of", value=text[:40])
        return default, errorcodes.describe(error)
    try:  # a real date, but inside the ledger's range (year 1 or 9999 overflows the replay)
        return formfields.parse_bounded_date(text), ""
    except ValidationError as refused:
        return default, " ".join(refused.messages)


#: Failing loans of a day run listed on the page; the rest are counted ("and N more").
RUN_ERRORS_SHOWN = 50


def _run_error_line(code: str) -> str:
    """What a day run's error code means, in the reader's language (the stored message, in
    English, is shown beside it as the technical detail)."""
    known = {
        "loan-not-computable": _(
            "The loan's stored values cannot be computed; correct the loan's data."
        ),
        "ledger-limit-exceeded": _(
            "A stored amount, rate or date is beyond what the ledger computes; correct the "
            "loan's data."
        ),
    }
    return known.get(code) or _("The loan could not be computed (%(code)s).") % {"code": code}


def run_errors(run: DayRun | None) -> dict[str, object]:
    """A day run "completed with errors" as the page shows it: each skipped loan's reference,
    code, one translated line and the stored detail (masked), at most ``RUN_ERRORS_SHOWN``."""
    if run is None or run.status != DayRun.Status.COMPLETED_WITH_ERRORS:
        return {"run": run, "run_errors": [], "run_errors_more": 0}
    errors = [e for e in run.errors if isinstance(e, dict)]
    shown = [
        {
            "loan": str(e.get("loan", ""))[:64],
            "code": str(e.get("code", ""))[:64],
            "line": _run_error_line(str(e.get("code", ""))),
            "detail": mask_text(str(e.get("message", "")).splitlines()[0][:300])
            if e.get("message")
            else "",
        }
        for e in errors[:RUN_ERRORS_SHOWN]
    ]
    return {"run": run, "run_errors": shown, "run_errors_more": len(errors) - len(shown)}


@login_required
def loans_by_bucket(request: HttpRequest) -> HttpResponse:
    """The whole book by bucket: for back-office staff only (a collector sees their queue)."""
    if not request.user.is_staff:
        raise PermissionDenied(
            _("The book by bucket is for back-office staff; collectors work from their queue.")
        )
    as_of, problem = _as_of(request, selectors.latest_run_date())
    context: dict[str, object] = {
        "as_of": as_of,
        "summary": [],
        "bucket": None,
        "page": None,
        "problem": problem,
    }
    if as_of is not None:
        summary = selectors.bucket_summary(as_of)
        bucket = request.GET.get("bucket") or next(
            (row["bucket"] for row in summary if row["bucket"] != "M0" and row["loans"]), "M0"
        )
        if formfields.has_control(str(bucket)) or len(str(bucket)) > 40:
            bucket = "M0"  # no bucket is named so (a NUL is a PostgreSQL error, not a filter)
        page = Paginator(selectors.loans_in_bucket(as_of, str(bucket)), 50).get_page(
            request.GET.get("page")
        )
        for row in page.object_list:
            phone = row.loan.borrower.phones.first()
            row.masked_phone = mask_phone(phone.number) if phone else ""
        context.update(summary=summary, bucket=bucket, page=page)
        context.update(run_errors(selectors.day_run_of(as_of)))
    return render(request, "web/loans.html", context, status=400 if problem else 200)


@login_required
def loan_explain(request: HttpRequest, ref: str) -> HttpResponse:
    loan = get_object_or_404(Loan.objects.select_related("borrower", "product"), ref=ref)
    if not request.user.is_staff and not (
        selectors.visible_cases(request.user).filter(borrower_id=loan.borrower_id).exists()
    ):
        raise Http404("no such loan")  # a collector sees only the loans of their own cases
    as_of, problem = _as_of(request, selectors.latest_run_date() or loan.start_date)
    assert as_of is not None
    if as_of < loan.start_date:
        as_of = loan.start_date
    if problem and request.GET.get("format") == "json":
        return JsonResponse({"error": problem, "field": "as_of"}, status=400)
    try:
        data = explain(*ledger_selectors.loan_state(loan, as_of))
    except ArrearsError as error:  # stored values the ledger cannot compute: one clear line
        reason = _("This loan cannot be computed: %(reason)s") % {"reason": str(error)}
        if request.GET.get("format") == "json":
            return JsonResponse({"error": reason, "code": error.code}, status=422)
        return HttpResponse(reason, status=422, content_type="text/plain; charset=utf-8")
    if request.GET.get("format") == "json":
        return JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
    phone = loan.borrower.phones.first()
    return render(
        request,
        "web/explain.html",
        {
            "loan": loan,
            "data": data,
            "as_of": as_of,
            "masked_phone": mask_phone(phone.number) if phone else "",
            "problem": problem,
            "payoff_parts": _payoff_parts(data),
            "product": loan.product,
            # the borrower's case, when the reader may open it (issue 13: loan → case)
            "case_id": selectors.case_of_borrowers(request.user, {loan.borrower_id}).get(
                loan.borrower_id
            ),
        },
        status=400 if problem else 200,
    )


def _payoff_parts(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The payoff's non-zero parts (principal always), each with its sign, for the page."""
    parts = data["totals"].get("payoff_parts", {})
    return [
        {"key": key, "amount": part["amount"], "minus": key == "credit"}
        for key, part in parts.items()
        if part["minor"] or key == "principal_outstanding"
    ]
