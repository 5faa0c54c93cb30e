"""The compliance gate: ``decide(request, history, now, pack=...)`` → allow, deny or defer.

Pure and deterministic: the answer depends only on the pack, the request, the history and
``now``; rules fire in pack order; a forbidden contact is a normal ``Decision``, never an
exception (``PolicyError`` means the *input* is malformed).

How a decision is made:

1. Every rule of the pack that applies to the request (its ``applies_to`` selector) is checked
   at ``now``. Rules of a *denying* kind (parties, opt-out, cease, not-at-work, holds, content)
   fire when violated; any such rule makes the outcome ``deny``.
2. Rules of a *deferring* kind (contact hours, quiet days, rolling and daily caps, cooldowns,
   minimum intervals) fire when ``now`` is not allowed. The next allowed time is the least
   instant all of them allow together. History rules (caps, cooldowns, intervals) reduce to "not
   before F" (F computed once per request, since the history does not move while deciding); the
   clock rules (hours, quiet days) each give the earliest instant at or after ``t`` they allow,
   and are iterated to a fixpoint from the latest F. Each answer is exact and monotone, so the
   fixpoint is the least common instant. If it lies beyond the pack's horizon (or does not exist
   — e.g. no hour is inside the window in every possible time zone of a borrower whose zone is
   unknown), the outcome is ``deny``.
3. Time rules are evaluated in every *candidate zone* of the debtor (``zones.candidate_keys``)
   and must hold in each; local days are computed with ``zoneinfo`` so DST days are exact.
4. A time rule marked ``consent_exempt`` allows any instant inside a window the person
   consented to (``Consent``, for that person, channel and debt; never before it was given, and
   at most ``consent_max_days`` after). Such a rule allows the union of its own times and the
   consented windows, whose earliest instant at or after ``t`` is the lesser of the two — still
   exact and monotone, so it joins the fixpoint of step 2 like a clock rule.

``decide_many`` decides a day's batch in one linear pass: history is indexed once, applicable
rules and history-independent time checks are cached per distinct key, and — by default — each
allowed request is counted as an attempt made at ``now`` when deciding the requests after it,
so a batch can never exceed a cap that single requests respect (``decide_many(rs) ==`` deciding
each in order against the history plus the ones allowed before it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from arrears.policy import content, zones
from arrears.policy.model import (
    TIME_KINDS,
    CapParams,
    ContactRecord,
    ContactRequest,
    CooldownParams,
    Decision,
    Effect,
    ExemptParams,
    FiredRule,
    ForbiddenParams,
    HoldsParams,
    HoursParams,
    IntervalParams,
    Pack,
    PartiesParams,
    PolicyError,
    QuietDaysParams,
    RequiredParams,
    Rule,
    VisitorsParams,
    Window,
)

_MAX_STEPS = 20_000
_ZoneStep = Callable[[ZoneInfo, datetime], "datetime | None"]
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# ------------------------------------------------------------------------------------ history


@dataclass(slots=True)
class _History:
    """Past contacts indexed by person, debt and address, so a request reads only its own."""

    by_person: dict[str, list[ContactRecord]] = field(default_factory=dict)
    by_debt: dict[str, list[ContactRecord]] = field(default_factory=dict)
    by_address: dict[str, list[ContactRecord]] = field(default_factory=dict)

    def add(self, record: ContactRecord) -> None:
        self.by_person.setdefault(record.person_id, []).append(record)
        self.by_debt.setdefault(record.debt_id, []).append(record)
        if record.address is not None:
            self.by_address.setdefault(record.address, []).append(record)

    @staticmethod
    def of(records: Iterable[ContactRecord]) -> _History:
        history = _History()
        for record in records:
            if not isinstance(record, ContactRecord):
                raise PolicyError(f"history must hold ContactRecord values, got {record!r}")
            history.add(record)
        return history

    def matching(self, request: ContactRequest, per: frozenset[str]) -> list[ContactRecord]:
        """Records equal to the request on every key of ``per``.

        A request without an address cannot be matched by address, so such a rule falls back to
        counting every record of the person (stricter, never looser).
        """
        if "address" in per and request.address is None:
            per = (per - {"address"}) | {"person"}
        if "address" in per:
            pool = self.by_address.get(request.address or "", [])
        elif "person" in per:
            pool = self.by_person.get(request.person_id, [])
        else:
            pool = self.by_debt.get(request.debt_id, [])
        return [
            r
            for r in pool
            if ("person" not in per or r.person_id == request.person_id)
            and ("debt" not in per or r.debt_id == request.debt_id)
            and ("address" not in per or r.address == request.address)
            and ("channel" not in per or r.channel == request.channel)
        ]


def _counts(record: ContactRecord, mode: str) -> bool:
    if mode == "attempts":
        return True
    if mode == "reached":
        return record.reached
    if mode == "connected":
        return record.connected
    if mode == "communications":
        return record.communicated
    return record.conversation


# ---------------------------------------------------------------------------- evaluation state


@dataclass(slots=True)
class _Batch:
    """Caches shared by every request of one ``decide_many`` call (same pack, same ``now``)."""

    pack: Pack
    now: datetime
    history: _History
    limit: datetime
    applicable: dict[tuple[str, str, str, str], tuple[tuple[Rule, ...], tuple[Rule, ...]]] = field(
        default_factory=dict
    )
    shown: dict[str | None, tuple[ZoneInfo, datetime]] = field(default_factory=dict)
    order: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.order = {rule.id: i for i, rule in enumerate(self.pack.rules)}

    static: dict[tuple[object, ...], datetime | None] = field(default_factory=dict)
    messages: dict[tuple[object, ...], str] = field(default_factory=dict)

    def rules_for(self, request: ContactRequest) -> tuple[tuple[Rule, ...], tuple[Rule, ...]]:
        """The pack's rules that apply to this kind of request: (time rules, denying rules)."""
        key = (request.channel, request.action, request.party, request.purpose)
        rules = self.applicable.get(key)
        if rules is None:
            matching = [r for r in self.pack.rules if r.applies.matches(request)]
            rules = (
                tuple(r for r in matching if r.kind in TIME_KINDS),
                tuple(r for r in matching if r.kind not in TIME_KINDS),
            )
            self.applicable[key] = rules
        return rules

    def display(self, request: ContactRequest) -> tuple[ZoneInfo, datetime]:
        """The zone decisions are shown in for this request, and ``now`` in it."""
        found = self.shown.get(request.timezone)
        if found is None:
            zone = zones.display_zone(request)
            found = self.shown[request.timezone] = (zone, self.now.astimezone(zone))
        return found


