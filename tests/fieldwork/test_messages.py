"""The appointment notice renders with its appointment time (contact.render's extra hook)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from arrears.contact.models import OutboxMessage
from arrears.contact.render import Rendered, render_message
from arrears.fieldwork import services
from arrears.fieldwork.messages import appointment_extra
from tests.fieldwork.conftest import Field


def test_the_notice_states_the_appointment(field: Field) -> None:
    field.break_promises()
    s = field.staff
    visit = services.request_visit(field.case, by=s["ann"], reason="r")
    services.approve(visit, by=s["lead"])
    services.assign(visit, [field.agents["fay"], field.agents["gus"]], by=s["lead"])
    services.authorise(visit, by=s["lead"])
    day = datetime.combine(field.today + timedelta(days=1), datetime.min.time())
    at = timezone.make_aware(day) + timedelta(hours=10, minutes=30)
    services.schedule(visit, at=at, place="幸福路1号", by=s["lead"])
    message = OutboxMessage.objects.get()
    assert appointment_extra(message) == {
        "appointment_time": f"{field.today + timedelta(days=1)} 10:30, 幸福路1号"
    }
    rendered = render_message(message, timezone.now())
    assert isinstance(rendered, Rendered)
    assert "10:30" in rendered.body and "幸福路1号" in rendered.body


def test_other_messages_get_nothing(field: Field) -> None:
    message = OutboxMessage(key="wi:x", template="field_visit_request", channel="sms")
    assert appointment_extra(message) == {}
