"""Contact hours and quiet days: exact at every boundary, on DST days, in every zone -12..+14."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from arrears.policy import Pack, decide

from .factories import CN, DEFAULT, NY, PACKS, REGF, SH, UTC, at, req

# (pack, zone, local wall time, outcome, next allowed local wall time or None)
BOUNDARIES = [
    # Reg F: 8:00 a.m. – 9:00 p.m. at the consumer's location
    (REGF, NY, (2026, 3, 10, 7, 59, 59), "defer", (2026, 3, 10, 8, 0)),
    (REGF, NY, (2026, 3, 10, 8, 0, 0), "allow", None),
    (REGF, NY, (2026, 3, 10, 20, 59, 59), "allow", None),
    (REGF, NY, (2026, 3, 10, 21, 0, 0), "defer", (2026, 3, 11, 8, 0)),
    (REGF, NY, (2026, 3, 10, 0, 0, 0), "defer", (2026, 3, 10, 8, 0)),
    # CN: [08:00, 22:00)
    (CN, SH, (2026, 3, 10, 7, 59, 0), "defer", (2026, 3, 10, 8, 0)),
    (CN, SH, (2026, 3, 10, 8, 0, 0), "allow", None),
    (CN, SH, (2026, 3, 10, 21, 59, 0), "allow", None),
    (CN, SH, (2026, 3, 10, 21, 59, 59), "allow", None),
    (CN, SH, (2026, 3, 10, 22, 0, 0), "defer", (2026, 3, 11, 8, 0)),
    (CN, SH, (2026, 3, 10, 23, 30, 0), "defer", (2026, 3, 11, 8, 0)),
    # default: [09:00, 20:00), Mon–Sat (2026-03-10 is a Tuesday)
    (DEFAULT, NY, (2026, 3, 10, 8, 59, 0), "defer", (2026, 3, 10, 9, 0)),
    (DEFAULT, NY, (2026, 3, 10, 9, 0, 0), "allow", None),
    (DEFAULT, NY, (2026, 3, 10, 19, 59, 0), "allow", None),
    (DEFAULT, NY, (2026, 3, 10, 20, 0, 0), "defer", (2026, 3, 11, 9, 0)),
    (DEFAULT, NY, (2026, 3, 14, 20, 0, 0), "defer", (2026, 3, 16, 9, 0)),  # Sat → Mon
    # DST starts in New York 2026-03-08 (02:00 → 03:00) and ends 2026-11-01 (02:00 → 01:00)
    (REGF, NY, (2026, 3, 8, 7, 59, 0), "defer", (2026, 3, 8, 8, 0)),
    (REGF, NY, (2026, 3, 8, 8, 0, 0), "allow", None),
    (REGF, NY, (2026, 3, 8, 20, 59, 0), "allow", None),
    (REGF, NY, (2026, 3, 8, 21, 0, 0), "defer", (2026, 3, 9, 8, 0)),
    (REGF, NY, (2026, 3, 7, 21, 30, 0), "defer", (2026, 3, 8, 8, 0)),
    (REGF, NY, (2026, 3, 8, 1, 30, 0), "defer", (2026, 3, 8, 8, 0)),
    (REGF, NY, (2026, 3, 8, 3, 0, 0), "defer", (2026, 3, 8, 8, 0)),
    (REGF, NY, (2026, 11, 1, 7, 59, 0), "defer", (2026, 11, 1, 8, 0)),
    (REGF, NY, (2026, 11, 1, 8, 0, 0), "allow", None),
    (REGF, NY, (2026, 11, 1, 20, 59, 0), "allow", None),
    (REGF, NY, (2026, 11, 1, 21, 0, 0), "defer", (2026, 11, 2, 8, 0)),
    (REGF, NY, (2026, 10, 31, 21, 0, 0), "defer", (2026, 11, 1, 8, 0)),
    (REGF, NY, (2026, 11, 1, 1, 30, 0), "defer", (2026, 11, 1, 8, 0)),
]


@pytest.mark.parametrize(("pack", "zone", "wall", "outcome", "nxt"), BOUNDARIES)
def test_contact_hours_boundaries(
    pack: Pack,
    zone: ZoneInfo,
    wall: tuple[int, ...],
    outcome: str,
    nxt: tuple[int, ...] | None,
) -> None:
    now = at(zone, *wall)
    decision = decide(req(timezone=zone.key), [], now, pack=pack)
    assert decision.outcome == outcome
    if nxt is None:
        assert decision.next_allowed is None and decision.fired == ()
    else:
        assert decision.next_allowed == at(zone, *nxt)
        assert decision.next_allowed.utcoffset() == at(zone, *nxt).utcoffset()
        assert decision.fired[0].kind in {"contact_hours", "quiet_days"}
        assert decision.fired[0].effect == "defer"


def test_dst_days_next_allowed_is_the_right_utc_instant() -> None:
    """08:00 EDT on the spring-forward day is 12:00 UTC; 08:00 EST on fall-back day is 13:00."""
    spring = decide(req(), [], at(NY, 2026, 3, 7, 22), pack=REGF)
    assert spring.next_allowed is not None
    assert spring.next_allowed.astimezone(UTC) == datetime(2026, 3, 8, 12, tzinfo=UTC)
    autumn = decide(req(), [], at(NY, 2026, 10, 31, 22), pack=REGF)
    assert autumn.next_allowed is not None
    assert autumn.next_allowed.astimezone(UTC) == datetime(2026, 11, 1, 13, tzinfo=UTC)


def test_the_gate_reads_local_time_whatever_zone_now_is_given_in() -> None:
    # 2026-03-08 12:00 UTC is 08:00 EDT (the first minute of the window after the DST change)
    assert decide(req(), [], datetime(2026, 3, 8, 12, 0, tzinfo=UTC), pack=REGF).allowed
    early = decide(req(), [], datetime(2026, 3, 8, 11, 59, 59, tzinfo=UTC), pack=REGF)
    assert early.outcome == "defer"
    # in UTC+8 the same instant is already 19:59:59 in Shanghai: inside the CN window
    assert decide(req(timezone="Asia/Shanghai"), [], early.decided_at, pack=CN).allowed


OFFSETS = list(range(-12, 15))


@pytest.mark.parametrize("offset", OFFSETS)
def test_every_offset_from_minus_12_to_plus_14(offset: int) -> None:
    key = "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # Etc signs are inverted
    zone = ZoneInfo(key)
    assert datetime(2026, 6, 1, tzinfo=zone).utcoffset() == timedelta(hours=offset)
    r = req(timezone=key)
    for wall, outcome in [((7, 59), "defer"), ((8, 0), "allow"), ((20, 59), "allow")]:
        assert decide(r, [], at(zone, 2026, 6, 1, *wall), pack=REGF).outcome == outcome
    late = decide(r, [], at(zone, 2026, 6, 1, 21, 0), pack=REGF)
    assert late.next_allowed == at(zone, 2026, 6, 2, 8, 0)


@pytest.mark.parametrize(
    "key",
    ["Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kathmandu", "Pacific/Chatham",
     "Australia/Lord_Howe", "America/St_Johns", "Asia/Kolkata"],
)  # fmt: skip
def test_real_zones_at_the_extremes_and_with_odd_offsets(key: str) -> None:
    zone = ZoneInfo(key)
    r = req(timezone=key)
    for day in (date(2026, 1, 15), date(2026, 7, 15)):
        assert decide(r, [], at(zone, day.year, day.month, day.day, 7, 59), pack=REGF).outcome == (
            "defer"
        )
        assert decide(r, [], at(zone, day.year, day.month, day.day, 8, 0), pack=REGF).allowed


def test_unknown_zone_uses_the_window_common_to_every_possible_zone() -> None:
    # New York and Los Angeles: 08:00 in LA is 11:00 in NY; 21:00 in NY is 18:00 in LA
    r = req(timezone=None, possible_timezones=("America/New_York", "America/Los_Angeles"))
    early = decide(r, [], at(NY, 2026, 3, 10, 10, 59), pack=REGF)
    assert early.outcome == "defer"
    assert early.next_allowed == at(NY, 2026, 3, 10, 11, 0)
    assert (
        "America/Los_Angeles" in early.fired[0].message and "zone unknown" in early.fired[0].message
    )
    assert decide(r, [], at(NY, 2026, 3, 10, 11, 0), pack=REGF).allowed
    assert decide(r, [], at(NY, 2026, 3, 10, 20, 59), pack=REGF).allowed
    assert decide(r, [], at(NY, 2026, 3, 10, 21, 0), pack=REGF).outcome == "defer"


def test_unknown_zone_falls_back_to_every_zone_of_the_country() -> None:
    # China has Asia/Shanghai (UTC+8) and Asia/Urumqi (UTC+6): common window 10:00–22:00 Beijing
    r = req(timezone=None, country="CN")
    before = decide(r, [], at(SH, 2026, 3, 10, 9, 59), pack=CN)
    assert before.outcome == "defer"
    assert before.next_allowed == at(SH, 2026, 3, 10, 10, 0)
    assert decide(r, [], at(SH, 2026, 3, 10, 10, 0), pack=CN).allowed
    assert decide(r, [], at(SH, 2026, 3, 10, 21, 59), pack=CN).allowed
    # the whole United States (Eastern to Hawaii): 14:00–21:00 Eastern in summer
    us = req(timezone=None, country="US")
    assert decide(us, [], at(NY, 2026, 7, 10, 13, 59), pack=REGF).outcome == "defer"
    assert decide(us, [], at(NY, 2026, 7, 10, 14, 0), pack=REGF).allowed


@pytest.mark.parametrize("name", sorted(PACKS))
def test_a_zone_nobody_knows_means_no_hour_is_safe_so_timed_channels_are_denied(name: str) -> None:
    pack = PACKS[name]
    r = req(timezone=None, country=None)
    for hour in range(24):
        decision = decide(r, [], datetime(2026, 3, 10, hour, tzinfo=UTC), pack=pack)
        assert decision.outcome == "deny"
        assert decision.fired[0].kind == "contact_hours"
        assert "no allowed time within" in decision.fired[0].message
    # letters are not bound to the clock
    letter = req(timezone=None, channel="letter", action="letter")
    assert decide(letter, [], datetime(2026, 3, 10, 3, tzinfo=UTC), pack=pack).allowed


def test_letters_are_not_subject_to_contact_hours() -> None:
    letter = req(channel="letter", action="letter")
    assert decide(letter, [], at(NY, 2026, 3, 10, 3, 0), pack=REGF).allowed
    assert decide(letter, [], at(NY, 2026, 3, 15, 3, 0), pack=DEFAULT).allowed  # a Sunday


def test_email_and_text_count_at_send_time() -> None:
    for channel in ("sms", "email"):
        r = req(channel=channel, action=channel)
        assert decide(r, [], at(NY, 2026, 3, 10, 21, 0), pack=REGF).outcome == "defer"


# ----------------------------------------------------------------------------------- quiet days

GOLDEN_WEEK = frozenset(date(2026, 10, d) for d in range(1, 8))


def test_default_pack_respects_holidays_and_sundays() -> None:
    r = req(timezone="Asia/Shanghai", holidays=GOLDEN_WEEK)
    decision = decide(r, [], at(SH, 2026, 10, 2, 10, 0), pack=DEFAULT)
    assert decision.outcome == "defer"
    assert decision.fired[0].kind == "quiet_days"
    assert "holiday" in decision.fired[0].message
    assert decision.next_allowed == at(SH, 2026, 10, 8, 9, 0)  # the first working day, 09:00
    # evening before a holiday: the window is over and tomorrow is a holiday
    eve = decide(r, [], at(SH, 2026, 9, 30, 20, 0), pack=DEFAULT)
    assert eve.next_allowed == at(SH, 2026, 10, 8, 9, 0)
    assert eve.rule_ids() == ("default.hours",)
    sunday = decide(req(), [], at(NY, 2026, 3, 15, 10, 0), pack=DEFAULT)
    assert sunday.outcome == "defer" and sunday.next_allowed == at(NY, 2026, 3, 16, 9, 0)


def test_cn_and_regf_packs_do_not_treat_holidays_as_quiet() -> None:
    r = req(timezone="Asia/Shanghai", holidays=GOLDEN_WEEK)
    assert decide(r, [], at(SH, 2026, 10, 2, 10, 0), pack=CN).allowed
    assert decide(r, [], at(SH, 2026, 10, 2, 10, 0), pack=REGF).allowed
