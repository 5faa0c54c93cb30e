"""Keeping the decision log's index (``GateLogEntry``) in step with the gate's decisions.

The gate records a decision with ``GateDecision.objects.create`` (``contact.gate.record``) in
the same transaction as the contact or the message it is about, so a ``post_save`` receiver
that writes the index row in that transaction commits or rolls back with it. The contact app
does not know this app exists: the index is this app's concern, not the gate's.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def entry_fields(decision: Any, contact_model: Any) -> dict[str, Any]:
    """The index columns of ``decision``. ``contact_model`` is passed in so the migration that
    fills the index for older decisions can use its historical model."""
    request = decision.request if isinstance(decision.request, dict) else {}
    contact_id = _int(request.get("contact"))
    contact = (
        contact_model.objects.filter(pk=contact_id)
        .values("pk", "collector_id", "case_id", "channel")
        .first()
        if contact_id is not None
        else None
    )
    debt = str(request.get("debt", ""))
    case_id = int(debt[4:]) if debt.startswith("case") and debt[4:].isdigit() else None
    channel = str(request.get("channel") or "")
    if contact is not None:
        case_id = contact["case_id"]
        channel = contact["channel"]  # "call", where the gate's request says "voice"
    return {
        "at": decision.at,
        "outcome": decision.outcome,
        "channel": channel[:10],
        "overridden": request.get("overridden") is True,
        "contact_id": contact["pk"] if contact else None,
        "message_id": decision.message_id,
        "collector_id": contact["collector_id"] if contact else None,
        "case_id": case_id,
    }


def rule_ids(decision: Any) -> list[str]:
    """The ids of the rules that fired, once each, in the order the gate gave them."""
    ids = [str(r.get("id", "")) for r in decision.rules or [] if isinstance(r, dict)]
    return list(dict.fromkeys(i[:80] for i in ids if i))


def index(decision: Any, entry_model: Any, rule_model: Any, contact_model: Any) -> Any:
    """Write (or rewrite) the index row of one decision and its rules."""
    entry, _ = entry_model.objects.update_or_create(
        decision_id=decision.pk, defaults=entry_fields(decision, contact_model)
    )
    rule_model.objects.filter(entry=entry).delete()
    _add_rules(entry, decision, rule_model)
    return entry


def _add_rules(entry: Any, decision: Any, rule_model: Any) -> None:
    rules = rule_ids(decision)
    if rules:
        rule_model.objects.bulk_create([rule_model(entry=entry, rule=r) for r in rules])


def _on_save(
    sender: Any, instance: Any, created: bool = False, raw: bool = False, **kwargs: Any
) -> None:
    """A new decision is two inserts at most (three with a logged contact to look up); a
    changed one (the gate never changes one, the admin is read-only) is indexed again."""
    if raw:  # loading a fixture: the index is filled by the migration, not row by row
        return
    from arrears.collections.models import ContactAttempt
    from arrears.quality.models import GateLogEntry, GateLogRule

    if not created:
        index(instance, GateLogEntry, GateLogRule, ContactAttempt)
        return
    entry = GateLogEntry.objects.create(
        decision_id=instance.pk, **entry_fields(instance, ContactAttempt)
    )
    _add_rules(entry, instance, GateLogRule)


def connect() -> None:
    """Connect the receiver (once, from ``QualityConfig.ready``)."""
    from arrears.contact.models import GateDecision

    post_save.connect(_on_save, sender=GateDecision, dispatch_uid="quality:gatelog")
