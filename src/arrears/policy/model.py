"""Frozen value types of the compliance gate: packs and rules, requests, history, decisions.

A ``Pack`` is pure data built by ``arrears.policy.loader`` from YAML (which validates it with line
numbers); ``arrears.policy.gate`` reads it. Requests and history records check their own fields on
construction, because a request the gate cannot understand must fail loudly at the caller, while a
request the pack forbids is a normal ``Decision`` (deny or defer), never an exception.

Vocabulary (closed sets, so a typo can never silently match nothing):

* channel — the medium: ``voice``, ``sms``, ``email``, ``letter``, ``in_app``, ``visit``;
* action — what is done on it: ``call`` / ``voicemail`` / ``robocall`` (voice), ``sms``,
  ``email``, ``letter``, ``in_app``, ``visit``; a voicemail is its own action because its content
  is regulated differently (a Reg F limited-content message), while a call that reached a mailbox
  is a ``call``; a ``robocall`` (an automated, pre-recorded call the system places) is its own
  action so a pack can cap it apart from a collector's calls — rules about the ``voice`` channel
  still count and restrict it;
* party — who is contacted: ``borrower``, ``guarantor``, ``emergency_contact``, ``third_party``;
* purpose — why: ``collect`` (about the debt), ``locate`` (find the borrower, never mention the
  debt), ``notice`` (a notice the law or a hold still allows, e.g. a complaint acknowledgement),
  ``service`` (a reply the person has just asked for themself, such as a portal sign-in code,
  which says nothing about any debt). A rule without ``purposes`` covers the three contact
  purposes; it covers ``service`` only when it names it, because a sign-in code sent at 23:00 at
  the borrower's own request is not a collection contact (and a hold must not lock them out of
  the portal where they complain).

A request may carry the person's **prior consent** (``Consent``: who agreed, when, to which
window — "call me back Monday"); rules marked ``exempt_consented`` in the pack let such a request
through inside the window, and only for the person who consented. A visit request carries its
``visitors`` (the collectors going), which the ``visitors`` rule counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from arrears.kernel.errors import ArrearsError

ACTIONS_BY_CHANNEL: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "voice": frozenset({"call", "voicemail", "robocall"}),
        "sms": frozenset({"sms"}),
        "email": frozenset({"email"}),
        "letter": frozenset({"letter"}),
        "in_app": frozenset({"in_app"}),
        "visit": frozenset({"visit"}),
    }
)
"""Which actions each channel carries; a request pairing them otherwise is refused."""

CHANNELS: Final[frozenset[str]] = frozenset(ACTIONS_BY_CHANNEL)
ACTIONS: Final[frozenset[str]] = frozenset().union(*ACTIONS_BY_CHANNEL.values())
PARTIES: Final[frozenset[str]] = frozenset(
    {"borrower", "guarantor", "emergency_contact", "third_party"}
)
PURPOSES: Final[frozenset[str]] = frozenset({"collect", "locate", "notice", "service"})
#: The purposes a rule without ``purposes`` covers: every purpose that is a contact.
CONTACT_PURPOSES: Final[frozenset[str]] = frozenset({"collect", "locate", "notice"})
HOLD_KINDS: Final[frozenset[str]] = frozenset(
    {"complaint", "dispute", "hardship", "deceased", "legal", "plan_request"}
)
HOLD_SCOPES: Final[frozenset[str]] = frozenset({"borrower", "loan"})
CONFIDENCES: Final[frozenset[str]] = frozenset({"H", "M", "L"})

COUNT_MODES: Final[frozenset[str]] = frozenset(
    {"attempts", "reached", "connected", "conversations", "communications"}
)
"""What a frequency rule counts in the history: every attempt; attempts that ``reached`` the
number or mailbox dialled (Reg F excludes the others, 1006.14(b)(3)); attempts that
``connected`` with the person (they answered, whatever the collector logged: the CN 接通 count);
telephone ``conversations``; or ``communications`` — contacts that conveyed something (Reg F
1006.2(d), 1006.10(c)): a written or recorded message that reached its address, or a call or
visit that connected with the person, never an unanswered call."""

PER_KEYS: Final[frozenset[str]] = frozenset({"person", "debt", "address", "channel"})
"""How history is grouped for a frequency rule: a record counts when it matches the request on
every listed key (``address`` is the number or mailbox; ``channel`` the medium)."""

WEEKDAYS: Final[tuple[str, ...]] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Outcome = Literal["allow", "deny", "defer"]
Effect = Literal["deny", "defer"]


class PolicyError(ArrearsError):
    """A pack, a request or a history record is malformed; the message says where and why.

    Never raised because a contact is forbidden: that is a ``Decision`` with outcome deny/defer.
    """

    code = "policy-invalid"


def _zone(key: str, where: str) -> ZoneInfo:
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PolicyError(f"{where}: unknown time zone {key!r}") from exc


def _member(value: str, allowed: frozenset[str], what: str) -> None:
    if value not in allowed:
        raise PolicyError(f"unknown {what} {value!r} (allowed: {', '.join(sorted(allowed))})")


def _aware(value: datetime, what: str) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise PolicyError(f"{what} must be a timezone-aware datetime, got {value!r}")


# --------------------------------------------------------------------------------------- packs


@dataclass(frozen=True, slots=True)
class Citation:
    """Where a rule comes from: the law or standard and its article/clause."""

    law: str
    article: str

    def __str__(self) -> str:
        return f"{self.law}, {self.article}"


@dataclass(frozen=True, slots=True)
class Selector:
    """Which requests a rule applies to; ``None`` on a field means "any" (for ``purposes``:
    any contact purpose, not ``service``; see the module docstring).

    For frequency rules the same channels/actions select the history records that count, so a
    rule about calls counts calls and restricts calls.
    """

    channels: frozenset[str] | None = None
    actions: frozenset[str] | None = None
    parties: frozenset[str] | None = None
    purposes: frozenset[str] | None = None

    def matches(self, request: ContactRequest) -> bool:
        return (
            (self.channels is None or request.channel in self.channels)
            and (self.actions is None or request.action in self.actions)
            and (self.parties is None or request.party in self.parties)
            and request.purpose in (CONTACT_PURPOSES if self.purposes is None else self.purposes)
        )

    def matches_record(self, record: ContactRecord) -> bool:
        return (self.channels is None or record.channel in self.channels) and (
            self.actions is None or record.action in self.actions
        )


@dataclass(frozen=True, slots=True)
class Window:
    """An allowed local-time window ``[start, end)`` in seconds since local midnight.

    ``weekdays`` holds ISO weekday numbers (1 = Monday … 7 = Sunday) on which it applies.
    """

    start: int
    end: int
    weekdays: frozenset[int] = frozenset(range(1, 8))

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= 86_400:
            raise PolicyError(f"window must satisfy 00:00 <= start < end <= 24:00: {self!r}")


@dataclass(frozen=True, slots=True)
class HoursParams:
    windows: tuple[Window, ...]


@dataclass(frozen=True, slots=True)
class QuietDaysParams:
    holidays: bool
    weekdays: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class CapParams:
    """At most ``max`` counted records in the window; ``window_days`` counts local calendar days
    (the current day is day 1, so 7 means today and the six days before), ``window_hours`` an
    exact elapsed duration. Exactly one of them is set."""

    max: int
    per: frozenset[str]
    count: str = "attempts"
    window_days: int | None = None
    window_hours: int | None = None
    exclude_consented: bool = False


@dataclass(frozen=True, slots=True)
class VisitorsParams:
    """A visit needs at least ``min`` distinct visitors (CBA 2026: two collectors at a door)."""

    min: int


@dataclass(frozen=True, slots=True)
class CooldownParams:
    """No contact for a while after an event (Reg F: 7 days after a telephone conversation, the
    conversation's day being day 1)."""

    after: str
    per: frozenset[str]
    window_days: int | None = None
    window_hours: int | None = None


@dataclass(frozen=True, slots=True)
class IntervalParams:
    """At least ``minutes`` between two counted records (e.g. no two calls minutes apart)."""

    minutes: int
    per: frozenset[str]
    count: str = "attempts"


@dataclass(frozen=True, slots=True)
class PartiesParams:
    """Purposes allowed per party; a party not listed may not be contacted at all."""

    allowed: Mapping[str, frozenset[str]]
    locate_requires_unreachable: bool = True


@dataclass(frozen=True, slots=True)
class ExemptParams:
    """For ``opt_out`` and ``cease``: purposes still allowed (e.g. a notice the law requires)."""

    exempt_purposes: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class NoParams:
    pass


@dataclass(frozen=True, slots=True)
class HoldStop:
    """What one kind of hold stops. ``None`` means every channel (or action)."""

    channels: frozenset[str] | None
    actions: frozenset[str] | None
    exempt_purposes: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class HoldsParams:
    """Per hold kind, the floor of what it stops; a kind missing here stops everything."""

    kinds: Mapping[str, HoldStop]


class SafePattern:
    """A pack's content pattern, compiled by ``content.compile_pattern`` with an engine that
    cannot backtrack catastrophically (RE2, or Python's ``re`` for a checked lookaround pattern).

    Compared and hashed by its source text, as ``re.Pattern`` is, so two loads of a pack are
    equal."""

    __slots__ = ("_compiled", "engine", "pattern")

    def __init__(self, pattern: str, compiled: Any, engine: str) -> None:
        self.pattern = pattern
        self.engine = engine
        self._compiled = compiled

    def search(self, text: str) -> Any:
        return self._compiled.search(text)

    def finditer(self, text: str) -> Iterator[Any]:
        return iter(self._compiled.finditer(text))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SafePattern) and other.pattern == self.pattern

    def __hash__(self) -> int:
        return hash(self.pattern)

    def __repr__(self) -> str:
        return f"SafePattern({self.pattern!r}, engine={self.engine!r})"


