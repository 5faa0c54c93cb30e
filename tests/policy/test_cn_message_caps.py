"""The `cn` pack's caps on text messages and robocalls: one a day each, 3 texts and 2 robocalls
in any 7 days; a collector's own calls are capped by the call rules, not these (issue 9)."""

from __future__ import annotations

from arrears.policy import ContactRecord, decide

from .factories import CN, REGF, SH, at, call, req

NUMBER = "+86 138 0013 8000"


def text_req(**fields: object) -> object:
    return req(channel="sms", action="sms", timezone="Asia/Shanghai", address=NUMBER, **fields)


def robocall_req(**fields: object) -> object:
    return req(action="robocall", timezone="Asia/Shanghai", address=NUMBER, **fields)


def text(day: int, hour: int = 10) -> ContactRecord:
    return call(at(SH, 2026, 3, day, hour), channel="sms", action="sms", address=NUMBER)


def robocall(day: int, hour: int = 10) -> ContactRecord:
    return call(at(SH, 2026, 3, day, hour), action="robocall", address=NUMBER)


def test_one_text_a_day_the_second_waits_for_tomorrow_morning() -> None:
    now = at(SH, 2026, 3, 10, 15)
    assert decide(text_req(), [text(9)], now, pack=CN).allowed
    second = decide(text_req(), [text(10)], now, pack=CN)
    assert second.outcome == "defer" and second.rule_ids() == ("cn.texts-daily",)
    assert second.next_allowed == at(SH, 2026, 3, 11, 8, 0)
    assert "1 attempts already on 2026-03-10" in second.fired[0].message


def test_at_most_three_texts_in_any_seven_days() -> None:
    now = at(SH, 2026, 3, 10, 15)
    two = [text(4), text(7)]
    assert decide(text_req(), two, now, pack=CN).allowed  # the 3rd in Mar 4..10
    fourth = decide(text_req(), [*two, text(9)], now, pack=CN)
    assert fourth.outcome == "defer" and fourth.rule_ids() == ("cn.texts-weekly",)
    # Mar 4 leaves the window when Mar 11 begins (7 days = Mar 5..11); 08:00 is the first hour
    assert fourth.next_allowed == at(SH, 2026, 3, 11, 8, 0)
    assert decide(text_req(), [text(3), text(4), text(7)], now, pack=CN).allowed


def test_a_notice_a_hold_still_allows_is_not_capped() -> None:
    now = at(SH, 2026, 3, 10, 15)
    assert decide(text_req(purpose="notice"), [text(10)], now, pack=CN).allowed


def test_one_robocall_a_day_and_two_in_seven_days() -> None:
    now = at(SH, 2026, 3, 10, 15)
    assert decide(robocall_req(), [robocall(9)], now, pack=CN).allowed
    again = decide(robocall_req(), [robocall(10)], now, pack=CN)
    assert again.outcome == "defer" and again.rule_ids() == ("cn.robocalls-daily",)
    third = decide(robocall_req(), [robocall(5), robocall(8)], now, pack=CN)
    assert third.outcome == "defer" and third.rule_ids() == ("cn.robocalls-weekly",)
    assert third.next_allowed == at(SH, 2026, 3, 12, 8, 0)  # Mar 5 leaves when Mar 12 begins


def test_robocalls_and_a_collectors_calls_are_capped_apart() -> None:
    now = at(SH, 2026, 3, 10, 15)
    # a robocall's own caps do not stop a collector, nor the collector's attempts a robocall
    unanswered = [
        call(at(SH, 2026, 3, 10, 9 + i), address=NUMBER, answered=False) for i in range(3)
    ]
    assert decide(robocall_req(), unanswered, now, pack=CN).allowed
    collector = req(timezone="Asia/Shanghai", address=NUMBER)
    assert decide(collector, [robocall(10)], now, pack=CN).allowed
    # but once the debtor has answered three calls today, a robocall is a fourth call
    # connected to them if it is picked up: the conservative reading of the cap of 3
    answered = [call(at(SH, 2026, 3, 10, 9 + i), address=NUMBER) for i in range(3)]
    fourth = decide(robocall_req(), answered, now, pack=CN)
    assert fourth.outcome == "defer" and fourth.rule_ids() == ("cn.connected-calls-daily",)
    # but a robocall is a dial on the number: it counts in the 6 attempts a day per number
    five_calls = [
        call(at(SH, 2026, 3, 10, 8 + i), address=NUMBER, answered=False) for i in range(5)
    ]
    sixth = decide(collector, [*five_calls, robocall(10, 14)], now, pack=CN)
    assert sixth.outcome == "defer" and sixth.rule_ids() == ("cn.attempts-per-number-daily",)


def test_a_robocall_is_still_a_call_under_reg_f() -> None:
    ny = req()
    robocalls = [call(at(SH, 2026, 3, 10 - i, 22), action="robocall") for i in range(7)]
    eighth = decide(ny, robocalls, at(SH, 2026, 3, 11, 1), pack=REGF)
    assert eighth.outcome == "defer" and eighth.rule_ids() == ("regf.call-frequency",)
