"""Rolling and daily caps, cooldowns, intervals: the 7th vs the 8th call, the day after a call."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.policy import ContactRecord, Pack, decide

from .factories import CN, DEFAULT, NY, REGF, SH, at, call, req


def week_of_calls(n: int, **fields: object) -> list[ContactRecord]:
    """``n`` calls at 10:00 on consecutive days ending 2026-03-08 (DST day, on purpose)."""
    return [call(at(NY, 2026, 3, 8 - i, 10, 0), **fields) for i in range(n)]


# ------------------------------------------------------------------------ Reg F 7 in 7 days


def test_the_7th_call_in_7_days_is_allowed_and_the_8th_is_deferred() -> None:
    now = at(NY, 2026, 3, 8, 12, 0)
    assert decide(req(), week_of_calls(6), now, pack=REGF).allowed
    eighth = decide(req(), week_of_calls(7), now, pack=REGF)
    assert eighth.outcome == "defer"
    assert eighth.rule_ids() == ("regf.call-frequency",)
    assert "7 connected attempts" in eighth.fired[0].message
    assert "2026-03-02..2026-03-08" in eighth.fired[0].message
    # the oldest call (Mar 2) leaves the window when Mar 9 begins: 7 days = Mar 3..Mar 9
    assert eighth.next_allowed == at(NY, 2026, 3, 9, 8, 0)


def test_the_window_is_rolling_not_a_calendar_week() -> None:
    seven_on_wednesday = [call(at(NY, 2026, 3, 4, 9 + i, 0)) for i in range(7)]
    # a calendar-week counter would reset on Monday 2026-03-09; the rolling window does not
    monday = decide(req(), seven_on_wednesday, at(NY, 2026, 3, 9, 10, 0), pack=REGF)
    assert monday.outcome == "defer"
    assert monday.next_allowed == at(NY, 2026, 3, 11, 8, 0)
    assert decide(req(), seven_on_wednesday, at(NY, 2026, 3, 10, 20, 59), pack=REGF).outcome == (
        "defer"
    )
    assert decide(req(), seven_on_wednesday, at(NY, 2026, 3, 11, 8, 0), pack=REGF).allowed


def test_calls_that_never_connected_or_had_consent_do_not_count() -> None:
    now = at(NY, 2026, 3, 8, 12, 0)
    assert decide(req(), week_of_calls(7, reached=False), now, pack=REGF).allowed
    assert decide(req(), week_of_calls(7, consented=True), now, pack=REGF).allowed
    # the stricter house pack counts every attempt
    assert decide(req(), week_of_calls(7, reached=False), now, pack=DEFAULT).outcome == "defer"


def test_reg_f_counts_per_person_and_debt_the_house_pack_per_person() -> None:
    now = at(NY, 2026, 3, 9, 13, 0)  # Monday; calls Mar 3..9 at 10:00
    other_debt = [call(at(NY, 2026, 3, 9 - i, 10, 0), debt_id="D2") for i in range(7)]
    assert decide(req(), other_debt, now, pack=REGF).allowed
    assert decide(req(), other_debt, now, pack=DEFAULT).outcome == "defer"
    other_person = [call(at(NY, 2026, 3, 9 - i, 10, 0), person_id="P2") for i in range(7)]
    assert decide(req(), other_person, now, pack=REGF).allowed


def test_texts_do_not_count_as_calls() -> None:
    texts = week_of_calls(7, channel="sms", action="sms")
    assert decide(req(), texts, at(NY, 2026, 3, 8, 12, 0), pack=REGF).allowed


# ------------------------------------------------------------------- after a conversation


def test_a_call_the_day_after_a_conversation_waits_until_day_8() -> None:
    talked = [call(at(NY, 2026, 3, 7, 10, 0), conversation=True)]
    next_day = decide(req(), talked, at(NY, 2026, 3, 8, 10, 0), pack=REGF)
    assert next_day.outcome == "defer"
    assert next_day.rule_ids() == ("regf.after-conversation",)
    assert "2026-03-07" in next_day.fired[0].message and "2026-03-13" in next_day.fired[0].message
    # conversation day = day 1, so days 1..7 are Mar 7..Mar 13; Mar 14 08:00 is the first slot
    assert next_day.next_allowed == at(NY, 2026, 3, 14, 8, 0)
    assert decide(req(), talked, at(NY, 2026, 3, 13, 20, 59), pack=REGF).outcome == "defer"
    assert decide(req(), talked, at(NY, 2026, 3, 14, 8, 0), pack=REGF).allowed
    # same day, later: also inside the period
    assert decide(req(), talked, at(NY, 2026, 3, 7, 15, 0), pack=REGF).outcome == "defer"


def test_a_conversation_about_another_debt_does_not_block_under_reg_f() -> None:
    talked = [call(at(NY, 2026, 3, 7, 10, 0), conversation=True, debt_id="D2")]
    assert decide(req(), talked, at(NY, 2026, 3, 8, 10, 0), pack=REGF).allowed
    assert decide(req(), talked, at(NY, 2026, 3, 8, 10, 0), pack=DEFAULT).outcome == "defer"


def test_a_conversation_does_not_stop_letters_or_texts() -> None:
    talked = [call(at(NY, 2026, 3, 7, 10, 0), conversation=True)]
    text = req(channel="sms", action="sms")
    assert decide(text, talked, at(NY, 2026, 3, 8, 10, 0), pack=REGF).allowed


# ------------------------------------------------------------------------------ CN daily caps


def cn_req(**fields: object) -> object:
    return req(timezone="Asia/Shanghai", address="+86 138 0013 8000", **fields)


def cn_call(h: int, mi: int = 0, day: int = 10, **fields: object) -> ContactRecord:
    base: dict[str, object] = {"address": "+86 138 0013 8000"}
    base.update(fields)
    return call(at(SH, 2026, 3, day, h, mi), **base)


def test_cn_at_most_3_connected_calls_a_day() -> None:
    r = cn_req()
    two = [cn_call(9, conversation=True), cn_call(11, conversation=True)]
    assert decide(r, two, at(SH, 2026, 3, 10, 15, 0), pack=CN).allowed  # the 3rd
    three = [*two, cn_call(14, conversation=True)]
    fourth = decide(r, three, at(SH, 2026, 3, 10, 15, 0), pack=CN)
    assert fourth.outcome == "defer"
    assert fourth.rule_ids() == ("cn.connected-calls-daily",)
    assert fourth.next_allowed == at(SH, 2026, 3, 11, 8, 0)
    # yesterday's calls are yesterday's: the local calendar day resets at local midnight
    late = [cn_call(21, 30 + i, day=9, conversation=True) for i in range(3)]
    assert decide(r, late, at(SH, 2026, 3, 10, 8, 0), pack=CN).allowed


def test_cn_at_most_6_attempts_a_day_to_the_same_number() -> None:
    r = cn_req()
    five = [cn_call(8 + i, reached=False) for i in range(5)]
    assert decide(r, five, at(SH, 2026, 3, 10, 15, 0), pack=CN).allowed
    six = [*five, cn_call(14, reached=False)]
    seventh = decide(r, six, at(SH, 2026, 3, 10, 15, 0), pack=CN)
    assert seventh.outcome == "defer" and seventh.rule_ids() == ("cn.attempts-per-number-daily",)
    # another number of the same person is a different line
    other = req(timezone="Asia/Shanghai", address="+86 139 0000 0000")
    assert decide(other, six, at(SH, 2026, 3, 10, 15, 0), pack=CN).allowed


def test_a_cap_on_numbers_falls_back_to_the_person_when_the_request_has_no_number() -> None:
    six = [cn_call(8 + i, reached=False) for i in range(6)]
    r = req(timezone="Asia/Shanghai", address=None)
    assert decide(r, six, at(SH, 2026, 3, 10, 15, 0), pack=CN).outcome == "defer"


def test_house_pack_spacing_and_daily_text_cap() -> None:
    r = req()
    recent = [call(at(NY, 2026, 3, 10, 10, 0))]
    spaced = decide(r, recent, at(NY, 2026, 3, 10, 11, 0), pack=DEFAULT)
    assert spaced.outcome == "defer" and spaced.rule_ids() == ("default.calls-spacing",)
    assert spaced.next_allowed == at(NY, 2026, 3, 10, 12, 0)
    text = req(channel="sms", action="sms")
    sent = [call(at(NY, 2026, 3, 10, 10, 0), channel="sms", action="sms")]
    tomorrow = decide(text, sent, at(NY, 2026, 3, 10, 15, 0), pack=DEFAULT)
    assert tomorrow.next_allowed == at(NY, 2026, 3, 11, 9, 0)
    in_app = req(channel="in_app", action="in_app")
    assert decide(in_app, sent, at(NY, 2026, 3, 10, 15, 0), pack=DEFAULT).allowed


def test_next_allowed_combines_every_time_rule() -> None:
    """7 calls in the week and it is 20:30 on Saturday: the cap frees Sunday, the house pack's
    quiet Sunday pushes to Monday 09:00, spacing is long over."""
    calls = [call(at(NY, 2026, 3, 14 - i, 9, 0)) for i in range(7)]  # Mar 8..14
    decision = decide(req(), calls, at(NY, 2026, 3, 14, 20, 30), pack=DEFAULT)
    assert decision.outcome == "defer"
    assert set(decision.rule_ids()) == {"default.hours", "default.calls-rolling"}
    assert decision.next_allowed == at(NY, 2026, 3, 16, 9, 0)


# ----------------------------------------------------------------- property: never exceeded

START = at(NY, 2026, 2, 25, 0, 0)
MINUTES = 60 * 24 * 28  # four weeks, across the March DST change


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, MINUTES),
            st.sampled_from(["D1", "D2"]),
            st.booleans(),
            st.integers(0, 3),
        ),
        min_size=1,
        max_size=120,
    )
)
def test_reg_f_caps_hold_for_any_sequence_of_allowed_calls(
    attempts: list[tuple[int, str, bool, int]],
) -> None:
    history: list[ContactRecord] = []
    for minute, debt, reached, outcome in sorted(attempts):
        now = START + timedelta(minutes=minute)
        r = req(debt_id=debt)
        decision = decide(r, history, now, pack=REGF)
        if decision.outcome != "allow":
            assert decision.next_allowed is None or decision.next_allowed > now
            continue
        local = now.astimezone(NY)
        assert 8 <= local.hour < 21
        history.append(
            call(now, debt_id=debt, reached=reached, conversation=reached and outcome == 0)
        )
    for debt in ("D1", "D2"):
        mine = [h for h in history if h.debt_id == debt]
        days = sorted({h.at.astimezone(NY).date() for h in mine})
        for first in days:
            window = [h for h in mine if 0 <= (h.at.astimezone(NY).date() - first).days < 7]
            assert sum(h.reached for h in window) <= 7
        for talk in (h for h in mine if h.conversation):
            day1 = talk.at.astimezone(NY).date()
            later = [h for h in mine if h.at > talk.at]
            assert all((h.at.astimezone(NY).date() - day1).days >= 7 for h in later)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 60 * 24 * 4), st.sampled_from(["A", "B"]), st.booleans()),
        min_size=1,
        max_size=80,
    )
)
def test_cn_daily_caps_hold_for_any_sequence(attempts: list[tuple[int, str, bool]]) -> None:
    start = at(SH, 2026, 3, 9, 0, 0)
    history: list[ContactRecord] = []
    for minute, number, answered in sorted(attempts):
        now = start + timedelta(minutes=minute)
        r = req(timezone="Asia/Shanghai", address=number)
        if decide(r, history, now, pack=CN).allowed:
            history.append(call(now, address=number, reached=answered, conversation=answered))
    by_day: dict[object, list[ContactRecord]] = {}
    for h in history:
        by_day.setdefault(h.at.astimezone(SH).date(), []).append(h)
    for records in by_day.values():
        assert sum(h.conversation for h in records) <= 3
        for number in ("A", "B"):
            assert sum(h.address == number for h in records) <= 6


@settings(max_examples=80, deadline=None)
@given(
    pack_name=st.sampled_from(["cn", "us-regf", "default"]),
    zone=st.sampled_from(["America/New_York", "Asia/Shanghai", "Pacific/Chatham", "Etc/GMT+12"]),
    minute=st.integers(0, 60 * 24 * 20),
    calls=st.lists(st.tuples(st.integers(0, 60 * 24 * 20), st.booleans()), max_size=12),
)
def test_next_allowed_is_allowed_and_is_the_first_such_moment(
    pack_name: str, zone: str, minute: int, calls: list[tuple[int, bool]]
) -> None:
    pack: Pack = {"cn": CN, "us-regf": REGF, "default": DEFAULT}[pack_name]
    start = datetime(2026, 2, 20, tzinfo=NY)
    now = start + timedelta(minutes=minute)
    history = [
        call(start + timedelta(minutes=m), conversation=talk)
        for m, talk in calls
        if start + timedelta(minutes=m) <= now
    ]
    r = req(timezone=zone)
    decision = decide(r, history, now, pack=pack)
    if decision.outcome != "defer":
        return
    assert decision.next_allowed is not None and decision.next_allowed > now
    assert decide(r, history, decision.next_allowed, pack=pack).allowed
    just_before = decision.next_allowed - timedelta(seconds=1)
    if just_before >= now:
        assert not decide(r, history, just_before, pack=pack).allowed
