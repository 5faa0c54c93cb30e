"""The compliance officer's pages under ``/compliance/``: the gate decision log (with its CSV
export), contact history, and quality review (samples, scoring a contact, the per-collector
scorecard). Each page asks ``quality.access`` first; everyone else gets 403."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from arrears import errorcodes, formfields
from arrears.collections.models import ContactAttempt
from arrears.kernel.errors import ArrearsError
from arrears.ledger.masking import mask_address, mask_phone, mask_text
from arrears.quality import access, scorecard, selectors, services
from arrears.quality.forms import (
    ContactFilter,
    DecisionFilter,
    ReviewForm,
    SampleForm,
    ScorecardRange,
)
from arrears.quality.models import ContactReview, GateLogEntry, ReviewSample
from arrears.spreadsheets import safe_csv_writer

#: Rows per page on the log and the history.
PAGE_ROWS = 50
#: The most rows one CSV export holds (narrow the filters for more).
CSV_LIMIT = 10_000
#: Samples listed on the review page.
SAMPLES_SHOWN = 30


def _require(allowed: Callable[[Any], bool], request: HttpRequest) -> None:
    if not allowed(request.user):
        raise PermissionDenied


def _page(request: HttpRequest, rows: Any) -> Page[Any]:
    return Paginator(rows, PAGE_ROWS).get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return str(query.urlencode())


def _filters(form: Any) -> dict[str, Any] | None:
    """The form's cleaned filters, or ``None`` when they do not validate (nothing is listed)."""
    return dict(form.cleaned_data) if form.is_valid() else None


# ------------------------------------------------------------------------- the decision log


def _masked_to(entry: GateLogEntry) -> str:
    if entry.contact is not None and entry.contact.phone is not None:
        return mask_phone(entry.contact.phone.number)
    if entry.message is not None:
        return str(entry.message.masked_address)
    return ""


def _rules(entry: GateLogEntry) -> list[dict[str, str]]:
    return [
        {"id": str(r.get("id", "")), "message": mask_text(str(r.get("message", "")))}
        for r in entry.decision.rules or []
        if isinstance(r, dict)
    ]


def _decision_row(entry: GateLogEntry) -> dict[str, Any]:
    return {
        "entry": entry,
        "rules": _rules(entry),
        "reason": mask_text(selectors.override_reason(entry)),
        "to": _masked_to(entry),
        "collector": entry.collector.get_username() if entry.collector else "",
        "template": entry.message.template if entry.message else "",
    }


@login_required
def decisions(request: HttpRequest) -> HttpResponse:
    _require(access.may_view_decisions, request)
    form = DecisionFilter(request.GET or None)
    given = _filters(form) if request.GET else {}
    rows = selectors.decision_log(given) if given is not None else GateLogEntry.objects.none()
    if request.GET.get("format") == "csv":
        return _decisions_csv(rows)
    page = _page(request, rows)
    return render(
        request,
        "quality/decisions.html",
        {
            "form": form,
            "page": page,
            "shown": [_decision_row(entry) for entry in page.object_list],
            "counts": selectors.rule_counts(given) if given is not None else [],
            "query": _query_without_page(request),
            "csv_limit": CSV_LIMIT,
        },
    )


CSV_HEADER = (
    "at",
    "outcome",
    "channel",
    "rules",
    "overridden",
    "override_reason",
    "collector",
    "case",
    "contact",
    "message",
    "template",
    "to",
    "pack",
)


