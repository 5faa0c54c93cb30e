"""Load a policy pack from YAML, strictly: every mistake is rejected with the file, line and reason.

Like ``arrears.strategy.loader`` the document is walked as a ``yaml.compose`` node tree so each
error points at the offending node, e.g. ``cn.yaml:41: rule 'cn.hours': params: windows #1: end:
quote times, e.g. '21:00' (YAML reads 21:00 as the number 1260)``. Unknown keys, unknown kinds,
channels or parties, malformed regular expressions and impossible numbers are all refused: a
compliance officer editing a pack must never get a rule that silently matches nothing.

Shipped packs live in ``arrears/policy/packs/<name>.yaml``; ``load_pack`` takes such a name or a
path to any pack file.
"""

from __future__ import annotations

import os
import re
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path

import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the venv

from arrears.policy.content import (
    MAX_PATTERN_CHARS,
    PatternError,
    compact,
    compile_pattern,
    keyword_patterns,
    normalise,
)
from arrears.policy.model import (
    ACTIONS,
    CHANNELS,
    CONFIDENCES,
    COUNT_MODES,
    HOLD_KINDS,
    PARTIES,
    PER_KEYS,
    PURPOSES,
    RULE_KINDS,
    TIME_KINDS,
    WEEKDAYS,
    CapParams,
    Category,
    Citation,
    CooldownParams,
    Element,
    ExemptParams,
    ForbiddenParams,
    HoldsParams,
    HoldStop,
    HoursParams,
    IntervalParams,
    NoParams,
    Pack,
    Params,
    PartiesParams,
    PolicyError,
    QuietDaysParams,
    RequiredParams,
    Rule,
    SafePattern,
    Selector,
    VisitorsParams,
    Window,
)
from arrears.yamldoc import INT, STR, StrictDoc, shown

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_TIME = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")
_ID = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")
_MAX_WINDOW_DAYS = 3660
_MAX_WINDOW_HOURS = 24 * 366
_CONSENT_KEYS = ("exempt_consented", "consent_max_days")


class _Doc(StrictDoc):
    """The shared strict readers, raising ``PolicyError``, plus the pack's own."""

    error = PolicyError

    def free_mapping(self, node: yaml.Node, where: str) -> list[tuple[yaml.Node, yaml.Node]]:
        """A mapping whose keys are data (e.g. party names), checked by the caller."""
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, where, f"expected a mapping, got {shown(node)}")
        seen: set[str] = set()
        for key, _value in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag != STR:
                raise self.fail(key, where, "keys must be strings")
            if key.value in seen:
                raise self.fail(key, where, f"duplicate key {key.value!r}")
            seen.add(key.value)
        return list(node.value)

    def integer(self, node: yaml.Node, where: str, low: int, high: int) -> int:
        value = self.whole_number(node, where)
        if not low <= int(value) <= high:
            raise self.fail(node, where, f"must be between {low} and {high}, got {value}")
        return int(value)

    def choice(self, node: yaml.Node, where: str, allowed: frozenset[str], what: str) -> str:
        value = self.string(node, where)
        if value not in allowed:
            raise self.fail(
                node, where, f"unknown {what} {value!r} (allowed: {', '.join(sorted(allowed))})"
            )
        return value

    def choices(
        self, node: yaml.Node, where: str, allowed: frozenset[str], what: str
    ) -> frozenset[str]:
        items = self.sequence(node, where)
        values = [self.choice(item, where, allowed, what) for item in items]
        for item, value in zip(items, values, strict=True):
            if values.count(value) > 1:
                raise self.fail(item, where, f"{what} {value!r} listed twice")
        return frozenset(values)

    def all_or_choices(
        self, node: yaml.Node, where: str, allowed: frozenset[str], what: str
    ) -> frozenset[str] | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == STR and node.value == "all":
            return None
        return self.choices(node, where, allowed, what)

    def text_pair(self, node: yaml.Node, where: str) -> tuple[str, str]:
        fields = self.mapping(node, where, {"en", "zh"})
        return self.string(fields["en"], f"{where}: en"), self.string(fields["zh"], f"{where}: zh")

    def regex(self, node: yaml.Node, where: str) -> SafePattern:
        """A content pattern, compiled so that no message can make it backtrack for ever."""
        text = self.string(node, where, max_chars=MAX_PATTERN_CHARS)
        try:
            return compile_pattern(text)
        except PatternError as exc:
            raise self.fail(node, where, str(exc)) from exc

    def regexes(self, node: yaml.Node | None, where: str) -> tuple[SafePattern, ...]:
        if node is None:
            return ()
        return tuple(self.regex(item, where) for item in self.sequence(node, where))

    def strings(self, node: yaml.Node | None, where: str) -> tuple[str, ...]:
        if node is None:
            return ()
        return tuple(self.string(item, where) for item in self.sequence(node, where))