@dataclass(slots=True)
class _Eval:
    """One request being decided."""

    batch: _Batch
    request: ContactRequest
    zone_keys: tuple[str, ...]
    zones: tuple[ZoneInfo, ...]
    counted: dict[str, list[ContactRecord]] = field(default_factory=dict)
    pools: dict[frozenset[str], list[ContactRecord]] = field(default_factory=dict)
    blocks: dict[str, _Block | None] = field(default_factory=dict)
    prepared: content.Prepared | None = None
    consented: dict[int | None, tuple[tuple[datetime, datetime], ...]] = field(default_factory=dict)

    def consent_windows(self, rule: Rule) -> tuple[tuple[datetime, datetime], ...]:
        """The windows ``[start, end)`` in which the request's consents exempt it from
        ``rule``: only consents of the person contacted, on this channel and debt, from the
        moment they were given, and for at most the rule's ``consent_max_days``."""
        if not rule.consent_exempt or not self.request.consents:
            return ()
        key = rule.consent_max_days
        found = self.consented.get(key)
        if found is None:
            windows = []
            for consent in self.request.consents:
                if not consent.covers(self.request):
                    continue
                start = max(consent.starts, consent.given_at).astimezone(UTC)
                end = consent.ends.astimezone(UTC)
                if key is not None:
                    end = min(end, consent.given_at.astimezone(UTC) + timedelta(days=key))
                if start < end:
                    windows.append((start, end))
            found = self.consented[key] = tuple(sorted(windows))
        return found

    def text(self) -> content.Prepared:
        """The request's text normalised once (several content rules read it)."""
        if self.prepared is None:
            self.prepared = content.Prepared.of(self.request.text or "")
        return self.prepared

    def records(
        self, rule: Rule, per: frozenset[str], mode: str, consent: bool
    ) -> list[ContactRecord]:
        found = self.counted.get(rule.id)
        if found is None:
            pool = self.pools.get(per)
            if pool is None:
                pool = self.pools[per] = self.batch.history.matching(self.request, per)
            found = [
                r
                for r in pool
                if rule.applies.matches_record(r)
                and _counts(r, mode)
                and not (consent and r.consented)
            ]
            self.counted[rule.id] = found
        return found