@dataclass(frozen=True, slots=True)
class Element:
    """One required disclosure: some pattern must match, and the fact's value must appear."""

    id: str
    description_en: str
    description_zh: str
    patterns: tuple[SafePattern, ...]
    fact: str | None


@dataclass(frozen=True, slots=True)
class RequiredParams:
    elements: tuple[Element, ...]
    missing_text: Literal["skip", "deny"] = "skip"


@dataclass(frozen=True, slots=True)
class Category:
    """One kind of forbidden content, screened on normalised text (see ``content``)."""

    id: str
    description_en: str
    description_zh: str
    keywords: re.Pattern[str] | None
    compact_keywords: re.Pattern[str] | None
    patterns: tuple[SafePattern, ...]
    allow: tuple[str, ...] = ()
    except_facts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ForbiddenParams:
    categories: tuple[Category, ...]


Params = (
    HoursParams
    | QuietDaysParams
    | CapParams
    | CooldownParams
    | IntervalParams
    | PartiesParams
    | ExemptParams
    | NoParams
    | HoldsParams
    | RequiredParams
    | ForbiddenParams
    | VisitorsParams
)

TIME_KINDS: Final[frozenset[str]] = frozenset(
    {"contact_hours", "quiet_days", "rolling_cap", "daily_cap", "cooldown", "min_interval"}
)
"""Kinds that defer (a later time may be allowed); every other kind denies."""

