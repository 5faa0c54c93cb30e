"""The audit trail for staff and compliance: ``/audit/`` (filters, each entry's changes, the
chain's status) and a case's dispute bundle as a zip. Everyone else gets 403."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from arrears import formfields
from arrears.audit import services
from arrears.audit.access import may_view
from arrears.audit.diff import changes
from arrears.audit.export import bundle_zip
from arrears.audit.models import AuditEntry
from arrears.kernel.limits import has_control

#: Most entries the page shows at once (newest first).
PAGE_ROWS = 200


def _check(request: HttpRequest) -> None:
    if not may_view(request.user):
        raise PermissionDenied


def _day_bound(text: str, end: bool) -> datetime | None:
    """The first or last instant of the typed day; a day that is not a date of the ledger's
    range (``2026-02-30``, ``0001-01-01``) is no bound, never an overflow."""
    try:
        day = formfields.parse_bounded_date(text) if text else None
    except ValidationError:
        return None
    if day is None:
        return None
    moment = datetime.combine(day, time.max if end else time.min)
    return timezone.make_aware(moment, timezone.get_current_timezone())


def filtered(params: Any) -> tuple[QuerySet[AuditEntry], dict[str, str]]:
    """The entries matching the page's filters, and the filters as given (for the form)."""
    given = {
        name: str(params.get(name, "")).strip()[:64]
        for name in ("subject_type", "subject_id", "actor", "case", "from", "to")
    }
    rows = AuditEntry.objects.all()
    if any(has_control(value) for value in given.values()):
        # a NUL is refused by PostgreSQL (and matches nothing on SQLite): no entry matches
        return rows.none(), given
    if given["subject_type"]:
        rows = rows.filter(subject_type=given["subject_type"])
    if given["subject_id"]:
        rows = rows.filter(subject_id=given["subject_id"])
    if given["actor"]:
        rows = rows.filter(actor=given["actor"])
    if given["case"]:
        case_id = formfields.parse_id(given["case"])
        rows = rows.filter(case_id=case_id) if case_id is not None else rows.none()
    since, until = _day_bound(given["from"], False), _day_bound(given["to"], True)
    if since is not None:
        rows = rows.filter(at__gte=since)
    if until is not None:
        rows = rows.filter(at__lte=until)
    return rows, given


def chain_status(check: bool) -> dict[str, Any]:
    """The status line: counts always; the whole-chain walk only when asked (it reads every
    entry), sealing what is pending first as ``arrears audit verify`` does."""
    status: dict[str, Any] = {"checked": check}
    if check:
        services.seal()
        broken = services.verify_chain()
        status["broken"] = broken
        if broken is not None:
            status["broken_id"] = (
                AuditEntry.objects.filter(seq=broken.seq).values_list("id", flat=True).first()
            )
    status["sealed"] = AuditEntry.objects.filter(seq__isnull=False).count()
    status["unsealed"] = AuditEntry.objects.filter(seq__isnull=True).count()
    status["stale"] = services.stale_unsealed()
    return status


@login_required
def trail(request: HttpRequest) -> HttpResponse:
    _check(request)
    rows, given = filtered(request.GET)
    entries = list(rows.order_by("-id")[:PAGE_ROWS])
    shown = [(entry, changes(entry.before, entry.after)) for entry in entries]
    subject_types = (
        AuditEntry.objects.order_by("subject_type")
        .values_list("subject_type", flat=True)
        .distinct()
    )
    return render(
        request,
        "audit/trail.html",
        {
            "shown": shown,
            "given": given,
            "subject_types": list(subject_types),
            "status": chain_status(request.GET.get("verify") == "1"),
            "limit": PAGE_ROWS,
        },
    )


@login_required
def case_bundle(request: HttpRequest, case_id: int) -> HttpResponse:
    _check(request)
    from arrears.collections.models import Case

    if not Case.objects.filter(pk=case_id).exists():
        raise Http404
    response = HttpResponse(bundle_zip(case_id), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="audit-case-{case_id}.zip"'
    return response