# --------------------------------------------------------------------------- per-kind params


def _clock(doc: _Doc, node: yaml.Node, where: str) -> int:
    if isinstance(node, yaml.ScalarNode) and node.tag == INT and ":" in node.value:
        raise doc.fail(
            node, where, f"quote times, e.g. '{node.value}' (YAML reads {node.value} as a number)"
        )
    text = doc.string(node, where)
    match = _TIME.match(text)
    if match is None or (match.group(1) == "24" and match.group(2) != "00"):
        raise doc.fail(node, where, f"expected a time 'HH:MM' from 00:00 to 24:00, got {text!r}")
    return int(match.group(1)) * 3600 + int(match.group(2)) * 60


def _weekdays(doc: _Doc, node: yaml.Node, where: str) -> frozenset[int]:
    names = doc.choices(node, where, frozenset(WEEKDAYS), "weekday")
    return frozenset(WEEKDAYS.index(n) + 1 for n in names)


def _hours(doc: _Doc, node: yaml.Node, where: str) -> HoursParams:
    fields = doc.mapping(node, where, {"windows"})
    items = doc.sequence(fields["windows"], f"{where}: windows")
    if not items:
        raise doc.fail(fields["windows"], f"{where}: windows", "at least one window is needed")
    windows: list[Window] = []
    for i, item in enumerate(items):
        w = f"{where}: windows #{i + 1}"
        spec = doc.mapping(item, w, {"start", "end"}, {"days"})
        start = _clock(doc, spec["start"], f"{w}: start")
        end = _clock(doc, spec["end"], f"{w}: end")
        if not start < end:
            raise doc.fail(item, w, "start must be before end (windows cannot cross midnight)")
        days = _weekdays(doc, spec["days"], f"{w}: days") if "days" in spec else None
        windows.append(Window(start, end, days if days is not None else frozenset(range(1, 8))))
    return HoursParams(tuple(windows))


def _quiet(doc: _Doc, node: yaml.Node, where: str) -> QuietDaysParams:
    fields = doc.mapping(node, where, {"holidays"}, {"weekdays"})
    holidays = doc.boolean(fields["holidays"], f"{where}: holidays")
    days = (
        _weekdays(doc, fields["weekdays"], f"{where}: weekdays")
        if "weekdays" in fields
        else frozenset()
    )
    if not holidays and not days:
        raise doc.fail(node, where, "a quiet_days rule must respect holidays or name weekdays")
    if len(days) == 7:
        raise doc.fail(fields["weekdays"], f"{where}: weekdays", "every day cannot be quiet")
    return QuietDaysParams(holidays, days)


def _window(
    doc: _Doc, node: yaml.Node, where: str, *, days_only: bool = False
) -> tuple[int | None, int | None]:
    fields = doc.mapping(node, where, set(), {"days"} if days_only else {"days", "hours"})
    if len(fields) != 1:
        raise doc.fail(node, where, "give exactly one of days or hours")
    if "days" in fields:
        return doc.integer(fields["days"], f"{where}: days", 1, _MAX_WINDOW_DAYS), None
    return None, doc.integer(fields["hours"], f"{where}: hours", 1, _MAX_WINDOW_HOURS)


