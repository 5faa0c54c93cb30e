"""The team lead's pages: the team's case list with bulk reassignment, and the dashboard.

Both are for team leads, managers and superusers (403 for anyone else). A lead and a manager
see their own team; a superuser picks a team (``?team=<code>``). Which cases a page lists is
the selectors' decision (:func:`arrears.collections.selectors.visible_cases`, intersected with
the chosen team), and the reassignment is the service's
(:func:`arrears.collections.reassign.reassign_many`), which checks every case again: the page
is the convenience, not the control. A refusal re-renders the list with status 400, the
refusal in the reader's language (``errorcodes.describe``) and the ticks kept.

The dashboard's figures come from :mod:`arrears.web.dashboard`. Each chart is drawn by the
vendored Chart.js from data the page embeds with ``json_script``, and each has a data table
with the same numbers — what a screen reader, a test, and a browser without JavaScript read.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext as _

from arrears import errorcodes, formfields
from arrears.collections.models import Collector, Team
from arrears.collections.reassign import MAX_BATCH, reassign_many
from arrears.collections.selectors import visible_cases
from arrears.collections.services import CollectionsError
from arrears.collections.workflow import business_date
from arrears.formatting import format_money
from arrears.kernel.money import Money
from arrears.ledger.masking import mask_phone
from arrears.web import dashboard as figures
from arrears.web.workbench import label

#: Rows per page of the team list; a whole page can be reassigned at once (below the
#: service's batch bound).
TEAM_PAGE_SIZE = 100

PROMISE_LABELS = {
    "made": pgettext_lazy("promises", "Made"),
    "kept": pgettext_lazy("promises", "Kept"),
    "partial": pgettext_lazy("promises", "Partially kept"),
    "broken": pgettext_lazy("promises", "Broken"),
}


def _team(request: HttpRequest) -> tuple[Team, list[Team]]:
    """The team the page is about and the teams the user may pick (403 when none)."""
    teams = list(figures.teams_for(request.user))
    if not teams:
        raise PermissionDenied(_("Only team leads and managers open the team pages."))
    code = request.GET.get("team", "")
    if not code:
        return teams[0], teams
    for team in teams:
        if team.code == code:
            return team, teams
    raise Http404("no such team")  # another team's page is not revealed


def _query(request: HttpRequest, **changes: str) -> str:
    params = {k: v for k, v in request.GET.items() if v and k != "page"}
    params.update({k: v for k, v in changes.items() if v})
    return urlencode(params)


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    """The team's open cases with filters (collector, stage) and "reassign selected to"."""
    user: Any = request.user
    team, teams = _team(request)
    collectors = list(
        Collector.objects.filter(team=team).select_related("user").order_by("user__username")
    )
    status = 200
    ticked: set[int] = set()
    if request.method == "POST":
        # ids as the page wrote them: ASCII digits of a bounded length (an id past what the
        # database stores is no case, not an overflow)
        ticked = {
            int(v)
            for v in request.POST.getlist("cases")[: MAX_BATCH + 1]
            if v.isascii() and v.isdigit() and len(v) <= 18
        }
        wanted = request.POST.get("collector", "")
        target = next((c for c in collectors if str(c.pk) == wanted), None)
        if target is None:
            messages.error(request, _("Choose a collector of the team."))
            status = 400
        else:
            try:
                done = reassign_many(sorted(ticked), target, by=user)
            except CollectionsError as error:
                messages.error(request, errorcodes.describe(error))
                status = 400
            else:
                messages.success(
                    request,
                    _("%(moved)s case(s) reassigned to %(who)s; %(same)s already theirs.")
                    % {
                        "moved": len(done.moved),
                        "who": target.user.get_username(),
                        "same": len(done.unchanged),
                    },
                )
                query = request.GET.urlencode()
                return redirect(reverse("web:team") + (f"?{query}" if query else ""))
    chosen = request.GET.get("collector", "")
    stage = request.GET.get("stage", "")
    cases = (
        visible_cases(user)
        .filter(pk__in=figures.team_cases(team).values("pk"), closed_on__isnull=True)
        .select_related("borrower", "collector__user")
        .prefetch_related("borrower__phones")
        .order_by("-priority", "id")
    )
    stages = sorted(cases.order_by().values_list("stage", flat=True).distinct())
    if chosen == "none":
        cases = cases.filter(collector__isnull=True)
    elif chosen:
        # a collector id that cannot exist (letters, 30 digits) matches no case, never a 500
        wanted = formfields.parse_id(chosen)
        cases = cases.filter(collector_id=wanted) if wanted is not None else cases.none()
    if stage:  # one of the stages listed, or nothing (a NUL would be a PostgreSQL error)
        cases = cases.filter(stage=stage) if stage in stages else cases.none()
    page = Paginator(cases, TEAM_PAGE_SIZE).get_page(request.GET.get("page"))
    for case in page.object_list:
        phones = list(case.borrower.phones.all())
        case.masked_phone = mask_phone(phones[0].number) if phones else ""
        case.stage_label = label("stage", case.stage)
        case.status_label = label("case_status", case.status)
        case.ticked = case.pk in ticked
    return render(
        request,
        "web/team.html",
        {
            "team": team,
            "teams": teams,
            "day": business_date(),
            "page": page,
            "collectors": collectors,
            "assignable": [c for c in collectors if c.available],
            "chosen": chosen,
            "stage": stage,
            "stages": [(s, label("stage", s)) for s in stages],
            "max_batch": MAX_BATCH,
            "query": request.GET.urlencode(),
            "page_query": _query(request),
        },
        status=status,
    )


# --- the dashboard ----------------------------------------------------------------------------


def _money(minor: int, currency: str) -> str:
    return format_money(Money(int(minor), currency), get_language() or "en")