# -------------------------------------------------------------------------- time-based rules


def _hours_next(windows: tuple[Window, ...], zone: ZoneInfo, t: datetime) -> datetime | None:
    """The earliest instant ``>= t`` whose local wall time in ``zone`` is inside a window."""
    wall = t.astimezone(zone)
    day = wall.date()
    seconds = zones.seconds_of_day(wall)
    weekday = day.isoweekday()
    for w in windows:
        if weekday in w.weekdays and w.start <= seconds < w.end:
            return t
    ordered = sorted(windows, key=lambda w: w.start)
    for offset in range(9):
        d = day + timedelta(days=offset)
        for w in ordered:
            if d.isoweekday() not in w.weekdays:
                continue
            instant = zones.first_at_or_after(d, w.start, zone, t)
            if instant is None:
                continue
            shown = instant.astimezone(zone)
            if shown.date() == d and w.start <= zones.seconds_of_day(shown) < w.end:
                return instant
    return None


def _quiet_next(params: QuietDaysParams, ev: _Eval, zone: ZoneInfo, t: datetime) -> datetime | None:
    holidays = ev.request.holidays if params.holidays else frozenset()

    def quiet(d: date) -> bool:
        return d in holidays or d.isoweekday() in params.weekdays

    day = zones.local_date(t, zone)
    if not quiet(day):
        return t
    for offset in range(1, ev.batch.pack.horizon_days + 2):
        d = day + timedelta(days=offset)
        if not quiet(d):
            return zones.day_start(d, zone)
    return None


def _per_zone(ev: _Eval, t: datetime, one: _ZoneStep) -> datetime | None:
    """The max over candidate zones of each zone's earliest allowed instant (None if any is)."""
    best = t
    for zone in ev.zones:
        found = one(zone, t)
        if found is None:
            return None
        best = max(best, found)
    return best


def _clock_step(rule: Rule, ev: _Eval) -> _ZoneStep:
    """For contact hours and quiet days: the earliest allowed instant in one zone."""
    params = rule.params
    if isinstance(params, HoursParams):
        return lambda zone, u: _hours_next(params.windows, zone, u)
    if isinstance(params, QuietDaysParams):
        return lambda zone, u: _quiet_next(params, ev, zone, u)
    raise PolicyError(f"rule {rule.id!r} is not about the clock")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class _Block:
    """A history rule blocks until ``until``; ``zone`` is the candidate zone that sets it."""

    until: datetime
    zone: ZoneInfo | None


def _blocked_until(rule: Rule, ev: _Eval) -> _Block | None:
    """For caps, cooldowns and intervals: the first instant the history no longer blocks.

    History does not change while a request is decided, so each such rule reduces to "not
    before F", computed once per request. For a window counted in local days, F is the start of
    the first free local day — in every candidate zone, so the latest of them.
    """
    if rule.id in ev.blocks:
        return ev.blocks[rule.id]
    block = _compute_block(rule, ev)
    ev.blocks[rule.id] = block
    return block


def _latest_day_start(ev: _Eval, first_free: Callable[[ZoneInfo], date]) -> _Block:
    best: _Block | None = None
    for zone in ev.zones:
        start = zones.day_start(first_free(zone), zone)
        if best is None or start > best.until:
            best = _Block(start, zone)
    assert best is not None
    return best


