"""Thin views: parse the request, call a selector or the kernel, render."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render

from arrears.kernel.calendar import parse_date
from arrears.kernel.errors import ArrearsError
from arrears.kernel.explain import explain
from arrears.ledger import selectors as ledger_selectors
from arrears.ledger.masking import mask_phone
from arrears.ledger.models import Loan
from arrears.web import selectors


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and not request.user.is_staff:
        return redirect("web:queue")
    return redirect("web:loans")


def _as_of(request: HttpRequest, default: date | None) -> date | None:
    text = request.GET.get("as_of")
    if not text:
        return default
    try:
        return parse_date(text, field_name="as_of")
    except ArrearsError as error:
        raise Http404(str(error)) from None


@login_required
def loans_by_bucket(request: HttpRequest) -> HttpResponse:
    """The whole book by bucket: for back-office staff only (a collector sees their queue)."""
    if not request.user.is_staff:
        raise PermissionDenied("the portfolio view is for staff")
    as_of = _as_of(request, selectors.latest_run_date())
    context: dict[str, object] = {"as_of": as_of, "summary": [], "bucket": None, "page": None}
    if as_of is not None:
        summary = selectors.bucket_summary(as_of)
        bucket = request.GET.get("bucket") or next(
            (row["bucket"] for row in summary if row["bucket"] != "M0" and row["loans"]), "M0"
        )
        page = Paginator(selectors.loans_in_bucket(as_of, str(bucket)), 50).get_page(
            request.GET.get("page")
        )
        for row in page.object_list:
            phone = row.loan.borrower.phones.first()
            row.masked_phone = mask_phone(phone.number) if phone else ""
        context.update(summary=summary, bucket=bucket, page=page)
    return render(request, "web/loans.html", context)


@login_required
def loan_explain(request: HttpRequest, ref: str) -> HttpResponse:
    loan = get_object_or_404(Loan.objects.select_related("borrower", "product"), ref=ref)
    if not request.user.is_staff and not (
        selectors.visible_cases(request.user).filter(borrower_id=loan.borrower_id).exists()
    ):
        raise Http404("no such loan")  # a collector sees only the loans of their own cases
    as_of = _as_of(request, selectors.latest_run_date() or loan.start_date)
    assert as_of is not None
    if as_of < loan.start_date:
        as_of = loan.start_date
    data = explain(*ledger_selectors.loan_state(loan, as_of))
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
        },
    )