def _percent(bp: int | None) -> str:
    """Basis points as a percentage with two decimals (``4567`` → ``45.67%``); none: ``—``."""
    if bp is None:
        return "—"
    return f"{bp // 100}.{bp % 100:02d}%"


def _major(minor: int, currency: str) -> str:
    """An amount in major units as a decimal string, for a chart axis (exact; Chart.js parses
    it for drawing only — the table shows the formatted amount)."""
    return str(Money(int(minor), currency).amount)


def charts(board: figures.Dashboard) -> list[dict[str, Any]]:
    """Each chart's data (for ``json_script``) and its table (headers and rows of text)."""
    queue = board.queue
    stage_names = [label("stage", s) or str(_("(no stage)")) for s in queue.stages]
    bucket_names = [b or str(_("(no bucket)")) for b in queue.buckets]
    queue_chart = {
        "id": "queue",
        "title": str(_("Open cases by stage and bucket")),
        "type": "bar",
        "stacked": True,
        "labels": bucket_names,
        "datasets": [
            {"label": name, "data": queue.row(stage)}
            for name, stage in zip(stage_names, queue.stages, strict=True)
        ],
        "columns": [str(_("Stage")), *bucket_names, str(_("Total"))],
        "rows": [
            [name, *map(str, queue.row(stage)), str(sum(queue.row(stage)))]
            for name, stage in zip(stage_names, queue.stages, strict=True)
        ]
        + [[str(_("Total")), *map(str, queue.column_totals()), str(queue.total)]],
    }
    contacts_chart = {
        "id": "contacts",
        "title": str(_("Contacts today by collector")),
        "type": "bar",
        "labels": [row.collector.user.get_username() for row in board.contacts],
        "datasets": [
            {"label": str(_("Attempts")), "data": [r.attempts for r in board.contacts]},
            {
                "label": str(_("Right-party contacts")),
                "data": [r.right_party for r in board.contacts],
            },
        ],
        "columns": [str(_("Collector")), str(_("Attempts")), str(_("Right-party contacts"))],
        "rows": [
            [r.collector.user.get_username(), str(r.attempts), str(r.right_party)]
            for r in board.contacts
        ],
    }
    names = list(PROMISE_LABELS)
    promise_labels = [str(PROMISE_LABELS[n]) for n in names]
    today = [getattr(board.promises_today, n) for n in names]
    window = [getattr(board.promises_window, n) for n in names]
    promises_chart = {
        "id": "promises",
        "title": str(_("Promises to pay")),
        "type": "bar",
        "labels": promise_labels,
        "datasets": [
            {"label": str(_("Today")), "data": today},
            {"label": str(_("Last %(days)s days") % {"days": figures.WINDOW_DAYS}), "data": window},
        ],
        "columns": [
            str(_("Promises")),
            str(_("Today")),
            str(_("Last %(days)s days") % {"days": figures.WINDOW_DAYS}),
        ],
        "rows": [
            [name, str(t), str(w)] for name, t, w in zip(promise_labels, today, window, strict=True)
        ],
    }
    got = board.collected
    collected_chart = {
        "id": "collected",
        "title": str(_("Collected this month against the target")),
        "type": "bar",
        "horizontal": True,
        "labels": [str(_("Collected")), str(_("Target"))],
        "datasets": [
            {
                "label": got.currency,
                "data": [
                    _major(got.collected_minor, got.currency),
                    _major(got.target_minor, got.currency),
                ],
            }
        ],
        "columns": [str(_("Figure")), str(_("Amount"))],
        "rows": [
            [str(_("Collected")), _money(got.collected_minor, got.currency)],
            [
                str(_("Target")),
                _money(got.target_minor, got.currency)
                if got.target_minor
                else str(_("no target set")),
            ],
            [str(_("Share of the target")), _percent(got.share_bp)],
        ]
        + [
            [str(_("Collected in %(currency)s") % {"currency": c}), _money(m, c)]
            for c, m in sorted(got.others.items())
        ],
    }
    roll = board.roll
    starts = [b for b in roll.buckets if roll.started(b)]
    roll_chart = {
        "id": "roll",
        "title": str(_("Roll rates")),
        "type": "bar",
        "percent": True,
        "labels": starts,
        "datasets": [
            {
                "label": str(_("Rolled forward")),
                "data": [_percent(roll.rate_bp(b)).rstrip("%") for b in starts],
            }
        ],
        "columns": [
            str(_("Bucket")),
            str(_("Loans at start")),
            str(_("Rolled forward")),
            str(_("Stayed")),
            str(_("Rolled back")),
            str(_("Roll rate")),
        ],
        "rows": [
            [
                b,
                str(roll.started(b)),
                str(roll.rolled_forward(b)),
                str(roll.moves.get((b, b), 0)),
                str(roll.cured(b)),
                _percent(roll.rate_bp(b)),
            ]
            for b in starts
        ],
    }
    return [queue_chart, contacts_chart, promises_chart, collected_chart, roll_chart]


@login_required
def team_dashboard(request: HttpRequest) -> HttpResponse:
    """The team's figures with a chart and a data table each, as of the latest daily run."""
    team, teams = _team(request)
    board = figures.dashboard(team, business_date())
    drawn = charts(board)
    return render(
        request,
        "web/dashboard.html",
        {
            "team": team,
            "teams": teams,
            "board": board,
            "charts": drawn,
            "chart_data": {c["id"]: _chart_data(c) for c in drawn},
        },
    )


def _chart_data(chart: dict[str, Any]) -> dict[str, Any]:
    keys = ("type", "labels", "datasets", "stacked", "horizontal", "percent", "title")
    return {k: chart[k] for k in keys if k in chart}