def _compute_block(rule: Rule, ev: _Eval) -> _Block | None:
    params = rule.params
    if isinstance(params, CapParams):
        records = ev.records(rule, params.per, params.count, params.exclude_consented)
        if len(records) < params.max:
            return None
        nth = params.max - 1
        if params.window_hours is not None:
            at = sorted((r.at for r in records), reverse=True)[nth]
            return _Block(at + timedelta(hours=params.window_hours), None)
        cap_days = params.window_days or 1

        def cap_free(zone: ZoneInfo) -> date:
            # the max-th most recent counted day leaves the window ``cap_days`` days later
            dates = sorted((zones.local_date(r.at, zone) for r in records), reverse=True)
            return dates[nth] + timedelta(days=cap_days)

        return _latest_day_start(ev, cap_free)
    if isinstance(params, CooldownParams):
        events = ev.records(rule, params.per, params.after, False)
        if not events:
            return None
        if params.window_hours is not None:
            last = max(r.at for r in events)
            return _Block(last + timedelta(hours=params.window_hours), None)
        cool_days = params.window_days or 1

        def cool_free(zone: ZoneInfo) -> date:
            # the event's day is day 1: the first free day is ``cool_days`` after it
            return max(zones.local_date(r.at, zone) for r in events) + timedelta(days=cool_days)

        return _latest_day_start(ev, cool_free)
    if isinstance(params, IntervalParams):
        records = ev.records(rule, params.per, params.count, False)
        if not records:
            return None
        return _Block(max(r.at for r in records) + timedelta(minutes=params.minutes), None)
    raise PolicyError(f"rule {rule.id!r}: kind {rule.kind!r} is not time-based")  # pragma: no cover


def _earliest(rule: Rule, ev: _Eval, t: datetime) -> datetime | None:
    """The earliest instant ``>= t`` this rule allows (exact), or None if none within reach."""
    params = rule.params
    if isinstance(params, HoursParams | QuietDaysParams):
        # History-independent: shared by every request of the batch with the same zones.
        holidays = ev.request.holidays if isinstance(params, QuietDaysParams) else None
        key: tuple[object, ...] = (rule.id, ev.zone_keys, holidays, t)
        static = ev.batch.static
        if key not in static:
            static[key] = _per_zone(ev, t, _clock_step(rule, ev))
        return static[key]
    block = _blocked_until(rule, ev)
    return t if block is None or block.until <= t else block.until


def _allowed_from(rule: Rule, ev: _Eval, t: datetime) -> datetime | None:
    """The earliest instant ``>= t`` this rule allows for this request, consent included."""
    found = _earliest(rule, ev, t)
    if found == t:
        return t
    for start, end in ev.consent_windows(rule):
        if t < end:
            consented = max(start, t)
            if found is None or consented < found:
                found = consented
    return found


def _next_allowed(rules: Sequence[Rule], ev: _Eval) -> datetime | None:
    """The least instant ``>= now`` every time rule allows, or None past the horizon.

    History rules are "not before F" constraints, so they are met by starting at the latest F;
    the clock rules (hours, quiet days) — and any rule a consent relaxes, which is no longer a
    plain "not before F" — are then iterated to a fixpoint from there.
    """
    t = ev.batch.now
    clock: list[Rule] = []
    for rule in rules:
        if isinstance(rule.params, HoursParams | QuietDaysParams) or ev.consent_windows(rule):
            clock.append(rule)
        else:
            block = _blocked_until(rule, ev)
            if block is not None and block.until > t:
                t = block.until
    if t > ev.batch.limit:
        return None
    for _ in range(_MAX_STEPS):
        moved = False
        for rule in clock:
            found = _allowed_from(rule, ev, t)
            if found is None or found > ev.batch.limit:
                return None
            if found > t:
                t, moved = found, True
        if not moved:
            return t
    return None


# ---------------------------------------------------------------------------------- messages


_COUNT_NOUNS = {
    "attempts": "attempts",
    "reached": "connected attempts",
    "connected": "contacts answered by the person",
    "conversations": "conversations",
    "communications": "communications",
}
_EVENT_NOUNS = {
    "attempts": "a contact attempt",
    "reached": "a connected contact",
    "connected": "a contact answered by the person",
    "conversations": "a conversation",
    "communications": "a communication",
}


def _hm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _windows_text(windows: tuple[Window, ...]) -> str:
    parts = []
    for w in windows:
        days = ""
        if len(w.weekdays) < 7:
            days = " on " + ",".join(_DAY_NAMES[d - 1][:3] for d in sorted(w.weekdays))
        parts.append(f"{_hm(w.start)}–{_hm(w.end)}{days}")
    return " or ".join(parts)


def _where(ev: _Eval, zone: ZoneInfo) -> str:
    if ev.request.timezone is not None:
        return f"in {zone.key}"
    return f"in {zone.key}, one of {len(ev.zones)} zones the borrower may be in (zone unknown)"


