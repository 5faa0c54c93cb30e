"""JSON forms of requests, history records and decisions (the CLI's and the API's wire format).

Parsing is strict like the pack loader: an unknown field, a wrong type or a naive timestamp is a
``PolicyError`` naming the field, so a typo in a test case cannot silently change its meaning.
The format is documented in ``arrears.policy.cli``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from arrears.policy.model import (
    ContactRecord,
    ContactRequest,
    Decision,
    FiredRule,
    Hold,
    PolicyError,
)

_REQUEST_FIELDS: dict[str, type | tuple[type, ...]] = {
    "request_id": str,
    "case_id": str,
    "debt_id": str,
    "person_id": str,
    "party": str,
    "channel": str,
    "action": str,
    "purpose": str,
    "address": (str, type(None)),
    "timezone": (str, type(None)),
    "possible_timezones": list,
    "country": (str, type(None)),
    "opt_outs": list,
    "cease": bool,
    "not_at_work": bool,
    "to_workplace": bool,
    "unreachable": bool,
    "holds": list,
    "holidays": list,
    "text": (str, type(None)),
    "facts": dict,
}
_REQUIRED = ("debt_id", "person_id", "party", "channel", "action")
_HOLD_FIELDS = {"kind", "scope", "debt_id", "channels", "actions"}
_RECORD_FIELDS: dict[str, type | tuple[type, ...]] = {
    "at": str,
    "channel": str,
    "action": str,
    "person_id": str,
    "debt_id": str,
    "address": (str, type(None)),
    "reached": bool,
    "conversation": bool,
    "consented": bool,
}


def parse_instant(text: str, where: str) -> datetime:
    """An ISO 8601 timestamp with an offset (``Z`` allowed); naive times are refused."""
    try:
        value = datetime.fromisoformat(text)
    except (TypeError, ValueError) as exc:
        raise PolicyError(f"{where}: not an ISO 8601 timestamp: {text!r}") from exc
    if value.tzinfo is None or value.utcoffset() is None:
        raise PolicyError(f"{where}: {text!r} has no UTC offset (write e.g. +08:00 or Z)")
    return value


def _check(obj: Any, fields: Mapping[str, type | tuple[type, ...]], where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise PolicyError(f"{where}: expected a JSON object")
    for key, value in obj.items():
        if key not in fields:
            allowed = ", ".join(sorted(fields))
            raise PolicyError(f"{where}: unknown field {key!r} (allowed: {allowed})")
        if not isinstance(value, fields[key]) or (
            isinstance(value, bool) and fields[key] is not bool
        ):
            raise PolicyError(f"{where}: field {key!r} has the wrong type ({value!r})")
    return obj


def _strings(values: list[Any], where: str) -> list[str]:
    if not all(isinstance(v, str) for v in values):
        raise PolicyError(f"{where}: expected a list of strings")
    return values


def request_from_json(obj: Any, where: str = "request") -> ContactRequest:
    data = _check(obj, _REQUEST_FIELDS, where)
    for key in _REQUIRED:
        if key not in data:
            raise PolicyError(f"{where}: missing field {key!r}")
    holds = []
    for i, item in enumerate(data.get("holds", [])):
        w = f"{where}: holds[{i}]"
        if not isinstance(item, dict) or not set(item) <= _HOLD_FIELDS or "kind" not in item:
            raise PolicyError(f"{w}: expected {{kind, scope, debt_id, channels, actions}}")
        holds.append(
            Hold(
                kind=item["kind"],
                scope=item.get("scope", "borrower"),
                debt_id=item.get("debt_id"),
                channels=frozenset(_strings(item.get("channels", []), f"{w}: channels")),
                actions=frozenset(_strings(item.get("actions", []), f"{w}: actions")),
            )
        )
    holidays = []
    for text in _strings(data.get("holidays", []), f"{where}: holidays"):
        try:
            holidays.append(date.fromisoformat(text))
        except ValueError as exc:
            raise PolicyError(f"{where}: holidays: not a date YYYY-MM-DD: {text!r}") from exc
    facts = data.get("facts", {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in facts.items()):
        raise PolicyError(f"{where}: facts must map names to strings")
    try:
        return ContactRequest(
            debt_id=data["debt_id"],
            person_id=data["person_id"],
            party=data["party"],
            channel=data["channel"],
            action=data["action"],
            purpose=data.get("purpose", "collect"),
            case_id=data.get("case_id", ""),
            request_id=data.get("request_id", ""),
            address=data.get("address"),
            timezone=data.get("timezone"),
            possible_timezones=tuple(
                _strings(data.get("possible_timezones", []), f"{where}: possible_timezones")
            ),
            country=data.get("country"),
            opt_outs=frozenset(_strings(data.get("opt_outs", []), f"{where}: opt_outs")),
            cease=data.get("cease", False),
            not_at_work=data.get("not_at_work", False),
            to_workplace=data.get("to_workplace", False),
            unreachable=data.get("unreachable", False),
            holds=tuple(holds),
            holidays=frozenset(holidays),
            text=data.get("text"),
            facts=MappingProxyType(dict(facts)),
        )
    except PolicyError as exc:
        raise PolicyError(f"{where}: {exc.message}") from exc


def record_from_json(obj: Any, where: str = "record") -> ContactRecord:
    data = _check(obj, _RECORD_FIELDS, where)
    for key in ("at", "channel", "action", "person_id", "debt_id"):
        if key not in data:
            raise PolicyError(f"{where}: missing field {key!r}")
    try:
        return ContactRecord(
            at=parse_instant(data["at"], f"{where}: at"),
            channel=data["channel"],
            action=data["action"],
            person_id=data["person_id"],
            debt_id=data["debt_id"],
            address=data.get("address"),
            reached=data.get("reached", True),
            conversation=data.get("conversation", False),
            consented=data.get("consented", False),
        )
    except PolicyError as exc:
        raise PolicyError(f"{where}: {exc.message}") from exc


def history_from_json(obj: Any) -> list[ContactRecord]:
    if not isinstance(obj, list):
        raise PolicyError("history: expected a JSON list of contact records")
    return [record_from_json(item, f"history[{i}]") for i, item in enumerate(obj)]


def fired_to_json(fired: FiredRule) -> dict[str, Any]:
    return {
        "rule": fired.rule_id,
        "kind": fired.kind,
        "effect": fired.effect,
        "message": fired.message,
        "citation": fired.citation,
        "confidence": fired.confidence,
        "description": {"en": fired.description_en, "zh": fired.description_zh},
    }


def decision_to_json(decision: Decision) -> dict[str, Any]:
    """The decision as a JSON-ready dict (what the audit chain records and the CLI prints)."""
    return {
        "request_id": decision.request_id,
        "outcome": decision.outcome,
        "next_allowed": (
            decision.next_allowed.isoformat() if decision.next_allowed is not None else None
        ),
        "decided_at": decision.decided_at.isoformat(),
        "pack": {"name": decision.pack_name, "version": decision.pack_version},
        "fired": [fired_to_json(f) for f in decision.fired],
    }
