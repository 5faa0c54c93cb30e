"""What the appointment notice needs beyond the standard context: the appointment time.

``contact.render`` calls every registered extra provider for each message it renders; this
one answers only for ``field_visit_request`` messages queued by a visit (key
``visit<id>:appointment:…``) and gives the appointment in the borrower's time zone.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.utils import timezone

from arrears.contact.models import OutboxMessage


def appointment_extra(message: OutboxMessage) -> dict[str, str]:
    """``{"appointment_time": "YYYY-MM-DD HH:MM, place"}`` for a visit's notice, else ``{}``."""
    from arrears.fieldwork.models import FieldVisit

    if message.template != "field_visit_request" or not message.key.startswith("visit"):
        return {}
    head = message.key.split(":", 1)[0].removeprefix("visit")
    if not head.isdigit():
        return {}
    visit = FieldVisit.objects.filter(pk=int(head)).select_related("case__borrower").first()
    if visit is None or visit.appointment_at is None:
        return {}
    zone = visit.case.borrower.time_zone
    when = (
        visit.appointment_at.astimezone(ZoneInfo(zone))
        if zone
        else timezone.localtime(visit.appointment_at)
    )
    text = f"{when:%Y-%m-%d %H:%M}"
    return {"appointment_time": f"{text}, {visit.place}" if visit.place else text}