def _blocking_zone(ev: _Eval, rule: Rule) -> ZoneInfo:
    """The candidate zone in which ``rule`` blocks ``now`` (for the message)."""
    now = ev.batch.now
    if not isinstance(rule.params, HoursParams | QuietDaysParams):
        block = _blocked_until(rule, ev)
        return block.zone if block is not None and block.zone is not None else ev.zones[0]
    step = _clock_step(rule, ev)
    for zone in ev.zones:
        found = step(zone, now)
        if found is None or found > now:
            return zone
    return ev.zones[0]  # pragma: no cover - only called when some zone blocks


def _per_text(per: frozenset[str]) -> str:
    order = [k for k in ("person", "debt", "address", "channel") if k in per]
    return "per " + " and ".join("number" if k == "address" else k for k in order)


def _time_message(rule: Rule, ev: _Eval) -> str:
    """Why a time rule blocks ``now``; the clock rules' messages are shared across the batch."""
    if isinstance(rule.params, HoursParams | QuietDaysParams):
        holidays = ev.request.holidays if isinstance(rule.params, QuietDaysParams) else None
        key = ("message", rule.id, ev.zone_keys, holidays, ev.request.timezone is None)
        message = ev.batch.messages.get(key)
        if message is None:
            message = ev.batch.messages[key] = _compose_time_message(rule, ev)
        return message
    return _compose_time_message(rule, ev)


def _compose_time_message(rule: Rule, ev: _Eval) -> str:
    params = rule.params
    now = ev.batch.now
    if isinstance(params, HoursParams):
        zone = _blocking_zone(ev, rule)
        wall = now.astimezone(zone)
        return (
            f"{wall:%a %H:%M} local time {_where(ev, zone)} is outside the allowed hours "
            f"{_windows_text(params.windows)}"
        )
    if isinstance(params, QuietDaysParams):
        zone = _blocking_zone(ev, rule)
        day = zones.local_date(now, zone)
        what = "a holiday" if day in ev.request.holidays and params.holidays else "a quiet weekday"
        return f"{day.isoformat()} ({_DAY_NAMES[day.weekday()]}) is {what} {_where(ev, zone)}"
    if isinstance(params, CapParams):
        records = ev.records(rule, params.per, params.count, params.exclude_consented)
        noun = _COUNT_NOUNS[params.count]
        if params.window_hours is not None:
            since = now - timedelta(hours=params.window_hours)
            n = sum(1 for r in records if r.at > since)
            span = f"in the last {params.window_hours} hours"
        else:
            zone = _blocking_zone(ev, rule)
            today = zones.local_date(now, zone)
            first = today - timedelta(days=(params.window_days or 1) - 1)
            n = sum(1 for r in records if zones.local_date(r.at, zone) >= first)
            span = (
                f"on {today.isoformat()}"
                if params.window_days == 1
                else f"in the {params.window_days} days {first.isoformat()}..{today.isoformat()}"
            )
            span += f" ({zone.key})"
        return f"{n} {noun} already {span}; at most {params.max} {_per_text(params.per)}"
    if isinstance(params, CooldownParams):
        events = ev.records(rule, params.per, params.after, False)
        last = max(r.at for r in events)
        noun = _EVENT_NOUNS[params.after]
        if params.window_hours is not None:
            return (
                f"{noun} at {last.astimezone(UTC):%Y-%m-%d %H:%M} UTC: nothing for "
                f"{params.window_hours} hours after it ({_per_text(params.per)})"
            )
        zone = _blocking_zone(ev, rule)
        day = max(zones.local_date(r.at, zone) for r in events)
        until = day + timedelta(days=(params.window_days or 1) - 1)
        return (
            f"{noun} on {day.isoformat()} ({zone.key}, day 1): nothing through "
            f"{until.isoformat()} ({_per_text(params.per)})"
        )
    if isinstance(params, IntervalParams):
        records = ev.records(rule, params.per, params.count, False)
        last = max(r.at for r in records)
        return (
            f"last attempt at {last.astimezone(UTC):%Y-%m-%d %H:%M} UTC is less than "
            f"{params.minutes} minutes ago ({_per_text(params.per)})"
        )
    return rule.description_en  # pragma: no cover