def _decisions_csv(rows: QuerySet[GateLogEntry]) -> HttpResponse:
    """The filtered decisions as CSV, newest first, at most ``CSV_LIMIT`` rows (a header
    ``X-Arrears-Truncated`` says when there were more), addresses masked."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="gate-decisions.csv"'
    writer = safe_csv_writer(response)  # a leading = + - @ is quoted (arrears.spreadsheets)
    writer.writerow(CSV_HEADER)
    for count, entry in enumerate(rows[: CSV_LIMIT + 1].iterator(chunk_size=1000)):
        if count == CSV_LIMIT:
            response["X-Arrears-Truncated"] = str(CSV_LIMIT)
            break
        row = _decision_row(entry)
        writer.writerow(
            (
                timezone.localtime(entry.at).isoformat(),
                entry.outcome,
                entry.channel,
                " ".join(r["id"] for r in row["rules"]),
                "yes" if entry.overridden else "no",
                row["reason"],
                row["collector"],
                entry.case_id or "",
                entry.contact_id or "",
                entry.message_id or "",
                row["template"],
                row["to"],
                entry.decision.pack,
            )
        )
    return response


# ------------------------------------------------------------------------ contact history


def _history_row(row: tuple[Any, ...]) -> dict[str, Any]:
    item = dict(zip(selectors.HISTORY_COLUMNS, row, strict=True))
    channel, to = item["h_channel"], item["h_to"] or ""
    return {
        "kind": item["h_kind"],
        "id": item["h_id"],
        "at": item["h_at"],
        "channel": channel,
        "result": item["h_result"],
        "case": item["h_case"],
        "who": item["h_who"] or "",
        "to": mask_phone(to) if item["h_kind"] == "contact" and to else mask_address(channel, to),
    }


@login_required
def contacts(request: HttpRequest) -> HttpResponse:
    _require(access.may_view_contacts, request)
    form = ContactFilter(request.GET or None)
    given = _filters(form) if request.GET else {}
    rows = selectors.contact_history(given) if given is not None else []
    page = _page(request, rows)
    return render(
        request,
        "quality/contacts.html",
        {
            "form": form,
            "page": page,
            "shown": [_history_row(row) for row in page.object_list],
            "query": _query_without_page(request),
        },
    )


# -------------------------------------------------------------------------- quality review


@login_required
@require_http_methods(["GET", "POST"])
def reviews(request: HttpRequest) -> HttpResponse:
    """The samples drawn so far and the form to draw one (POST: draw, for reviewers)."""
    _require(access.may_view_reviews, request)
    form = SampleForm(request.POST or None)
    if request.method == "POST":
        _require(access.may_review, request)
        if form.is_valid():
            data = form.cleaned_data
            try:
                sample = services.draw_sample(
                    request.user,
                    data["date_from"],
                    data["date_to"],
                    per_collector=data.get("per_collector"),
                    percent=data.get("percent"),
                )
            except ArrearsError as error:
                form.add_error(None, errorcodes.describe(error))
            else:
                return redirect("quality:sample", sample_id=sample.pk)
    samples = ReviewSample.objects.select_related("reviewer").order_by("-id")[:SAMPLES_SHOWN]
    return render(
        request,
        "quality/reviews.html",
        {"form": form, "samples": samples, "may_review": access.may_review(request.user)},
    )


@login_required
def sample(request: HttpRequest, sample_id: int) -> HttpResponse:
    _require(access.may_view_reviews, request)
    drawn = get_object_or_404(ReviewSample.objects.select_related("reviewer"), pk=sample_id)
    contacts_ = list(
        drawn.contacts.select_related("collector", "phone", "case").order_by("at", "id")
    )
    reviewed = selectors.latest_reviews([c.pk for c in contacts_])
    return render(
        request,
        "quality/sample.html",
        {
            "sample": drawn,
            "rows": [
                {
                    "contact": c,
                    "to": mask_phone(c.phone.number) if c.phone else "",
                    "review": reviewed.get(c.pk),
                }
                for c in contacts_
            ],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, contact_id: int) -> HttpResponse:
    """One contact: what was logged, its reviews (newest first), and the scorecard to fill in
    (a correction of the latest review when there is one)."""
    _require(access.may_view_reviews, request)
    contact = get_object_or_404(
        ContactAttempt.objects.select_related("collector", "phone", "case"), pk=contact_id
    )
    history = list(
        ContactReview.objects.filter(contact=contact)
        .select_related("reviewer", "supersedes")
        .order_by("-id")
    )
    latest = next((r for r in history if not _superseded(r, history)), None)
    own = services.is_own(contact, request.user)
    form = ReviewForm(request.POST or None)
    if request.method == "POST":
        _require(access.may_review, request)
        drawn = _sample_of(request)
        if form.is_valid():
            try:
                services.review_contact(
                    contact,
                    request.user,
                    form.answers(),
                    finding=form.cleaned_data["finding"],
                    supersedes=latest,
                    sample=drawn,
                )
            except ArrearsError as error:
                where = "finding" if error.field == "finding" else None
                form.add_error(where, errorcodes.describe(error))
            else:
                messages.success(request, gettext("Review recorded."))
                if drawn is not None:
                    return redirect("quality:sample", sample_id=drawn.pk)
                return redirect("quality:review", contact_id=contact.pk)
    return render(
        request,
        "quality/review.html",
        {
            "contact": contact,
            "to": mask_phone(contact.phone.number) if contact.phone else "",
            "note": mask_text(contact.note),
            "history": history,
            "latest": latest,
            "own": own,
            "form": form,
            "criteria": [(c, form[f"c_{c.key}"]) for c in scorecard.CRITERIA],
            "may_review": access.may_review(request.user) and not own,
            "sample_id": request.GET.get("sample", ""),
            "case_url": reverse("web:case", args=[contact.case_id]),
        },
    )


def _superseded(review_: ContactReview, history: list[ContactReview]) -> bool:
    return any(r.supersedes_id == review_.pk for r in history)


def _sample_of(request: HttpRequest) -> ReviewSample | None:
    pk = request.GET.get("sample", "")
    key = formfields.parse_id(pk)
    return ReviewSample.objects.filter(pk=key).first() if key is not None else None


@login_required
def scorecards(request: HttpRequest) -> HttpResponse:
    """Per collector: the average, count and failed criteria of their current reviews."""
    _require(access.may_view_reviews, request)
    form = ScorecardRange(request.GET or None)
    given = _filters(form) if request.GET else {}
    cards = (
        selectors.collector_scorecards(given.get("date_from"), given.get("date_to"))
        if given is not None
        else []
    )
    return render(
        request,
        "quality/scorecards.html",
        {"form": form, "cards": cards, "criteria": scorecard.CRITERIA, "name": scorecard.label()},
    )