def _per(doc: _Doc, node: yaml.Node, where: str) -> frozenset[str]:
    per = doc.choices(node, where, PER_KEYS, "key")
    if not per & {"person", "debt", "address"}:
        raise doc.fail(node, where, "must include person, debt or address (a cap is per someone)")
    return per


def _cap(doc: _Doc, node: yaml.Node, where: str, *, daily: bool) -> CapParams:
    optional = {"count", "exclude_consented"} | (set() if daily else {"window"})
    required = {"max", "per"} | (set() if daily else {"window"})
    fields = doc.mapping(node, where, required, optional - required)
    days, hours = (1, None) if daily else _window(doc, fields["window"], f"{where}: window")
    count = "attempts"
    if "count" in fields:
        count = doc.choice(fields["count"], f"{where}: count", COUNT_MODES, "count")
    consented = False
    if "exclude_consented" in fields:
        consented = doc.boolean(fields["exclude_consented"], f"{where}: exclude_consented")
    return CapParams(
        max=doc.integer(fields["max"], f"{where}: max", 1, 10_000),
        per=_per(doc, fields["per"], f"{where}: per"),
        count=count,
        window_days=days,
        window_hours=hours,
        exclude_consented=consented,
    )


def _cooldown(doc: _Doc, node: yaml.Node, where: str) -> CooldownParams:
    fields = doc.mapping(node, where, {"after", "window", "per"})
    days, hours = _window(doc, fields["window"], f"{where}: window")
    return CooldownParams(
        after=doc.choice(fields["after"], f"{where}: after", COUNT_MODES, "event"),
        per=_per(doc, fields["per"], f"{where}: per"),
        window_days=days,
        window_hours=hours,
    )


def _interval(doc: _Doc, node: yaml.Node, where: str) -> IntervalParams:
    fields = doc.mapping(node, where, {"minutes", "per"}, {"count"})
    count = "attempts"
    if "count" in fields:
        count = doc.choice(fields["count"], f"{where}: count", COUNT_MODES, "count")
    return IntervalParams(
        minutes=doc.integer(fields["minutes"], f"{where}: minutes", 1, 60 * 24 * 31),
        per=_per(doc, fields["per"], f"{where}: per"),
        count=count,
    )


def _parties(doc: _Doc, node: yaml.Node, where: str) -> PartiesParams:
    fields = doc.mapping(node, where, {"allowed"}, {"locate_requires_unreachable"})
    allowed: dict[str, frozenset[str]] = {}
    for key, value in doc.free_mapping(fields["allowed"], f"{where}: allowed"):
        party = doc.choice(key, f"{where}: allowed", PARTIES, "party")
        allowed[party] = doc.choices(value, f"{where}: allowed: {party}", PURPOSES, "purpose")
    requires = True
    if "locate_requires_unreachable" in fields:
        requires = doc.boolean(
            fields["locate_requires_unreachable"], f"{where}: locate_requires_unreachable"
        )
    return PartiesParams(allowed, requires)


def _exempt(doc: _Doc, node: yaml.Node | None, where: str) -> ExemptParams:
    if node is None:
        return ExemptParams()
    fields = doc.mapping(node, where, set(), {"exempt_purposes"})
    if "exempt_purposes" not in fields:
        return ExemptParams()
    return ExemptParams(
        doc.choices(fields["exempt_purposes"], f"{where}: exempt_purposes", PURPOSES, "purpose")
    )


def _holds(doc: _Doc, node: yaml.Node, where: str) -> HoldsParams:
    fields = doc.mapping(node, where, {"kinds"})
    kinds: dict[str, HoldStop] = {}
    for key, value in doc.free_mapping(fields["kinds"], f"{where}: kinds"):
        kind = doc.choice(key, f"{where}: kinds", HOLD_KINDS, "hold kind")
        w = f"{where}: kinds: {kind}"
        spec = doc.mapping(value, w, {"channels", "actions"}, {"exempt_purposes"})
        exempt: frozenset[str] = frozenset()
        if "exempt_purposes" in spec:
            exempt = doc.choices(spec["exempt_purposes"], f"{w}: exempt_purposes", PURPOSES, "p")
        kinds[kind] = HoldStop(
            channels=doc.all_or_choices(spec["channels"], f"{w}: channels", CHANNELS, "channel"),
            actions=doc.all_or_choices(spec["actions"], f"{w}: actions", ACTIONS, "action"),
            exempt_purposes=exempt,
        )
    return HoldsParams(kinds)


