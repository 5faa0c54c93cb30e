"""The letter's code checks out with ``arrears.verification`` while valid, and not after
expiry or revocation (runs once the verification app is installed)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from arrears.fieldwork import services
from tests.fieldwork.conftest import Field


def test_the_code_verifies_while_valid_then_expires_or_is_revoked(field: Field) -> None:
    from arrears.verification import services as verification

    field.break_promises()
    s = field.staff
    visit = services.request_visit(field.case, by=s["ann"], reason="r")
    services.approve(visit, by=s["lead"])
    services.assign(visit, [field.agents["fay"], field.agents["gus"]], by=s["lead"])
    authorisation = services.authorise(visit, by=s["lead"])
    code = authorisation.plain_code  # type: ignore[attr-defined]
    now = timezone.now()
    answer = verification.verify(code, now).as_dict()
    assert answer["genuine"] is True and answer["kind"] == "visit_authorisation"
    assert "方芳" in answer["holder"] and field.case.borrower.name not in answer["holder"]
    late = verification.verify(code, authorisation.valid_to + timedelta(seconds=1))
    assert late.genuine is False and late.status == "expired"
    services.cancel(visit, by=s["ann"], reason="paid in full")
    after = verification.verify(code, timezone.now() + timedelta(seconds=1))
    assert after.genuine is False and after.status == "revoked"
