"""Packs load strictly: the shipped ones are complete; every mistake names file, line and reason."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from arrears.policy import PolicyError, available_packs, load_pack, load_pack_text
from arrears.policy.model import (
    CONFIDENCES,
    RULE_KINDS,
    CapParams,
    CooldownParams,
    HoursParams,
)

GOOD = """\
name: test
version: 2
effective: 2026-01-01
title: {en: Test, zh: 测试}
rules:
  - id: t.hours
    kind: contact_hours
    description: {en: Hours, zh: 时间}
    citation: {law: Test Act, article: "s. 1"}
    confidence: H
    applies_to: {channels: [voice, sms]}
    params:
      windows:
        - {start: "08:00", end: "21:00"}
  - id: t.cap
    kind: rolling_cap
    description: {en: Cap, zh: 上限}
    citation:
      - {law: Test Act, article: "s. 2"}
    confidence: M
    params:
      max: 7
      window: {days: 7}
      per: [person, debt]
"""


def _error(text: str) -> str:
    with pytest.raises(PolicyError) as info:
        load_pack_text(text, source="p.yaml")
    assert info.value.code == "policy-invalid"
    return info.value.message


def test_the_shipped_packs_load_and_carry_citations_and_confidence() -> None:
    assert set(available_packs()) == {"cn", "us-regf", "default"}
    for name in available_packs():
        pack = load_pack(name)
        assert pack.name == name and pack.version >= 1
        assert isinstance(pack.effective, date)
        assert pack.title_en and pack.title_zh
        for rule in pack.rules:
            assert rule.kind in RULE_KINDS
            assert rule.citations and all(c.law and c.article for c in rule.citations)
            assert rule.confidence in CONFIDENCES
            assert rule.description_en and rule.description_zh
        assert pack.in_force(datetime.fromisoformat("2026-03-10T00:00:00+00:00"))


def test_shipped_values_match_rules_md() -> None:
    regf, cn = load_pack("us-regf"), load_pack("cn")
    hours = regf.rule("regf.inconvenient-time").params
    assert isinstance(hours, HoursParams)
    assert (hours.windows[0].start, hours.windows[0].end) == (8 * 3600, 21 * 3600)
    freq = regf.rule("regf.call-frequency").params
    assert isinstance(freq, CapParams)
    assert (freq.max, freq.window_days, freq.per) == (7, 7, frozenset({"person", "debt"}))
    cool = regf.rule("regf.after-conversation").params
    assert isinstance(cool, CooldownParams) and cool.window_days == 7
    cn_hours = cn.rule("cn.hours").params
    assert isinstance(cn_hours, HoursParams) and cn_hours.windows[0].end == 22 * 3600
    daily = cn.rule("cn.connected-calls-daily").params
    assert isinstance(daily, CapParams) and (daily.max, daily.count) == (3, "connected")
    attempts = cn.rule("cn.attempts-per-number-daily").params
    assert isinstance(attempts, CapParams) and (attempts.max, attempts.per) == (
        6,
        frozenset({"address"}),
    )


def test_a_good_document_becomes_the_expected_pack() -> None:
    pack = load_pack_text(GOOD)
    assert (pack.name, pack.version, pack.effective) == ("test", 2, date(2026, 1, 1))
    assert [r.id for r in pack.rules] == ["t.hours", "t.cap"]
    assert pack.rules[0].citation == "Test Act, s. 1"
    assert pack.rules[0].applies.channels == frozenset({"voice", "sms"})
    assert pack.rules[1].line == 15


def test_load_pack_reads_a_file_and_refuses_unknown_names(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert load_pack(path).name == "test"
    assert load_pack(str(path)).source == "mine.yaml"
    with pytest.raises(PolicyError, match="not a shipped pack"):
        load_pack("uk-conc")


MISTAKES = [
    # (replace this, with that, expected "line: message" fragment)
    ("version: 2", "version: 2\nowner: me", "p.yaml:3: unknown key 'owner'"),
    ("kind: contact_hours", "kind: contact_hourz", "p.yaml:7: rule 't.hours': kind: unknown kind"),
    ('start: "08:00"', "start: 8:00", "p.yaml:14: rule 't.hours': params: windows #1: start"),
    (
        'end: "21:00"',
        "end: 21:00",
        "p.yaml:14: rule 't.hours': params: windows #1: end: quote times",
    ),
    ('end: "21:00"', 'end: "07:00"', "p.yaml:14: rule 't.hours': params: windows #1: start must"),
    ('end: "21:00"', 'end: "25:00"', "expected a time 'HH:MM'"),
    ("max: 7", "max: 0", "p.yaml:22: rule 't.cap': params: max: must be between 1 and 10000"),
    ("max: 7", "max: seven", "p.yaml:22: rule 't.cap': params: max: expected an integer"),
    ("max: 7", "max: 7\n      limit: 3", "p.yaml:23: rule 't.cap': params: unknown key 'limit'"),
    ("window: {days: 7}", "window: {days: 7, hours: 3}", "give exactly one of days or hours"),
    ("per: [person, debt]", "per: [channel]", "must include person, debt or address"),
    ("per: [person, debt]", "per: [persons]", "unknown key 'persons'"),
    ("confidence: M", "confidence: high", "p.yaml:20: rule 't.cap': confidence: unknown level"),
    ("[voice, sms]", "[voice, fax]", "p.yaml:11: rule 't.hours': applies_to: channels"),
    ("[voice, sms]", "[]", "an empty list would match nothing"),
    (
        "{en: Hours, zh: 时间}",
        "{en: Hours}",
        "p.yaml:8: rule 't.hours': description: missing key 'zh'",
    ),
    ("id: t.cap", "id: t.hours", "p.yaml:15: rule 't.hours': duplicate rule id"),
    ("id: t.cap", "id: T Cap", "ids are lower-case"),
    ("effective: 2026-01-01", "effective: soon", "p.yaml:3: effective: expected a date"),
    ('{law: Test Act, article: "s. 1"}', "{law: Test Act}", "missing key 'article'"),
    ("    params:\n      max", "    parameters:\n      max", "unknown key 'parameters'"),
    ("title: {en: Test, zh: 测试}", "title: [Test]", "p.yaml:4: title: expected a mapping"),
    ("rules:\n", "rules: []\nx:\n", "unknown key 'x'"),
]


@pytest.mark.parametrize(("old", "new", "expected"), MISTAKES)
def test_each_mistake_is_reported_with_line_and_reason(old: str, new: str, expected: str) -> None:
    assert old in GOOD
    assert expected in _error(GOOD.replace(old, new, 1))


def test_an_unquoted_time_with_a_leading_zero_is_still_a_string_and_loads() -> None:
    pack = load_pack_text(GOOD.replace('start: "08:00"', "start: 08:00"))
    params = pack.rules[0].params
    assert isinstance(params, HoursParams) and params.windows[0].start == 8 * 3600


def test_kind_specific_mistakes() -> None:
    head = GOOD.split("rules:")[0] + "rules:\n"
    rule = (
        "  - id: t.x\n    kind: {kind}\n    description: {{en: x, zh: x}}\n"
        "    citation: {{law: L, article: A}}\n    confidence: L\n"
    )
    p = "    params:\n"
    cases = {
        "holds": (
            p + "      kinds:\n        vacation: {channels: all, actions: all}\n",
            "p.yaml:13: rule 't.x': params: kinds: unknown hold kind 'vacation'",
        ),
        "parties": (p + "      allowed:\n        neighbour: [locate]\n", "unknown party"),
        "forbidden_content": (
            p + "      categories:\n        - id: c\n"
            "          description: {en: c, zh: c}\n          patterns: ['(unclosed']\n",
            "p.yaml:15: rule 't.x': params: categories #1: patterns: bad regular expression",
        ),
        "required_content": (
            p + "      elements:\n        - id: e\n          description: {en: e, zh: e}\n",
            "an element needs patterns, a fact, or both",
        ),
        "quiet_days": (p + "      holidays: false\n", "must respect holidays or name"),
        "cooldown": (
            p + "      after: talks\n      window: {days: 7}\n      per: [person]\n",
            "unknown event 'talks'",
        ),
        "contact_hours": ("", "p.yaml:6: rule 't.x': missing key 'params' (kind contact_hours)"),
        "not_at_work": (p + "      strict: true\n", "unknown key 'strict' (allowed: none)"),
        "cease": (p + "      exempt_purposes: [chat]\n", "unknown purpose 'chat'"),
        "visitors": (p + "      min: 0\n", "rule 't.x': params: min: must be between 1 and 20"),
    }
    for kind, (params, expected) in cases.items():
        message = _error(head + rule.format(kind=kind) + params)
        assert expected in message, (kind, message)


def test_not_yaml_and_empty() -> None:
    assert _error("name: [unclosed\n").startswith("p.yaml:2: not valid YAML")
    assert _error("") == "p.yaml:1: empty document"


CONSENT_MISTAKES = [
    # consent keys belong to time rules only, and a lifetime needs the exemption itself
    ("per: [person, debt]", "per: [person, debt]\n      consent_max_days: 7", "only meaningful"),
    (
        "per: [person, debt]",
        "per: [person, debt]\n      exempt_consented: yes please",
        "exempt_consented: expected true or false",
    ),
    (
        "per: [person, debt]",
        "per: [person, debt]\n      exempt_consented: true\n      consent_max_days: 0",
        "consent_max_days: must be between 1",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), CONSENT_MISTAKES)
def test_consent_keys_are_checked(old: str, new: str, expected: str) -> None:
    assert expected in _error(GOOD.replace(old, new, 1))


def test_consent_keys_load_on_time_rules_and_are_refused_elsewhere() -> None:
    pack = load_pack_text(
        GOOD.replace(
            "per: [person, debt]",
            "per: [person, debt]\n      exempt_consented: true\n      consent_max_days: 7",
        )
    )
    cap = pack.rule("t.cap")
    assert (cap.consent_exempt, cap.consent_max_days) == (True, 7)
    assert not pack.rule("t.hours").consent_exempt
    head = GOOD.split("rules:")[0] + "rules:\n"
    visit = (
        "  - id: t.v\n    kind: visitors\n    description: {en: x, zh: x}\n"
        "    citation: {law: L, article: A}\n    confidence: L\n"
        "    params:\n      min: 2\n      exempt_consented: true\n"
    )
    assert "unknown key 'exempt_consented' (allowed: min)" in _error(head + visit)


def test_shipped_consent_and_visit_rules() -> None:
    regf, cn, default = load_pack("us-regf"), load_pack("cn"), load_pack("default")
    exempt = {
        pack.name: {(r.id, r.consent_max_days) for r in pack.rules if r.consent_exempt}
        for pack in (regf, cn, default)
    }
    assert exempt == {
        "us-regf": {
            ("regf.inconvenient-time", None),
            ("regf.call-frequency", 7),
            ("regf.after-conversation", 7),
        },
        "cn": {("cn.hours", None)},
        "default": set(),  # the stricter house pack lifts nothing
    }
    for pack in (cn, default):
        rule = next(r for r in pack.rules if r.kind == "visitors")
        assert rule.params.min == 2 and rule.applies.channels == {"visit"}  # type: ignore[union-attr]