def _required(doc: _Doc, node: yaml.Node, where: str) -> RequiredParams:
    fields = doc.mapping(node, where, {"elements"}, {"missing_text"})
    elements: list[Element] = []
    for i, item in enumerate(doc.sequence(fields["elements"], f"{where}: elements")):
        w = f"{where}: elements #{i + 1}"
        spec = doc.mapping(item, w, {"id", "description"}, {"patterns", "fact"})
        element_id = doc.name(spec["id"], f"{w}: id")
        en, zh = doc.text_pair(spec["description"], f"{w}: description")
        patterns = doc.regexes(spec.get("patterns"), f"{w}: patterns")
        fact = doc.name(spec["fact"], f"{w}: fact") if "fact" in spec else None
        if not patterns and fact is None:
            raise doc.fail(item, w, "an element needs patterns, a fact, or both")
        if any(e.id == element_id for e in elements):
            raise doc.fail(spec["id"], f"{w}: id", f"duplicate element {element_id!r}")
        elements.append(Element(element_id, en, zh, patterns, fact))
    if not elements:
        raise doc.fail(fields["elements"], f"{where}: elements", "at least one element is needed")
    missing_text = "skip"
    if "missing_text" in fields:
        missing_text = doc.choice(
            fields["missing_text"], f"{where}: missing_text", frozenset({"skip", "deny"}), "mode"
        )
    return RequiredParams(tuple(elements), "deny" if missing_text == "deny" else "skip")


def _forbidden(doc: _Doc, node: yaml.Node, where: str) -> ForbiddenParams:
    fields = doc.mapping(node, where, {"categories"})
    categories: list[Category] = []
    for i, item in enumerate(doc.sequence(fields["categories"], f"{where}: categories")):
        w = f"{where}: categories #{i + 1}"
        spec = doc.mapping(
            item, w, {"id", "description"}, {"keywords", "patterns", "allow", "except_facts"}
        )
        category_id = doc.name(spec["id"], f"{w}: id")
        en, zh = doc.text_pair(spec["description"], f"{w}: description")
        keywords = doc.strings(spec.get("keywords"), f"{w}: keywords")
        patterns = doc.regexes(spec.get("patterns"), f"{w}: patterns")
        if not keywords and not patterns:
            raise doc.fail(item, w, "a category needs keywords or patterns")
        for kw_node, kw in zip(spec["keywords"].value if keywords else [], keywords, strict=True):
            if not compact(normalise(kw)):
                raise doc.fail(
                    kw_node, f"{w}: keywords", f"keyword {kw!r} is empty when normalised"
                )
        latin, cjk = keyword_patterns(keywords)
        allow = tuple(normalise(a) for a in doc.strings(spec.get("allow"), f"{w}: allow"))
        if any(c.id == category_id for c in categories):
            raise doc.fail(spec["id"], f"{w}: id", f"duplicate category {category_id!r}")
        categories.append(
            Category(
                id=category_id,
                description_en=en,
                description_zh=zh,
                keywords=latin,
                compact_keywords=cjk,
                patterns=patterns,
                allow=allow,
                except_facts=doc.strings(spec.get("except_facts"), f"{w}: except_facts"),
            )
        )
    if not categories:
        raise doc.fail(fields["categories"], f"{where}: categories", "at least one is needed")
    return ForbiddenParams(tuple(categories))


def _visitors(doc: _Doc, node: yaml.Node, where: str) -> VisitorsParams:
    fields = doc.mapping(node, where, {"min"})
    return VisitorsParams(doc.integer(fields["min"], f"{where}: min", 1, 20))