# ----------------------------------------------------------------------------- denying rules


def _deny_message(rule: Rule, ev: _Eval) -> str | None:
    """Why this rule forbids the request, or None when it does not."""
    r = ev.request
    params = rule.params
    if isinstance(params, PartiesParams):
        purposes = params.allowed.get(r.party)
        if not purposes:
            return f"a {r.party.replace('_', ' ')} may not be contacted under this pack"
        if r.purpose not in purposes:
            allowed = ", ".join(sorted(purposes))
            return f"a {r.party.replace('_', ' ')} may be contacted only to: {allowed}"
        if (
            r.purpose == "locate"
            and r.party != "borrower"
            and params.locate_requires_unreachable
            and not r.unreachable
        ):
            return (
                "contacts to locate the borrower are allowed only when the borrower is unreachable"
            )
        return None
    if rule.kind == "opt_out":
        assert isinstance(params, ExemptParams)
        if r.channel in r.opt_outs and r.purpose not in params.exempt_purposes:
            return f"the person opted out of {r.channel}"
        return None
    if rule.kind == "cease":
        assert isinstance(params, ExemptParams)
        if r.cease and r.purpose not in params.exempt_purposes:
            return f"the person asked to cease communication; {r.purpose} is not exempt"
        return None
    if rule.kind == "not_at_work":
        if r.not_at_work and r.to_workplace:
            return "the person may not be contacted at work"
        return None
    if isinstance(params, HoldsParams):
        reasons = []
        for hold in r.holds:
            if not hold.covers(r.debt_id):
                continue
            stop = params.kinds.get(hold.kind)
            if stop is None:
                stopped, exempt = True, frozenset[str]()
            else:
                stopped = (
                    stop.channels is None
                    or stop.actions is None
                    or r.channel in stop.channels
                    or r.action in stop.actions
                )
                exempt = stop.exempt_purposes
            stopped = stopped or r.channel in hold.channels or r.action in hold.actions
            if stopped and r.purpose not in exempt:
                scope = "the borrower" if hold.scope == "borrower" else f"loan {hold.debt_id}"
                until = f" until {hold.until.isoformat()}" if hold.until is not None else ""
                reasons.append(f"{hold.kind} hold on {scope}{until} stops {r.channel}/{r.action}")
        return "; ".join(reasons) or None
    if isinstance(params, VisitorsParams):
        if r.channel != "visit":
            return None
        visitors = {v.strip().casefold() for v in r.visitors}
        if len(visitors) < params.min:
            return (
                f"a visit needs at least {params.min} visitors; the request names {len(visitors)}"
            )
        return None
    if isinstance(params, RequiredParams):
        if r.text is None:
            return "no rendered text to check" if params.missing_text == "deny" else None
        prepared = ev.text()
        gaps = [m for e in params.elements if (m := content.missing(e, prepared, r.facts))]
        return "missing required content: " + "; ".join(gaps) if gaps else None
    if isinstance(params, ForbiddenParams):
        if r.text is None:
            return None
        prepared = ev.text()
        found = []
        for category in params.categories:
            hits = content.screen(category, prepared, r.facts)
            if hits:
                found.append(f"{category.id}: " + ", ".join(repr(h) for h in hits))
        return "forbidden content: " + "; ".join(found) if found else None
    raise PolicyError(f"rule {rule.id!r}: unknown kind {rule.kind!r}")  # pragma: no cover


# ---------------------------------------------------------------------------------- the gate


def _fired(rule: Rule, effect: Effect, message: str) -> FiredRule:
    return FiredRule(
        rule_id=rule.id,
        kind=rule.kind,
        effect=effect,
        message=message,
        citation=rule.citation,
        confidence=rule.confidence,
        description_en=rule.description_en,
        description_zh=rule.description_zh,
    )


