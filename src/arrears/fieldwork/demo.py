"""Demo data for field visits, for ``arrears demo`` to call (the lead wires it in).

``seed_people`` creates the field team (stage owner ``field_team``: the strategy's
``field_visit`` stage allocates its cases to it) and two field agents, and returns their logins.
Call it before the day's ``evaluate_day`` so the team receives cases. ``seed_visits`` then takes
*eligible* cases only — the demo never shows a visit the rule would refuse — and walks them
through the real services to different states, so each page has something to show.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from stdnum.cn import ric

from arrears.collections.models import Case, Collector, Team
from arrears.fieldwork import eligibility, services
from arrears.fieldwork.models import FieldAgent
from arrears.kernel.errors import ArrearsError

PASSWORD = "arrears-demo"
#: (username, role, capacity, what they do)
TEAM = (
    ("flora", "team_lead", 20, "field team lead: approves visits, issues authorisation letters"),
    ("carl", "collector", 40, "field collector: requests visits"),
)
#: (username, full name, ID body without its check digit)
AGENTS = (
    ("agent1", "方芳", "11010519880312002"),
    ("agent2", "顾强", "31010419910705003"),
)
#: How far each demo visit is taken, in order.
STAGES = (
    "requested",
    "approved",
    "assigned",
    "authorised",
    "scheduled",
    "in_progress",
    "reported",
    "closed",
    "cancelled",
)
#: The steps that happen at the door: their appointment must be today (check-in is only on
#: the appointment's day), so they are reached only when the demo runs in visiting hours.
AT_THE_DOOR = ("in_progress", "reported", "closed")


def _id(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")  # the library ignores the last character


def seed_people(password: str = PASSWORD) -> list[tuple[str, str, str]]:
    """The field team and the two agents (idempotent); returns (username, password, what)."""
    users = get_user_model()
    team, _ = Team.objects.get_or_create(
        code="field", defaults={"name": "外访组 Field team", "owner": "field_team"}
    )
    logins = []
    for username, role, capacity, what in TEAM:
        user = users.objects.filter(username=username).first()
        if user is None:
            user = users.objects.create_user(username, password=password)
        Collector.objects.get_or_create(
            user=user, defaults={"team": team, "role": role, "capacity": capacity}
        )
        logins.append((username, password, what))
    for username, full_name, body in AGENTS:
        user = users.objects.filter(username=username).first()
        if user is None:
            user = users.objects.create_user(username, password=password)
        FieldAgent.objects.get_or_create(
            user=user, defaults={"full_name": full_name, "id_number": _id(body)}
        )
        logins.append((username, password, f"field agent {full_name}: sees only assigned visits"))
    return logins


def seed_visits(as_of: Any, *, limit: int = 30) -> dict[str, int]:
    """Walk eligible open cases of the field team through the workflow, one stage further each
    (see ``STAGES``); returns how many visits reached each stage. Cases already with a visit
    are skipped, so a second run adds nothing for them."""
    users = get_user_model()
    carl, flora = users.objects.get(username="carl"), users.objects.get(username="flora")
    agents = list(FieldAgent.objects.filter(user__username__in=[a[0] for a in AGENTS]))
    rule = eligibility.rule()
    candidates = Case.objects.filter(
        closed_on__isnull=True,
        collector__user=carl,
        dpd__gte=rule.min_dpd,
        total_due_minor__gte=rule.min_total_due,
        visits__isnull=True,
    ).order_by("-priority", "id")[:limit]
    reached: dict[str, int] = {}
    n = 0
    for case in candidates:
        if not eligibility.check(case, as_of).eligible:
            continue
        target = STAGES[n % len(STAGES)]
        n += 1
        try:
            _walk(case, target, carl, flora, agents, as_of)
        except ArrearsError:
            continue  # e.g. the gate refuses the demo time: leave the visit where it stopped
        reached[target] = reached.get(target, 0) + 1
    return reached


def _walk(case: Case, target: str, carl: Any, flora: Any, agents: list[Any], as_of: Any) -> None:
    visit = services.request_visit(
        case, by=carl, reason="失联且多次违约 / unreachable, promises broken"
    )
    if target == "cancelled":
        services.cancel(visit, by=carl, reason="demo: borrower called back")
        return
    for step in STAGES[1 : STAGES.index(target) + 1]:
        if step == "approved":
            services.approve(visit, by=flora, note="demo")
        elif step == "assigned":
            services.assign(visit, agents, by=flora)
        elif step == "authorised":
            services.authorise(visit, by=flora)
        elif step == "scheduled":
            if target in AT_THE_DOOR:  # soon, today: the agents go now
                at = timezone.now() + timedelta(minutes=5)
            else:
                day = max(as_of, timezone.localdate()) + timedelta(days=1)
                at = timezone.make_aware(datetime.combine(day, time(10, 0)))
            services.schedule(visit, at=at, place="借款人登记地址 / registered address", by=flora)
        elif step == "in_progress":
            services.check_in(visit, by=agents[0].user)
            services.check_out(visit, by=agents[0].user)
        elif step == "reported":
            services.report(
                visit,
                by=agents[0].user,
                outcome="not_home",
                notes="demo: 无人应门，已留联系卡 / nobody home, left a contact card",
                evidence=["demo/visit-door-photo.jpg"],
            )
        elif step == "closed":
            services.close(visit, by=flora)