def _consent(
    doc: _Doc, node: yaml.Node | None, where: str
) -> tuple[yaml.Node | None, bool, int | None]:
    """Take a time rule's consent keys out of its params: ``exempt_consented: true`` (a
    consented request is not restricted by the rule) and ``consent_max_days: N`` (how long a
    consent lasts). Returns the params without them, and their values."""
    if not isinstance(node, yaml.MappingNode):
        return node, False, None
    rest: list[tuple[yaml.Node, yaml.Node]] = []
    found: dict[str, yaml.Node] = {}
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value in _CONSENT_KEYS:
            if key.value in found:
                raise doc.fail(key, where, f"duplicate key {key.value!r}")
            found[key.value] = value
        else:
            rest.append((key, value))
    exempt = False
    if "exempt_consented" in found:
        exempt = doc.boolean(found["exempt_consented"], f"{where}: exempt_consented")
    max_days = None
    if "consent_max_days" in found:
        max_days = doc.integer(
            found["consent_max_days"], f"{where}: consent_max_days", 1, _MAX_WINDOW_DAYS
        )
        if not exempt:
            raise doc.fail(
                found["consent_max_days"],
                f"{where}: consent_max_days",
                "only meaningful with exempt_consented: true",
            )
    stripped = yaml.MappingNode(node.tag, rest, node.start_mark, node.end_mark, node.flow_style)
    return stripped, exempt, max_days


def _params(doc: _Doc, kind: str, node: yaml.Node | None, where: str, rule: yaml.Node) -> Params:
    if kind in {"not_at_work"}:
        if node is not None:
            doc.mapping(node, where, set())
        return NoParams()
    if kind in {"opt_out", "cease"}:
        return _exempt(doc, node, where)
    if node is None:
        raise doc.fail(rule, where.rsplit(":", 1)[0], f"missing key 'params' (kind {kind})")
    match kind:
        case "contact_hours":
            return _hours(doc, node, where)
        case "quiet_days":
            return _quiet(doc, node, where)
        case "rolling_cap":
            return _cap(doc, node, where, daily=False)
        case "daily_cap":
            return _cap(doc, node, where, daily=True)
        case "cooldown":
            return _cooldown(doc, node, where)
        case "min_interval":
            return _interval(doc, node, where)
        case "parties":
            return _parties(doc, node, where)
        case "holds":
            return _holds(doc, node, where)
        case "required_content":
            return _required(doc, node, where)
        case "forbidden_content":
            return _forbidden(doc, node, where)
        case "visitors":
            return _visitors(doc, node, where)
    raise doc.fail(node, where, f"no parameters defined for kind {kind!r}")  # pragma: no cover


# ------------------------------------------------------------------------------ rules and pack


def _citations(doc: _Doc, node: yaml.Node, where: str) -> tuple[Citation, ...]:
    items = [node] if isinstance(node, yaml.MappingNode) else doc.sequence(node, where)
    if not items:
        raise doc.fail(node, where, "at least one citation is needed")
    out: list[Citation] = []
    for item in items:
        fields = doc.mapping(item, where, {"law", "article"})
        out.append(
            Citation(
                doc.string(fields["law"], f"{where}: law"),
                doc.string(fields["article"], f"{where}: article"),
            )
        )
    return tuple(out)


def _selector(doc: _Doc, node: yaml.Node | None, where: str) -> Selector:
    if node is None:
        return Selector()
    fields = doc.mapping(node, where, set(), {"channels", "actions", "parties", "purposes"})

    def pick(key: str, allowed: frozenset[str]) -> frozenset[str] | None:
        if key not in fields:
            return None
        values = doc.choices(fields[key], f"{where}: {key}", allowed, key[:-1])
        if not values:
            raise doc.fail(fields[key], f"{where}: {key}", "an empty list would match nothing")
        return values

    return Selector(
        channels=pick("channels", CHANNELS),
        actions=pick("actions", ACTIONS),
        parties=pick("parties", PARTIES),
        purposes=pick("purposes", PURPOSES),
    )


