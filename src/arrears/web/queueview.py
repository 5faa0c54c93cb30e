"""The queue's filters, sort and saved views (issue 13).

The query string is the queue's whole state: a page link, a bookmark and a saved view are the
same text. :func:`parse` reads it into :class:`~arrears.web.selectors.QueueFilters` and
validates every value (a choice must be one of the choices, a number a whole number in range);
a bad value is dropped with a message saying which and why, and the page answers 400 instead
of failing. :func:`normalised` writes the accepted values back in a fixed order, which is what
a saved view stores and what the pagination links carry.

A saved view (:class:`~arrears.web.models.SavedView`) belongs to one user; another user's view
is a 404 whatever its id, like another collector's case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from arrears import errorcodes, formfields
from arrears.collections.models import Case
from arrears.collections.selectors import collector_of
from arrears.kernel.errors import ArrearsError
from arrears.kernel.terms import DEFAULT_BUCKETS
from arrears.web.models import SavedView
from arrears.web.selectors import QUEUE_SORTS, QueueFilters


class QueueError(ArrearsError):
    """A queue filter value the page cannot use."""


errorcodes.define(
    {
        "queue-bad-choice": "%(name)s: %(value)s is not one of the choices",
        "queue-bad-number": "%(name)s: %(value)s is not a whole number from %(low)s to %(high)s",
        "queue-bad-range": "the lowest DPD (%(low)s) is above the highest (%(high)s)",
        "saved-view-name": "give the view a name (at most %(max)s characters)",
        "saved-view-count": "you have %(max)s saved views already; delete one first",
    }
)

#: The largest DPD and idle-day numbers accepted (ten years): anything above is a typo.
MAX_DAYS = 3650
#: Saved views per user: a menu, not an archive.
MAX_SAVED_VIEWS = 30
MAX_NAME = 80
#: Stage codes come from the strategy documents; this is their shape (no spaces, no markup).
_STAGE = re.compile(r"[a-z0-9_]{1,40}")

PROMISE_CHOICES = {
    "today": gettext_lazy("Promise due today"),
    "overdue": gettext_lazy("Promise overdue"),
}
SORT_CHOICES = {
    "priority": gettext_lazy("Priority"),
    "dpd": gettext_lazy("DPD (highest first)"),
    "total_due": gettext_lazy("Total due (largest first)"),
    "last_contact": gettext_lazy("Last contact (longest ago first)"),
    "promise_due": gettext_lazy("Promise due (soonest first)"),
}
assert set(SORT_CHOICES) == set(QUEUE_SORTS)
#: The parameters the queue understands, in the order :func:`normalised` writes them.
PARAMS = (
    "collector",
    "bucket",
    "stage",
    "status",
    "promise",
    "dpd_min",
    "dpd_max",
    "idle",
    "sort",
)
_NAMES = {
    "bucket": gettext_lazy("Bucket"),
    "stage": gettext_lazy("Stage"),
    "status": gettext_lazy("Status"),
    "promise": gettext_lazy("Promise"),
    "dpd_min": gettext_lazy("DPD from"),
    "dpd_max": gettext_lazy("DPD to"),
    "idle": gettext_lazy("Days without contact"),
    "sort": gettext_lazy("Sort"),
    "collector": gettext_lazy("Collector"),
}


def bucket_names() -> list[str]:
    return [bucket.name for bucket in DEFAULT_BUCKETS]


@dataclass
class Parsed:
    """The accepted filters, the accepted raw values (for the form and the links) and the
    messages of the refused ones."""

    filters: QueueFilters
    values: dict[str, str]
    problems: list[str] = field(default_factory=list)


def _number(name: str, text: str, problems: list[str]) -> int | None:
    if text.isdigit() and len(text) <= 5 and int(text) <= MAX_DAYS:
        return int(text)
    problems.append(
        errorcodes.describe(
            errorcodes.refuse(
                QueueError,
                "queue-bad-number",
                field=name,
                name=_NAMES[name],
                value=text[:20],
                low=0,
                high=MAX_DAYS,
            )
        )
    )
    return None


def _bad_choice(name: str, text: str) -> str:
    return errorcodes.describe(
        errorcodes.refuse(
            QueueError, "queue-bad-choice", field=name, name=_NAMES[name], value=text[:40]
        )
    )


def parse(params: QueryDict, *, supervisor: bool) -> Parsed:
    """Read the queue's query string; see the module doc. ``collector`` is kept only for a
    supervisor (whose collector list the page offers); its value is checked by the selector."""
    problems: list[str] = []
    values: dict[str, str] = {}
    raw = {name: params.get(name, "").strip() for name in PARAMS}
    choices: dict[str, Any] = {
        "bucket": bucket_names(),
        "status": Case.Status.values,
        "promise": PROMISE_CHOICES,
        "sort": QUEUE_SORTS,
    }
    for name, allowed in choices.items():
        if raw[name] and raw[name] not in allowed:
            problems.append(_bad_choice(name, raw[name]))
        elif raw[name]:
            values[name] = raw[name]
    if raw["stage"]:
        if _STAGE.fullmatch(raw["stage"]):
            values["stage"] = raw["stage"]
        else:
            problems.append(_bad_choice("stage", raw["stage"]))
    if supervisor and raw["collector"]:
        if raw["collector"] == "none" or (
            raw["collector"].isdigit() and len(raw["collector"]) <= 12
        ):
            values["collector"] = raw["collector"]
        else:
            problems.append(_bad_choice("collector", raw["collector"]))
    numbers: dict[str, int | None] = {}
    for name in ("dpd_min", "dpd_max", "idle"):
        numbers[name] = _number(name, raw[name], problems) if raw[name] else None
        if numbers[name] is not None:
            values[name] = str(numbers[name])
    low, high = numbers["dpd_min"], numbers["dpd_max"]
    if low is not None and high is not None and low > high:
        problems.append(
            errorcodes.describe(
                errorcodes.refuse(
                    QueueError, "queue-bad-range", field="dpd_min", low=low, high=high
                )
            )
        )
        numbers["dpd_min"] = numbers["dpd_max"] = None
        values.pop("dpd_min")
        values.pop("dpd_max")
    filters = QueueFilters(
        bucket=values.get("bucket", ""),
        stage=values.get("stage", ""),
        status=values.get("status", ""),
        promise=values.get("promise", ""),
        dpd_min=numbers["dpd_min"],
        dpd_max=numbers["dpd_max"],
        idle_days=numbers["idle"],
        sort=values.get("sort", "priority"),
    )
    return Parsed(filters=filters, values=values, problems=problems)


def normalised(values: dict[str, str]) -> str:
    """The accepted values as a query string in :data:`PARAMS` order (no page number)."""
    return urlencode([(name, values[name]) for name in PARAMS if values.get(name)])


def saved_views(user: Any) -> list[SavedView]:
    """The user's own saved views, by name."""
    return list(SavedView.objects.filter(user=user).order_by("name", "id"))


