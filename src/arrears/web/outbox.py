"""The outbox as staff see it: what left (or did not), why, and what the gate decided.

With the default log channel this is where the demo's messages are read. Staff only (the
compliance desk, team leads with back-office rights); addresses and any number in a text are
masked.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from arrears.contact.models import OutboxMessage
from arrears.ledger.masking import mask_text

STATUSES = [s.value for s in OutboxMessage.Status]


@login_required
def outbox(request: HttpRequest) -> HttpResponse:
    if not request.user.is_staff:
        raise PermissionDenied("the outbox is for staff")
    status = request.GET.get("status", "")
    messages = OutboxMessage.objects.select_related("borrower").prefetch_related("decisions")
    if status in STATUSES:
        messages = messages.filter(status=status)
    page = Paginator(messages.order_by("-id"), 50).get_page(request.GET.get("page"))
    rows = [
        {
            "message": m,
            "to": m.masked_address,
            "body": mask_text(m.body),
            "reason": mask_text(m.status_reason),
            "decisions": list(m.decisions.all()),
        }
        for m in page.object_list
    ]
    return render(
        request,
        "web/outbox.html",
        {"page": page, "rows": rows, "statuses": STATUSES, "status": status},
    )