def _rule(doc: _Doc, node: yaml.Node, index: int) -> Rule:
    fields = doc.mapping(
        node,
        f"rule #{index + 1}",
        {"id", "kind", "description", "citation", "confidence"},
        {"applies_to", "params"},
    )
    rule_id = doc.name(fields["id"], f"rule #{index + 1}: id")
    if not _ID.match(rule_id):
        raise doc.fail(fields["id"], f"rule #{index + 1}: id", f"ids are lower-case: {rule_id!r}")
    where = f"rule {rule_id!r}"
    kind = doc.choice(fields["kind"], f"{where}: kind", RULE_KINDS, "kind")
    en, zh = doc.text_pair(fields["description"], f"{where}: description")
    citations = _citations(doc, fields["citation"], f"{where}: citation")
    confidence = doc.choice(fields["confidence"], f"{where}: confidence", CONFIDENCES, "level")
    applies = _selector(doc, fields.get("applies_to"), f"{where}: applies_to")
    params_node = fields.get("params")
    exempt, max_days = False, None
    if kind in TIME_KINDS:
        params_node, exempt, max_days = _consent(doc, params_node, f"{where}: params")
    params = _params(doc, kind, params_node, f"{where}: params", node)
    return Rule(
        id=rule_id,
        kind=kind,
        description_en=en,
        description_zh=zh,
        citations=citations,
        confidence=confidence,
        applies=applies,
        params=params,
        line=node.start_mark.line + 1,
        consent_exempt=exempt,
        consent_max_days=max_days,
    )


def _effective(doc: _Doc, node: yaml.Node) -> date:
    if not isinstance(node, yaml.ScalarNode) or node.tag not in {_TIMESTAMP, STR}:
        raise doc.fail(node, "effective", f"expected a date YYYY-MM-DD, got {shown(node)}")
    try:
        return date.fromisoformat(str(node.value))
    except ValueError as exc:
        raise doc.fail(
            node, "effective", f"expected a date YYYY-MM-DD, got {node.value!r}"
        ) from exc


def load_pack_text(text: str, *, source: str = "<string>") -> Pack:
    """Parse and validate one pack document; raise ``PolicyError`` at the first mistake."""
    doc = _Doc(source)
    root = doc.root(text)
    fields = doc.mapping(
        root, "", {"name", "version", "effective", "title", "rules"}, {"horizon_days"}
    )
    name = doc.name(fields["name"], "name")
    if not _ID.match(name):
        raise doc.fail(fields["name"], "name", f"pack names are lower-case: {name!r}")
    version = doc.integer(fields["version"], "version", 1, 1_000_000)
    effective = _effective(doc, fields["effective"])
    title_en, title_zh = doc.text_pair(fields["title"], "title")
    horizon = 31
    if "horizon_days" in fields:
        horizon = doc.integer(fields["horizon_days"], "horizon_days", 1, 366)
    rules: list[Rule] = []
    for index, item in enumerate(doc.sequence(fields["rules"], "rules")):
        rule = _rule(doc, item, index)
        if any(r.id == rule.id for r in rules):
            raise doc.fail(item, f"rule {rule.id!r}", "duplicate rule id")
        rules.append(rule)
    if not rules:
        raise doc.fail(fields["rules"], "rules", "a pack needs at least one rule")
    return Pack(name, version, effective, title_en, title_zh, tuple(rules), horizon, source)


def available_packs() -> tuple[str, ...]:
    """Names of the packs shipped in ``arrears/policy/packs``."""
    folder = resources.files("arrears.policy").joinpath("packs")
    return tuple(
        sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))
    )


@cache
def _shipped(name: str) -> Pack:
    text = resources.files("arrears.policy").joinpath("packs", f"{name}.yaml").read_text("utf-8")
    return load_pack_text(text, source=f"{name}.yaml")


def load_pack(name_or_path: str | os.PathLike[str]) -> Pack:
    """A shipped pack by name (``cn``, ``us-regf``, ``default``) or any pack file by path."""
    if isinstance(name_or_path, str) and name_or_path in available_packs():
        return _shipped(name_or_path)
    path = Path(name_or_path)
    if not path.is_file():
        shipped = ", ".join(available_packs())
        raise PolicyError(f"no pack {str(name_or_path)!r}: not a shipped pack ({shipped}) or file")
    return load_pack_text(_Doc(path.name).read(path), source=path.name)