def _back(query: str) -> HttpResponse:
    return redirect(reverse("web:queue") + (f"?{query}" if query else ""))


@login_required
@require_POST
def save_view(request: HttpRequest) -> HttpResponse:
    """Save the queue's current filters under a name (the same name replaces the user's old
    view). The query string is parsed again here, so only accepted values are stored."""
    user: Any = request.user
    if not (user.is_superuser or collector_of(user)):
        raise PermissionDenied(_("You have no collector profile."))
    parsed = parse(QueryDict(request.POST.get("query", "")[:1000]), supervisor=True)
    query = normalised(parsed.values)
    name = request.POST.get("name", "").strip()
    if not name or len(name) > MAX_NAME or formfields.has_control(name):
        messages.error(
            request,
            errorcodes.describe(
                errorcodes.refuse(QueueError, "saved-view-name", field="name", max=MAX_NAME)
            ),
        )
        return _back(query)
    existing = SavedView.objects.filter(user=user, name=name).first()
    if existing is None and SavedView.objects.filter(user=user).count() >= MAX_SAVED_VIEWS:
        messages.error(
            request,
            errorcodes.describe(
                errorcodes.refuse(QueueError, "saved-view-count", max=MAX_SAVED_VIEWS)
            ),
        )
        return _back(query)
    SavedView.objects.update_or_create(user=user, name=name, defaults={"query": query})
    messages.success(request, _("View “%(name)s” saved.") % {"name": name})
    return _back(query)


@login_required
@require_POST
def delete_view(request: HttpRequest, view_id: int) -> HttpResponse:
    """Delete one of the user's saved views; another user's is a 404."""
    view = get_object_or_404(SavedView, pk=view_id, user=request.user)
    view.delete()
    messages.success(request, _("View “%(name)s” deleted.") % {"name": view.name})
    return _back("")
