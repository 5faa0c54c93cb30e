"""JSON forms of requests, history records and decisions (the CLI's and the API's wire format).

Parsing is strict like the pack loader: an unknown field, a wrong type, a value outside its
vocabulary or a naive timestamp is a ``PolicyError``. Every problem of a request or record is
reported at once, each naming its field (``request: 3 problems: missing field 'party'; channel:
unknown channel 'fax' (…); cease: wrong type, expected true or false, got 'yes'``), so whoever
writes a request file fixes it in one pass; the list is also in the error's
``params["problems"]``. The format, with a full example, is in ``arrears.policy.cli`` and
docs/policy.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from arrears.policy.model import (
    ACTIONS,
    ACTIONS_BY_CHANNEL,
    CHANNELS,
    HOLD_KINDS,
    HOLD_SCOPES,
    PARTIES,
    PURPOSES,
    Consent,
    ContactRecord,
    ContactRequest,
    Decision,
    FiredRule,
    Hold,
    PolicyError,
)

_Kind = type | tuple[type, ...]
_OPT_STR: _Kind = (str, type(None))
_REQUEST_FIELDS: dict[str, _Kind] = {
    "request_id": str,
    "case_id": str,
    "debt_id": str,
    "person_id": str,
    "party": str,
    "channel": str,
    "action": str,
    "purpose": str,
    "address": _OPT_STR,
    "timezone": _OPT_STR,
    "possible_timezones": list,
    "country": _OPT_STR,
    "opt_outs": list,
    "cease": bool,
    "not_at_work": bool,
    "to_workplace": bool,
    "unreachable": bool,
    "holds": list,
    "holidays": list,
    "text": _OPT_STR,
    "facts": dict,
    "consents": list,
    "visitors": list,
}
_REQUIRED = ("debt_id", "person_id", "party", "channel", "action")
_HOLD_FIELDS: dict[str, _Kind] = {
    "kind": str,
    "scope": str,
    "debt_id": _OPT_STR,
    "channels": list,
    "actions": list,
    "until": _OPT_STR,
}
_CONSENT_FIELDS: dict[str, _Kind] = {
    "by": str,
    "given_at": str,
    "starts": str,
    "ends": str,
    "channels": list,
    "debt_id": _OPT_STR,
}
_RECORD_FIELDS: dict[str, _Kind] = {
    "at": str,
    "channel": str,
    "action": str,
    "person_id": str,
    "debt_id": str,
    "address": _OPT_STR,
    "reached": bool,
    "answered": (bool, type(None)),
    "conversation": bool,
    "consented": bool,
}
_RECORD_REQUIRED = ("at", "channel", "action", "person_id", "debt_id")


def parse_instant(text: str, where: str) -> datetime:
    """An ISO 8601 timestamp with an offset (``Z`` allowed); naive times are refused."""
    try:
        value = datetime.fromisoformat(text)
    except (TypeError, ValueError) as exc:
        raise PolicyError(f"{where}: not an ISO 8601 timestamp: {text!r}") from exc
    if value.tzinfo is None or value.utcoffset() is None:
        raise PolicyError(f"{where}: {text!r} has no UTC offset (write e.g. +08:00 or Z)")
    return value


class _Problems:
    """Every problem found in one request or record, each prefixed with the field it concerns."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.items: list[str] = []

    def add(self, field: str, text: str) -> None:
        self.items.append(f"{field}: {text}" if field else text)

    def check(self) -> None:
        """Raise one ``PolicyError`` listing every problem, if there is any."""
        if not self.items:
            return
        if len(self.items) == 1:
            text = self.items[0]
        else:
            text = f"{len(self.items)} problems: " + "; ".join(self.items)
        raise PolicyError(
            f"{self.where}: {text}", params={"problems": list(self.items), "where": self.where}
        )


