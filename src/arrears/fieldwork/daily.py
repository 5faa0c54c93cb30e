"""The field-visit step of the day's pipeline (``collections.dayflow``, order 60).

A scheduled visit whose appointment day has passed without a check-in is *missed*: the step
records that on the case once (event key ``visit<id>:missed:<date>``) so the supervisor sees it
and reschedules or cancels. It changes no status — the letter may still be valid for a new
time — and re-running the day records nothing new.
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.utils import timezone

from arrears.collections import events
from arrears.collections.models import CaseEvent
from arrears.fieldwork.models import FieldVisit

ORDER = 60


def missed_appointments(day: date) -> str:
    """Record every scheduled visit whose appointment fell before ``day`` with no check-in."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    missed = FieldVisit.objects.filter(
        status=FieldVisit.Status.SCHEDULED, appointment_at__lt=start, checked_in_at__isnull=True
    )
    new = 0
    for visit in missed.select_related("case"):
        local = timezone.localtime(visit.appointment_at)
        _, created = events.record(
            visit.case,
            CaseEvent.Kind.VISIT,
            FieldVisit.Status.SCHEDULED,
            "missed",
            f"visit #{visit.pk}: nobody checked in for the appointment "
            f"{local:%Y-%m-%d %H:%M}; reschedule or cancel",
            None,
            day,
            key=f"visit{visit.pk}:missed:{local.date().isoformat()}",
        )
        new += created
    return f"field visits: {new} missed appointment(s) recorded"


def register() -> None:
    """Add the step to the day's pipeline when it exists (it lands on main in parallel)."""
    try:
        from arrears.collections import dayflow
    except ImportError:
        return
    dayflow.register("fieldwork-missed-appointments", missed_appointments, ORDER)