def _decide_one(batch: _Batch, request: ContactRequest) -> Decision:
    keys = zones.candidate_keys(request)
    ev = _Eval(batch, request, keys, zones.zones_for(keys))
    now = batch.now
    fired: list[tuple[int, FiredRule]] = []
    time_rules, deny_rules = batch.rules_for(request)
    order = batch.order
    denied = deferred = False
    for rule in time_rules:
        if _allowed_from(rule, ev, now) != now:
            fired.append((order[rule.id], _fired(rule, "defer", _time_message(rule, ev))))
            deferred = True
    for rule in deny_rules:
        message = _deny_message(rule, ev)
        if message is not None:
            fired.append((order[rule.id], _fired(rule, "deny", message)))
            denied = True
    if len(fired) > 1:
        fired.sort(key=lambda pair: pair[0])  # report in pack order
    shown, decided_at = batch.display(request)
    if denied:
        outcome, next_allowed = "deny", None
    elif deferred:
        found = _next_allowed(time_rules, ev)
        if found is None:
            outcome, next_allowed = "deny", None
            reach = f"no allowed time within {batch.pack.horizon_days} days"
            fired = [(n, _fired_as_deny(f, reach) if f.effect == "defer" else f) for n, f in fired]
        else:
            outcome, next_allowed = "defer", found.astimezone(shown)
    else:
        outcome, next_allowed = "allow", None
    return Decision(
        outcome=outcome,  # type: ignore[arg-type]
        fired=tuple(f for _, f in fired),
        next_allowed=next_allowed,
        pack_name=batch.pack.name,
        pack_version=batch.pack.version,
        decided_at=decided_at,
        request_id=request.request_id,
    )


def _fired_as_deny(f: FiredRule, reach: str) -> FiredRule:
    return FiredRule(
        f.rule_id,
        f.kind,
        "deny",
        f"{f.message}; {reach}",
        f.citation,
        f.confidence,
        f.description_en,
        f.description_zh,
    )


def _start(pack: Pack, history: Iterable[ContactRecord], now: datetime) -> _Batch:
    if not isinstance(pack, Pack):
        raise PolicyError(f"pack must be a Pack (see load_pack), got {type(pack).__name__}")
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise PolicyError(f"now must be a timezone-aware datetime, got {now!r}")
    utc_now = now.astimezone(UTC)
    return _Batch(
        pack=pack,
        now=utc_now,
        history=_History.of(history),
        limit=utc_now + timedelta(days=pack.horizon_days),
    )


def decide(
    request: ContactRequest,
    history: Iterable[ContactRecord],
    now: datetime,
    *,
    pack: Pack,
) -> Decision:
    """Allow, deny or defer one contact at ``now`` given the past contacts in ``history``."""
    if not isinstance(request, ContactRequest):
        raise PolicyError(f"request must be a ContactRequest, got {type(request).__name__}")
    return _decide_one(_start(pack, history, now), request)


def decide_many(
    requests: Iterable[ContactRequest],
    history: Iterable[ContactRecord],
    now: datetime,
    *,
    pack: Pack,
    count_allowed: bool = True,
) -> list[Decision]:
    """Decide a batch in order, in one linear pass (see the module docstring).

    With ``count_allowed`` (the default) each allowed request counts, for the requests after it,
    as an attempt made at ``now`` that reached the number, not answered and without a
    conversation (``consented`` when made inside a consented window). Attempt and per-number caps
    therefore hold across the batch; caps on answered calls or conversations are for the
    outcomes logged afterwards, since the gate cannot know how a call it allows will end (and
    reading every planned dial as answered would cap a day's dialling at the answered-call limit).
    """
    batch = _start(pack, history, now)
    decisions: list[Decision] = []
    for request in requests:
        if not isinstance(request, ContactRequest):
            raise PolicyError(f"requests must be ContactRequest values, got {request!r}")
        decision = _decide_one(batch, request)
        decisions.append(decision)
        if count_allowed and decision.outcome == "allow":
            batch.history.add(
                ContactRecord(
                    at=batch.now,
                    channel=request.channel,
                    action=request.action,
                    person_id=request.person_id,
                    debt_id=request.debt_id,
                    address=request.address,
                    reached=True,
                    answered=False,
                    consented=consented_at(request, batch.now),
                )
            )
    return decisions


def consented_at(request: ContactRequest, now: datetime) -> bool:
    """Whether ``request`` is made at ``now`` inside a window its person consented to (such a
    contact is recorded as consented: Reg F does not count it toward the call frequencies)."""
    return any(
        c.covers(request) and max(c.starts, c.given_at) <= now < c.ends for c in request.consents
    )