def _type_name(kind: _Kind) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {
        str: "a string",
        bool: "true or false",
        list: "a list",
        dict: "an object",
        type(None): "null",
    }
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _fields(
    obj: Any, fields: Mapping[str, _Kind], required: tuple[str, ...], where: str, p: _Problems
) -> dict[str, Any]:
    """The object's well-typed fields; every unknown, missing or mistyped one is a problem."""
    if not isinstance(obj, dict):
        p.add(where, "expected a JSON object")
        return {}
    good: dict[str, Any] = {}
    for key, value in obj.items():
        name = f"{where}.{key}" if where else key
        if key not in fields:
            p.add("", f"unknown field {name!r} (allowed: {', '.join(sorted(fields))})")
            continue
        kind = fields[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            p.add(
                "",
                f"field {name!r} has the wrong type (expected {_type_name(kind)}, got {value!r})",
            )
            continue
        good[key] = value
    for key in required:
        if key not in obj:
            name = f"{where}.{key}" if where else key
            p.add("", f"missing field {name!r}")
    return good


def _one_of(value: str, allowed: frozenset[str], what: str, name: str, p: _Problems) -> bool:
    if value in allowed:
        return True
    p.add(name, f"unknown {what} {value!r} (allowed: {', '.join(sorted(allowed))})")
    return False


def _string_list(
    data: dict[str, Any], key: str, name: str, p: _Problems, check: Callable[[str, str], bool]
) -> list[str]:
    """A list of strings, each passing ``check(value, name)`` (which reports its own problem)."""
    values = data.get(key, [])
    good = []
    for i, value in enumerate(values):
        item = f"{name}[{i}]"
        if not isinstance(value, str):
            p.add(item, f"expected a string, got {value!r}")
        elif check(value, item):
            good.append(value)
    return good


def _zone_ok(p: _Problems) -> Callable[[str, str], bool]:
    def check(key: str, name: str) -> bool:
        try:
            ZoneInfo(key)
        except (ZoneInfoNotFoundError, ValueError):
            p.add(name, f"unknown time zone {key!r}")
            return False
        return True

    return check


def _member_of(allowed: frozenset[str], what: str, p: _Problems) -> Callable[[str, str], bool]:
    return lambda value, name: _one_of(value, allowed, what, name, p)


def _date_ok(p: _Problems) -> Callable[[str, str], bool]:
    def check(text: str, name: str) -> bool:
        try:
            date.fromisoformat(text)
        except ValueError:
            p.add(name, f"not a date YYYY-MM-DD: {text!r}")
            return False
        return True

    return check


def _instant(text: str, name: str, p: _Problems) -> datetime | None:
    try:
        return parse_instant(text, name)
    except PolicyError as exc:
        p.add("", exc.message)
        return None


def _holds(items: list[Any], where: str, p: _Problems) -> list[Hold]:
    holds = []
    for i, item in enumerate(items):
        w = f"{where}[{i}]"
        data = _fields(item, _HOLD_FIELDS, ("kind",), w, p)
        ok = "kind" in data and _one_of(data["kind"], HOLD_KINDS, "hold kind", f"{w}.kind", p)
        scope = data.get("scope", "borrower")
        ok = _one_of(scope, HOLD_SCOPES, "hold scope", f"{w}.scope", p) and ok
        if scope == "loan" and not data.get("debt_id"):
            p.add(f"{w}.debt_id", "a hold with scope 'loan' needs the debt_id it holds")
            ok = False
        channels = _string_list(
            data, "channels", f"{w}.channels", p, _member_of(CHANNELS, "channel", p)
        )
        actions = _string_list(data, "actions", f"{w}.actions", p, _member_of(ACTIONS, "action", p))
        until = None
        if data.get("until") is not None:
            if _date_ok(p)(data["until"], f"{w}.until"):
                until = date.fromisoformat(data["until"])
            else:
                ok = False
        if (
            ok
            and len(channels) == len(data.get("channels", []))
            and len(actions) == len(data.get("actions", []))
        ):
            holds.append(
                Hold(
                    kind=data["kind"],
                    scope=scope,
                    debt_id=data.get("debt_id"),
                    channels=frozenset(channels),
                    actions=frozenset(actions),
                    until=until,
                )
            )
    return holds


def _consents(items: list[Any], where: str, p: _Problems) -> list[Consent]:
    consents = []
    for i, item in enumerate(items):
        w = f"{where}[{i}]"
        data = _fields(item, _CONSENT_FIELDS, ("by", "given_at", "starts", "ends"), w, p)
        instants = {
            key: _instant(data[key], f"{w}.{key}", p)
            for key in ("given_at", "starts", "ends")
            if key in data
        }
        channels = _string_list(
            data, "channels", f"{w}.channels", p, _member_of(CHANNELS, "channel", p)
        )
        if "by" not in data or len(instants) < 3 or None in instants.values():
            continue
        if len(channels) != len(data.get("channels", [])):
            continue
        try:
            consents.append(
                Consent(
                    by=data["by"],
                    given_at=instants["given_at"],  # type: ignore[arg-type]
                    starts=instants["starts"],  # type: ignore[arg-type]
                    ends=instants["ends"],  # type: ignore[arg-type]
                    channels=frozenset(channels) if "channels" in data else frozenset({"voice"}),
                    debt_id=data.get("debt_id"),
                )
            )
        except PolicyError as exc:
            p.add(w, exc.message)
    return consents


def request_from_json(obj: Any, where: str = "request") -> ContactRequest:
    """A ``ContactRequest`` from its JSON object; every problem is reported at once."""
    p = _Problems(where)
    data = _fields(obj, _REQUEST_FIELDS, _REQUIRED, "", p)
    for key, allowed, what in (
        ("party", PARTIES, "party"),
        ("channel", CHANNELS, "channel"),
        ("action", ACTIONS, "action"),
        ("purpose", PURPOSES, "purpose"),
    ):
        if key in data and not _one_of(data[key], allowed, what, key, p):
            del data[key]
    channel, action = data.get("channel"), data.get("action")
    if channel and action and action not in ACTIONS_BY_CHANNEL[channel]:
        p.add("action", f"action {action!r} is not carried by channel {channel!r}")
    for key in ("debt_id", "person_id"):
        if key in data and not data[key].strip():
            p.add(key, "must not be empty")
    if data.get("timezone") is not None:
        _zone_ok(p)(data["timezone"], "timezone")
    zones = _string_list(data, "possible_timezones", "possible_timezones", p, _zone_ok(p))
    opt_outs = _string_list(data, "opt_outs", "opt_outs", p, _member_of(CHANNELS, "channel", p))
    holds = _holds(data.get("holds", []), "holds", p)
    holidays = _string_list(data, "holidays", "holidays", p, _date_ok(p))
    consents = _consents(data.get("consents", []), "consents", p)
    visitors = _string_list(
        data, "visitors", "visitors", p, lambda v, n: bool(v.strip()) or _empty(n, p)
    )
    facts = data.get("facts", {})
    for key, value in facts.items():
        if not isinstance(value, str):
            p.add(f"facts.{key}", f"facts map names to strings, got {value!r}")
    p.check()
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
            possible_timezones=tuple(zones),
            country=data.get("country"),
            opt_outs=frozenset(opt_outs),
            cease=data.get("cease", False),
            not_at_work=data.get("not_at_work", False),
            to_workplace=data.get("to_workplace", False),
            unreachable=data.get("unreachable", False),
            holds=tuple(holds),
            holidays=frozenset(date.fromisoformat(d) for d in holidays),
            text=data.get("text"),
            facts=MappingProxyType(dict(facts)),
            consents=tuple(consents),
            visitors=tuple(visitors),
        )
    except PolicyError as exc:  # pragma: no cover - every rule above is checked first
        raise PolicyError(f"{where}: {exc.message}") from exc


def _empty(name: str, p: _Problems) -> bool:
    p.add(name, "must not be empty")
    return False


def record_from_json(obj: Any, where: str = "record") -> ContactRecord:
    """A ``ContactRecord`` from its JSON object; every problem is reported at once."""
    p = _Problems(where)
    data = _fields(obj, _RECORD_FIELDS, _RECORD_REQUIRED, "", p)
    if "channel" in data and not _one_of(data["channel"], CHANNELS, "channel", "channel", p):
        del data["channel"]
    if "action" in data and not _one_of(data["action"], ACTIONS, "action", "action", p):
        del data["action"]
    at = _instant(data["at"], "at", p) if "at" in data else None
    p.check()
    try:
        return ContactRecord(
            at=at,  # type: ignore[arg-type]
            channel=data["channel"],
            action=data["action"],
            person_id=data["person_id"],
            debt_id=data["debt_id"],
            address=data.get("address"),
            reached=data.get("reached", True),
            answered=data.get("answered"),
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
