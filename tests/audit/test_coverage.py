"""What the receivers record: complaints and their holds, template versions, the day run's
automatic events as one summary, who ran a command."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from arrears.audit import daysummary, services
from arrears.audit.context import cli_actor
from arrears.audit.models import AuditEntry
from arrears.collections import dayflow
from arrears.collections.models import Case, CaseEvent
from arrears.complaints import services as complaints
from arrears.daily.services import day_run
from arrears.notices import services as notices
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def case() -> Case:
    """One borrower a few days late, evaluated today."""
    today = timezone.localdate()
    owner = factories.borrower("B-A", phone="+8613900000021")
    factories.loan(
        "L-A", owner, factories.product(), principal_minor=1_200_000, start=today - timedelta(40)
    )
    day_run(as_of=today, engine="reference")
    dayflow.run(today)
    return Case.objects.get(borrower=owner)


def _actions(**filters: object) -> list[str]:
    return list(
        AuditEntry.objects.filter(**filters).order_by("id").values_list("action", flat=True)
    )


def test_the_day_runs_automatic_events_are_one_summary_entry(case: Case) -> None:
    today = timezone.localdate()
    keyed = CaseEvent.objects.filter(on=today, key__isnull=False)
    assert keyed.exists()
    assert not AuditEntry.objects.filter(subject_type="collections.CaseEvent").exists()
    summary = AuditEntry.objects.get(action=daysummary.ACTION, subject_id=today.isoformat())
    assert summary.after is not None
    assert summary.after["total"] == keyed.count()
    assert summary.after["events"]["opened"] == 1
    dayflow.run(today)  # an unchanged re-run records nothing new
    assert AuditEntry.objects.filter(action=daysummary.ACTION).count() == 1
    services.seal()
    assert services.verify_chain() is None


def test_the_summary_digest_names_a_day_whose_automatic_events_were_altered(case: Case) -> None:
    """The workflow's bulk writes (cases opened, stage moves) have no entry each; the day's
    digest makes them tamper-evident: editing, deleting or adding a keyed event is found."""
    from django.core.management import call_command

    today = timezone.localdate()
    summary = AuditEntry.objects.get(action=daysummary.ACTION, subject_id=today.isoformat())
    assert summary.after is not None and len(summary.after["digest"]) == 64
    assert daysummary.altered_days() == []
    opened = CaseEvent.objects.get(case=case, kind="opened")
    original = opened.cause
    CaseEvent.objects.filter(pk=opened.pk).update(cause=original + " (edited)")
    assert daysummary.altered_days() == [today.isoformat()]
    with pytest.raises(SystemExit):
        call_command("audit", "verify", "--no-seal")
    CaseEvent.objects.filter(pk=opened.pk).update(cause=original)
    assert daysummary.altered_days() == []
    CaseEvent.objects.filter(pk=opened.pk).delete()
    assert daysummary.altered_days() == [today.isoformat()]


def test_a_complaint_its_hold_and_its_event_are_recorded(case: Case) -> None:
    lead = User.objects.create_user("lead-a", is_staff=True)
    complaint = complaints.file_complaint(
        borrower=case.borrower,
        kind="complaint",
        category="harassment",
        description="called at night",
        channel="phone",
        by=lead,
    )
    assert "complaint.created" in _actions(subject_type="complaints.Complaint")
    assert "hold.created" in _actions(subject_type="collections.Hold", case_id=None)
    events = AuditEntry.objects.filter(subject_type="collections.CaseEvent", case_id=case.pk)
    kinds = sorted(e.after["kind"] for e in events if e.after)  # a person's events: each one
    assert kinds == ["complaint", "hold"]
    created = AuditEntry.objects.get(action="complaint.created", subject_id=str(complaint.pk))
    assert created.after is not None and created.after["category"] == "harassment"


def test_a_template_version_published_is_recorded_with_its_texts_digest() -> None:
    live = notices.active_template("overdue_reminder", "zh-CN", "sms")
    draft, found = notices.save_draft("overdue_reminder", "zh-CN", "sms", live.body + " ")
    assert found == []
    notices.activate(draft)
    entry = AuditEntry.objects.filter(
        subject_type="notices.MessageTemplate", subject_id=str(draft.pk), action__endswith="changed"
    ).get()
    assert entry.before is not None and entry.after is not None
    assert (entry.before["status"], entry.after["status"]) == ("draft", "active")
    assert "body" not in entry.after and len(entry.after["body_sha256"]) == 64


def test_a_command_acts_as_its_os_user_unless_as_names_someone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("USER", "ops")
    monkeypatch.setenv("LOGNAME", "ops")
    assert cli_actor(["run-day", "--as-of", "2026-12-01"]) == (
        "cli:ops",
        ["run-day", "--as-of", "2026-12-01"],
    )
    assert cli_actor(["complaint", "resolve", "--as", "lee", "X"]) == (
        "lee",
        ["complaint", "resolve", "X"],
    )
    assert cli_actor(["--as=ann", "audit", "seal"]) == ("ann", ["audit", "seal"])


def test_the_summary_step_runs_after_the_app_steps_and_before_the_outbox() -> None:
    names = [s.name for s in dayflow.steps()]
    # after the outbox only the monthly report pack, which writes files, not rows to count
    assert names[-3:] == ["audit-summary", "outbox", "report-pack"]
    assert daysummary.counts(date(2000, 1, 1)) == {}


def test_a_contact_its_gate_decision_and_a_promise_are_recorded(case: Case) -> None:
    from datetime import datetime, time

    from arrears.collections import services as collections

    at = timezone.make_aware(datetime.combine(timezone.localdate(), time(10)))
    attempt = collections.log_contact(
        case, channel="call", direction="outbound", party="borrower", outcome="promise", at=at
    )
    collections.make_promise(
        case, amount_minor=10_000, due_date=timezone.localdate() + timedelta(days=3)
    )
    assert _actions(subject_type="collections.ContactAttempt") == ["contactattempt.created"]
    decision = AuditEntry.objects.get(subject_type="contact.GateDecision")
    assert decision.after is not None and decision.after["request"]["contact"] == attempt.pk
    assert decision.case_id == case.pk  # in the case's trail
    promise = AuditEntry.objects.get(subject_type="collections.Promise", action="promise.created")
    assert promise.case_id == case.pk and promise.after is not None
    assert promise.after["amount_minor"] == 10_000


def test_each_entry_names_the_strategy_pack_and_version_in_force(settings) -> None:
    """An entry's ``config`` is what was in force when it was written: before any strategy
    is published none, then the one active — a later publish changes later entries only."""
    from arrears import __version__
    from arrears.collections import strategies

    settings.ARREARS_POLICY_PACK = "cn"
    first = services.record("note", subject_type="t", subject_id=1)
    assert first.config == {"strategy": None, "policy_pack": "cn", "app": __version__}
    published = strategies.publish(strategies.default_source())
    second = services.record("note", subject_type="t", subject_id=2)
    expected = f"{published.name} v{published.version}"
    assert second.config["strategy"] == expected
    changed = strategies.default_source().replace(
        f"version: {published.version}", f"version: {published.version + 1}", 1
    )
    strategies.publish(changed)
    third = services.record("note", subject_type="t", subject_id=3)
    assert third.config["strategy"] == f"{published.name} v{published.version + 1}"
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.config["strategy"], second.config["strategy"]) == (None, expected)


#: A SHA-256 hex digest with 18 decimal digits in a row (a resident ID's shape: the masking
#: stars the middle of such a run) and an 11-digit mobile's shape; about one real digest in a
#: hundred has such a run (it depends on the events' ids, so on what ran before).
LOOKS_PERSONAL = "5e51806aeb1f0011" + "110101199003074512" + "ab13812345678cd" + "0" * 15


def test_a_digest_that_looks_like_a_personal_number_is_kept_whole(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert services.DIGEST.fullmatch(LOOKS_PERSONAL)
    monkeypatch.setattr(daysummary, "digest", lambda day: LOOKS_PERSONAL)
    today = timezone.localdate()
    dayflow.run(today)  # the summary now carries the digest above
    latest = AuditEntry.objects.filter(action=daysummary.ACTION).latest("id")
    assert latest.after is not None and latest.after["digest"] == LOOKS_PERSONAL
    before = AuditEntry.objects.filter(action=daysummary.ACTION).count()
    dayflow.run(today)  # unchanged: nothing new, and the day is not reported as altered
    assert AuditEntry.objects.filter(action=daysummary.ACTION).count() == before
    assert daysummary.altered_days() == []
    # anything else that looks personal is still masked in an image
    image = services.bound_image({"note": "ID 110101199003074512", "digest": LOOKS_PERSONAL})
    assert image is not None
    assert "110101199003074512" not in image["note"] and image["digest"] == LOOKS_PERSONAL
