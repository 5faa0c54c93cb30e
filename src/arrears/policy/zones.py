"""Time zones and local wall-clock arithmetic that stays exact across DST changes.

Contact-hour and daily rules are about the debtor's *local* clock, so every computation here
goes through ``zoneinfo``: a local time is turned into an instant with both folds tried, and a
local time that does not exist (the hour skipped when clocks go forward) resolves to the first
instant after the gap. Nothing here assumes a day has 24 hours.

When the borrower's zone is unknown the gate must respect every zone the borrower could be in
(Reg F 1006.6(b)(1)(i) and its official interpretation), so ``candidate_zones`` widens: the
request's ``possible_timezones``; else every zone the tz database lists for the ``country``
(``zone1970.tab``); else every whole-hour offset from UTC-12 to UTC+14.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from importlib import resources
from zoneinfo import ZoneInfo

from arrears.policy.model import ContactRequest

ALL_OFFSETS: tuple[str, ...] = tuple(
    [f"Etc/GMT+{h}" for h in range(12, 0, -1)]
    + ["Etc/GMT"]
    + [f"Etc/GMT-{h}" for h in range(1, 15)]
)
"""UTC-12 … UTC+14 as fixed-offset zones (the tz database's ``Etc/GMT`` signs are inverted)."""


@cache
def _country_table() -> dict[str, tuple[str, ...]]:
    text = resources.files("tzdata").joinpath("zoneinfo/zone1970.tab").read_text("utf-8")
    table: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        codes, _coords, key, *_ = line.split("\t")
        for code in codes.split(","):
            table.setdefault(code, []).append(key)
    return {code: tuple(sorted(keys)) for code, keys in table.items()}


def country_zones(country: str) -> tuple[str, ...]:
    """Every tz database zone used in ``country`` (ISO 3166 alpha-2), or ``()`` if unknown."""
    return _country_table().get(country.strip().upper(), ())


@cache
def _zones(keys: tuple[str, ...]) -> tuple[ZoneInfo, ...]:
    return tuple(ZoneInfo(k) for k in keys)


def candidate_keys(request: ContactRequest) -> tuple[str, ...]:
    """The zones the debtor may be in, most specific knowledge first (see module docstring)."""
    if request.timezone is not None:
        return (request.timezone,)
    if request.possible_timezones:
        return tuple(sorted(set(request.possible_timezones)))
    if request.country:
        keys = country_zones(request.country)
        if keys:
            return keys
    return ALL_OFFSETS


def zones_for(keys: tuple[str, ...]) -> tuple[ZoneInfo, ...]:
    return _zones(keys)


def local(t: datetime, zone: ZoneInfo) -> datetime:
    return t.astimezone(zone)


def local_date(t: datetime, zone: ZoneInfo) -> date:
    return t.astimezone(zone).date()


def seconds_of_day(wall: datetime) -> int:
    return wall.hour * 3600 + wall.minute * 60 + wall.second


def wall_instants(day: date, seconds: int, zone: ZoneInfo) -> list[datetime]:
    """The UTC instants showing local wall time ``day + seconds`` in ``zone``, earliest first.

    Two instants in the repeated hour when clocks go back; one normally; in the skipped hour when
    clocks go forward, none exists and the first instant after the gap is returned instead.
    ``seconds`` may be 86 400 (24:00, i.e. the next midnight).
    """
    naive = datetime.combine(day, time()) + timedelta(seconds=seconds)
    found: list[datetime] = []
    for fold in (0, 1):
        instant = naive.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        if instant.astimezone(zone).replace(tzinfo=None) == naive and instant not in found:
            found.append(instant)
    if found:
        return sorted(found)
    # In a gap: the wall clock is monotonic between the two fold readings; find the first instant
    # whose wall time is at or after ``naive`` (the transition itself) by bisection on seconds.
    a = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    b = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    lo, hi = min(a, b), max(a, b)
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        mid = mid.replace(microsecond=0)
        if mid.astimezone(zone).replace(tzinfo=None) >= naive:
            hi = mid
        else:
            lo = mid
    return [hi]


def first_at_or_after(day: date, seconds: int, zone: ZoneInfo, t: datetime) -> datetime | None:
    """The earliest instant ``>= t`` showing wall time ``day + seconds``, if there is one."""
    for instant in wall_instants(day, seconds, zone):
        if instant >= t:
            return instant
    return None


@lru_cache(maxsize=65_536)
def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of local date ``day`` (after the gap if midnight is skipped).

    Cached: a day's batch asks for the same few midnights in the same few zones over and over."""
    return wall_instants(day, 0, zone)[0]


def display_zone(request: ContactRequest) -> ZoneInfo:
    """Where times are shown for this request: the borrower's zone when known, else UTC."""
    return ZoneInfo(request.timezone) if request.timezone is not None else ZoneInfo("UTC")