RULE_KINDS: Final[frozenset[str]] = TIME_KINDS | {
    "parties",
    "opt_out",
    "cease",
    "not_at_work",
    "holds",
    "required_content",
    "forbidden_content",
    "visitors",
}


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of a pack: what it checks (``kind`` + ``params``), for which requests
    (``applies``), and why (description, citations, confidence in the source).

    ``consent_exempt`` (time kinds only): a request made with the person's prior consent, inside
    the consented window, is not restricted by this rule — e.g. Reg F 1006.14(b)(3), or the CN
    hours rule when the debtor agreed to a later call. ``consent_max_days`` caps how long after
    it was given a consent still counts (Reg F: seven consecutive days).
    """

    id: str
    kind: str
    description_en: str
    description_zh: str
    citations: tuple[Citation, ...]
    confidence: str
    applies: Selector
    params: Params
    line: int = 0
    consent_exempt: bool = False
    consent_max_days: int | None = None

    @property
    def effect(self) -> Effect:
        return "defer" if self.kind in TIME_KINDS else "deny"

    @property
    def citation(self) -> str:
        return "; ".join(str(c) for c in self.citations)


@dataclass(frozen=True, slots=True)
class Pack:
    """A versioned set of rules for one jurisdiction (or the stricter house default)."""

    name: str
    version: int
    effective: date
    title_en: str
    title_zh: str
    rules: tuple[Rule, ...]
    horizon_days: int = 31
    source: str = "<string>"

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise PolicyError(f"pack {self.name!r} has no rule {rule_id!r}")

    def in_force(self, now: datetime) -> bool:
        """Whether the pack's effective date has come (in UTC); picking the pack is the caller's."""
        _aware(now, "now")
        return now.astimezone(ZoneInfo("UTC")).date() >= self.effective


# ----------------------------------------------------------------------- requests and history


@dataclass(frozen=True, slots=True)
class Hold:
    """A collection hold on the borrower (every debt) or on one loan.

    ``channels``/``actions`` add to what the pack says the kind stops; they can never narrow it.
    ``until`` is the hold's last day, when known (shown in the decision's message only: the
    caller passes the holds in force at the time it asks about).
    """

    kind: str
    scope: str = "borrower"
    debt_id: str | None = None
    channels: frozenset[str] = frozenset()
    actions: frozenset[str] = frozenset()
    until: date | None = None

    def __post_init__(self) -> None:
        _member(self.kind, HOLD_KINDS, "hold kind")
        _member(self.scope, HOLD_SCOPES, "hold scope")
        if self.scope == "loan" and not self.debt_id:
            raise PolicyError("a hold with scope 'loan' needs the debt_id it holds")
        for channel in self.channels:
            _member(channel, CHANNELS, "channel")
        for action in self.actions:
            _member(action, ACTIONS, "action")

    def covers(self, debt_id: str) -> bool:
        return self.scope == "borrower" or self.debt_id == debt_id


@dataclass(frozen=True, slots=True)
class Consent:
    """A person's prior consent to be contacted: "call me back Monday after 20:00".

    ``by`` is the person who consented (a consent is honoured only for requests to that
    ``person_id``), ``given_at`` when they said so (it must come before the contact: *prior*
    consent), ``starts``/``ends`` the window ``[starts, ends)`` they agreed to, ``channels`` the
    media it covers (calls by default) and ``debt_id`` the debt it was about (``None``: any).
    """

    by: str
    given_at: datetime
    starts: datetime
    ends: datetime
    channels: frozenset[str] = frozenset({"voice"})
    debt_id: str | None = None

    def __post_init__(self) -> None:
        if not self.by:
            raise PolicyError("a consent needs the person who gave it (by)")
        _aware(self.given_at, "Consent.given_at")
        _aware(self.starts, "Consent.starts")
        _aware(self.ends, "Consent.ends")
        if not self.starts < self.ends:
            raise PolicyError(f"a consent window must start before it ends: {self!r}")
        if self.given_at >= self.ends:
            raise PolicyError("a consent must be given before its window ends")
        if not self.channels:
            raise PolicyError("a consent must cover at least one channel")
        for channel in self.channels:
            _member(channel, CHANNELS, "consent channel")

    def covers(self, request: ContactRequest) -> bool:
        """Whether this consent is about ``request`` (person, channel, debt), at any time."""
        return (
            self.by == request.person_id
            and request.channel in self.channels
            and (self.debt_id is None or self.debt_id == request.debt_id)
        )


@dataclass(frozen=True, slots=True)
class ContactRequest:
    """One proposed contact, with everything the gate needs to know about the person.

    The time zone is the one stored on the borrower (never guessed from a phone number). When it
    is unknown the gate allows only times inside the window in every possible zone: those listed
    in ``possible_timezones``, else every zone of ``country`` (tz database), else every offset
    from UTC-12 to UTC+14. ``holidays`` are local dates the caller's calendar marks as holidays;
    the pack decides whether to respect them. ``text`` is the rendered message when there is one
    (content rules run on it); ``facts`` are the values it must show (e.g. ``amount_due``).
    ``consents`` are the person's prior consents (honoured by rules marked ``exempt_consented``,
    only for the consenting person); ``visitors`` the collectors going on a visit.
    """

    debt_id: str
    person_id: str
    party: str
    channel: str
    action: str
    purpose: str = "collect"
    case_id: str = ""
    request_id: str = ""
    address: str | None = None
    timezone: str | None = None
    possible_timezones: tuple[str, ...] = ()
    country: str | None = None
    opt_outs: frozenset[str] = frozenset()
    cease: bool = False
    not_at_work: bool = False
    to_workplace: bool = False
    unreachable: bool = False
    holds: tuple[Hold, ...] = ()
    holidays: frozenset[date] = frozenset()
    text: str | None = None
    facts: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    consents: tuple[Consent, ...] = ()
    visitors: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.debt_id or not self.person_id:
            raise PolicyError("a request needs a debt_id and a person_id")
        _member(self.party, PARTIES, "party")
        _member(self.channel, CHANNELS, "channel")
        _member(self.action, ACTIONS, "action")
        if self.action not in ACTIONS_BY_CHANNEL[self.channel]:
            raise PolicyError(f"action {self.action!r} is not carried by channel {self.channel!r}")
        _member(self.purpose, PURPOSES, "purpose")
        for channel in self.opt_outs:
            _member(channel, CHANNELS, "opt-out channel")
        if self.timezone is not None:
            _zone(self.timezone, "timezone")
        for key in self.possible_timezones:
            _zone(key, "possible_timezones")
        for hold in self.holds:
            if not isinstance(hold, Hold):
                raise PolicyError(f"holds must be Hold values, got {hold!r}")
        for consent in self.consents:
            if not isinstance(consent, Consent):
                raise PolicyError(f"consents must be Consent values, got {consent!r}")
        if any(not isinstance(v, str) or not v.strip() for v in self.visitors):
            raise PolicyError("visitors must be non-empty names or ids")


@dataclass(frozen=True, slots=True)
class ContactRecord:
    """One past contact attempt, as the contact layer recorded it.

    ``reached``: the attempt connected to the number or mailbox used (rang, answered, voicemail;
    false for a network failure or a number not in service). ``answered``: the person picked up
    (a live connection with them, whatever was then said or logged); ``None`` when the caller
    does not know, read as ``reached`` (the conservative reading for caps on connected calls).
    ``conversation``: a telephone conversation with the person took place. ``consented``: the
    person had asked for this contact beforehand (Reg F excludes such calls from the frequency
    count).
    """

    at: datetime
    channel: str
    action: str
    person_id: str
    debt_id: str
    address: str | None = None
    reached: bool = True
    conversation: bool = False
    consented: bool = False
    answered: bool | None = None

    def __post_init__(self) -> None:
        _aware(self.at, "ContactRecord.at")
        _member(self.channel, CHANNELS, "channel")
        _member(self.action, ACTIONS, "action")
        if self.answered and not self.reached:
            raise PolicyError("a record cannot be answered without having reached the number")
        if self.conversation and self.answered is False:
            raise PolicyError("a record with a conversation must have been answered")

    @property
    def connected(self) -> bool:
        """The contact connected with the person (answered, or a conversation took place)."""
        if self.answered is not None:
            return self.answered or self.conversation
        return self.reached or self.conversation

    @property
    def communicated(self) -> bool:
        """It conveyed something: a call or visit that connected with the person, or a written
        or recorded message (SMS, email, letter, in-app, voicemail) that reached its address."""
        if self.action in ("call", "visit"):
            return self.connected
        return self.reached


# ------------------------------------------------------------------------------------ decisions


@dataclass(frozen=True, slots=True)
class FiredRule:
    """A rule that blocked the request, with its citation and a message saying exactly why."""

    rule_id: str
    kind: str
    effect: Effect
    message: str
    citation: str
    confidence: str
    description_en: str
    description_zh: str


@dataclass(frozen=True, slots=True)
class Decision:
    """The gate's answer. ``allow``: send now. ``defer``: not now, but ``next_allowed`` would be
    (given the same history). ``deny``: not under these circumstances (a hold, an opt-out, the
    wrong party, bad content, or no allowed time within the pack's horizon).

    ``next_allowed`` is in the borrower's time zone when it is known, else UTC.
    """

    outcome: Outcome
    fired: tuple[FiredRule, ...]
    next_allowed: datetime | None
    pack_name: str
    pack_version: int
    decided_at: datetime
    request_id: str = ""

    @property
    def allowed(self) -> bool:
        return self.outcome == "allow"

    def rule_ids(self) -> tuple[str, ...]:
        return tuple(f.rule_id for f in self.fired)
