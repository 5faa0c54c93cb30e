"""Issue 9, the gate against the rules as written: communications vs attempts (Reg F 1006.10),
prior consent (1006.14(b)(3), 1006.6(b)(1), CN "unless the debtor agreed"), connected calls in
CN, and two collectors at a door (CBA 2026). Table-driven, at the boundaries."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from arrears.policy import ContactRecord, Pack, PolicyError, decide, decide_many
from arrears.policy.model import Consent

from .factories import CN, DEFAULT, NY, PACKS, REGF, SH, at, call, req

# ------------------------------------------------- Reg F: third parties, communications only

TUESDAY = at(NY, 2026, 3, 10, 10, 0)
EARLIER = at(NY, 2026, 3, 2, 11, 0)


def _locate(**fields: Any) -> Any:
    return req(party="third_party", purpose="locate", unreachable=True, person_id="N1", **fields)


def _tp(**fields: Any) -> ContactRecord:
    return call(EARLIER, person_id="N1", **fields)


@pytest.mark.parametrize(
    ("earlier", "outcome"),
    [
        ([], "allow"),
        ([_tp(reached=False)], "allow"),  # never connected: conveyed nothing
        ([_tp(reached=True, answered=False)], "allow"),  # rang out, nobody picked up
        ([_tp(reached=False), _tp(reached=True, answered=False)], "allow"),  # two unanswered
        ([_tp(reached=True, answered=True)], "deny"),  # they answered: a communication
        ([_tp(conversation=True)], "deny"),
        ([_tp(reached=True)], "deny"),  # answered unknown: read as connected (conservative)
        ([_tp(action="voicemail")], "deny"),  # a message left with them conveys something
        ([_tp(channel="sms", action="sms")], "deny"),  # a text that reached them
        ([_tp(channel="sms", action="sms", reached=False)], "allow"),  # one that never did
        ([call(EARLIER, person_id="N2", answered=True)], "allow"),  # another third party
    ],
)
def test_reg_f_counts_location_communications_not_attempts(
    earlier: list[ContactRecord], outcome: str
) -> None:
    decision = decide(_locate(), earlier, TUESDAY, pack=REGF)
    assert decision.outcome == outcome
    if outcome == "deny":
        assert decision.rule_ids() == ("regf.third-party-once",)


def test_the_rule_cites_the_location_section_and_the_pack_says_communications() -> None:
    rule = REGF.rule("regf.third-party-once")
    assert "1006.10(c)" in rule.citation
    assert rule.params.count == "communications"  # type: ignore[union-attr]


# ---------------------------------------------------------------- CN: connected calls per day

CN_NOON = at(SH, 2026, 3, 10, 12, 0)


def _cn(**fields: Any) -> Any:
    return req(timezone="Asia/Shanghai", **fields)


def _cn_calls(n: int, **fields: Any) -> list[ContactRecord]:
    return [call(at(SH, 2026, 3, 10, 9, 0) + timedelta(minutes=20 * i), **fields) for i in range(n)]


@pytest.mark.parametrize(
    ("history", "outcome"),
    [
        (_cn_calls(2, answered=True), "allow"),  # the third connected call is allowed
        (_cn_calls(3, answered=True), "defer"),  # the fourth is not
        (_cn_calls(3, reached=True), "defer"),  # connected, no conversation logged
        (_cn_calls(3, answered=True, conversation=False), "defer"),  # hung up after answering
        (_cn_calls(3, conversation=True), "defer"),
        (_cn_calls(3, reached=True, answered=False), "allow"),  # rang out: not connected
        (_cn_calls(3, reached=False), "allow"),
        (_cn_calls(2, answered=True) + _cn_calls(3, answered=False), "allow"),
        (_cn_calls(3, answered=True, person_id="P2"), "allow"),  # someone else's calls
    ],
)
def test_cn_caps_calls_that_connected_with_the_debtor(
    history: list[ContactRecord], outcome: str
) -> None:
    decision = decide(_cn(), history, CN_NOON, pack=CN)
    assert decision.outcome == outcome
    if outcome == "defer":
        assert decision.rule_ids() == ("cn.connected-calls-daily",)
        assert "3 contacts answered by the person" in decision.fired[0].message
        assert decision.next_allowed == at(SH, 2026, 3, 11, 8, 0)


def test_an_answered_record_must_have_reached_its_number() -> None:
    with pytest.raises(PolicyError, match="answered without having reached"):
        call(CN_NOON, reached=False, answered=True)
    with pytest.raises(PolicyError, match="conversation must have been answered"):
        call(CN_NOON, conversation=True, answered=False)


# -------------------------------------------------------------------------- prior consent


def consent(
    starts: datetime, ends: datetime, given: datetime | None = None, **fields: Any
) -> Consent:
    base: dict[str, Any] = {"by": "P1", "given_at": given or starts - timedelta(days=1)}
    base.update(fields)
    return Consent(starts=starts, ends=ends, **base)


CN_NIGHT = at(SH, 2026, 3, 10, 22, 30)
WINDOW = consent(at(SH, 2026, 3, 10, 22, 0), at(SH, 2026, 3, 10, 23, 0))


@pytest.mark.parametrize(
    ("consents", "now", "outcome", "next_allowed"),
    [
        ((), CN_NIGHT, "defer", at(SH, 2026, 3, 11, 8, 0)),
        ((WINDOW,), CN_NIGHT, "allow", None),  # the debtor asked for a call then
        ((WINDOW,), at(SH, 2026, 3, 10, 22, 0), "allow", None),  # the window's first second
        ((WINDOW,), at(SH, 2026, 3, 10, 23, 0), "defer", at(SH, 2026, 3, 11, 8, 0)),  # its end
        ((WINDOW,), at(SH, 2026, 3, 10, 21, 59), "allow", None),  # inside the hours anyway
        # before the window opens, at night: the window is the earliest allowed time
        (
            (consent(at(SH, 2026, 3, 11, 6, 0), at(SH, 2026, 3, 11, 7, 0)),),
            at(SH, 2026, 3, 11, 2, 0),
            "defer",
            at(SH, 2026, 3, 11, 6, 0),
        ),
        ((consent(WINDOW.starts, WINDOW.ends, by="P2"),), CN_NIGHT, "defer", None),  # not theirs
        (
            (consent(WINDOW.starts, WINDOW.ends, channels=frozenset({"sms"})),),
            CN_NIGHT,
            "defer",
            None,
        ),
        ((consent(WINDOW.starts, WINDOW.ends, debt_id="D9"),), CN_NIGHT, "defer", None),
        # consent given during the window counts only from the moment it was given
        ((consent(WINDOW.starts, WINDOW.ends, given=CN_NIGHT),), CN_NIGHT, "allow", None),
        (
            (consent(WINDOW.starts, WINDOW.ends, given=CN_NIGHT + timedelta(minutes=1)),),
            CN_NIGHT,
            "defer",
            CN_NIGHT + timedelta(minutes=1),
        ),
    ],
)
def test_cn_allows_out_of_hours_contact_the_debtor_agreed_to(
    consents: tuple[Consent, ...], now: datetime, outcome: str, next_allowed: datetime | None
) -> None:
    decision = decide(_cn(consents=consents), [], now, pack=CN)
    assert decision.outcome == outcome
    if outcome == "defer":
        assert decision.rule_ids() == ("cn.hours",)
        if next_allowed is not None:
            assert decision.next_allowed == next_allowed


def test_consent_does_not_lift_the_cn_cap_on_connected_calls() -> None:
    whole_day = consent(at(SH, 2026, 3, 10, 0, 0), at(SH, 2026, 3, 11, 0, 0))
    decision = decide(_cn(consents=(whole_day,)), _cn_calls(3, answered=True), CN_NOON, pack=CN)
    assert decision.outcome == "defer"
    assert decision.rule_ids() == ("cn.connected-calls-daily",)


NOON = at(NY, 2026, 3, 8, 12, 0)
SEVEN = [call(at(NY, 2026, 3, 8 - i, 10, 0)) for i in range(7)]
TALKED = [call(at(NY, 2026, 3, 7, 10, 0), conversation=True)]
TODAY = consent(at(NY, 2026, 3, 8, 11, 0), at(NY, 2026, 3, 8, 13, 0))


@pytest.mark.parametrize(
    ("history", "consents", "now", "outcome", "rules"),
    [
        (SEVEN, (), NOON, "defer", ("regf.call-frequency",)),
        (SEVEN, (TODAY,), NOON, "allow", ()),  # 1006.14(b)(3): a consented call does not count
        (TALKED, (), NOON, "defer", ("regf.after-conversation",)),
        (TALKED, (TODAY,), NOON, "allow", ()),
        # 13:00 is the window's end: the 7-in-7 presumption applies again
        (SEVEN, (TODAY,), at(NY, 2026, 3, 8, 13, 0), "defer", ("regf.call-frequency",)),
        # consent lasts at most 7 consecutive days after it was given
        (
            SEVEN,
            (consent(TODAY.starts, TODAY.ends, given=at(NY, 2026, 3, 1, 11, 30)),),
            NOON,
            "allow",
            (),
        ),
        (
            SEVEN,
            (consent(TODAY.starts, TODAY.ends, given=at(NY, 2026, 3, 1, 11, 0)),),
            NOON,
            "defer",
            ("regf.call-frequency",),
        ),
        (
            SEVEN,
            (consent(TODAY.starts, TODAY.ends, by="P2"),),
            NOON,
            "defer",
            ("regf.call-frequency",),
        ),
        # 1006.6(b)(1): the consumer's consent lifts the inconvenient-time rule too
        ([], (), at(NY, 2026, 3, 8, 21, 30), "defer", ("regf.inconvenient-time",)),
        (
            [],
            (consent(at(NY, 2026, 3, 8, 21, 0), at(NY, 2026, 3, 8, 22, 0)),),
            at(NY, 2026, 3, 8, 21, 30),
            "allow",
            (),
        ),
    ],
)
def test_reg_f_excludes_calls_made_with_prior_consent(
    history: list[ContactRecord],
    consents: tuple[Consent, ...],
    now: datetime,
    outcome: str,
    rules: tuple[str, ...],
) -> None:
    decision = decide(req(consents=consents), history, now, pack=REGF)
    assert (decision.outcome, decision.rule_ids()) == (outcome, rules)


def test_the_house_pack_honours_no_consent() -> None:
    late = at(NY, 2026, 3, 9, 20, 30)
    window = consent(at(NY, 2026, 3, 9, 20, 0), at(NY, 2026, 3, 9, 21, 0))
    assert decide(req(consents=(window,)), [], late, pack=DEFAULT).outcome == "defer"


@pytest.mark.parametrize("name", sorted(PACKS))
def test_next_allowed_with_a_consent_is_exact(name: str) -> None:
    """The gate allows the contact at ``next_allowed`` and not one second earlier."""
    pack = PACKS[name]
    zone = SH if name == "cn" else NY
    window = consent(at(zone, 2026, 3, 11, 6, 30), at(zone, 2026, 3, 11, 7, 0))
    r = req(timezone=zone.key, consents=(window,))
    now = at(zone, 2026, 3, 10, 23, 0)
    decision = decide(r, [], now, pack=pack)
    assert decision.outcome == "defer" and decision.next_allowed is not None
    found = decision.next_allowed
    assert decide(r, [], found, pack=pack).allowed
    assert not decide(r, [], found - timedelta(seconds=1), pack=pack).allowed


def test_a_batch_records_a_consented_call_as_consented() -> None:
    """A consented call allowed in a batch does not use up the 7-in-7 of the calls after it."""
    six = SEVEN[:6]
    first = req(consents=(TODAY,), request_id="a")
    second = req(request_id="b")
    assert [d.outcome for d in decide_many([first, second], six, NOON, pack=REGF)] == [
        "allow",
        "allow",
    ]
    plain = [req(request_id="a"), req(request_id="b")]
    assert [d.outcome for d in decide_many(plain, six, NOON, pack=REGF)] == ["allow", "defer"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"by": ""}, "needs the person"),
        ({"ends": at(SH, 2026, 3, 10, 21, 0)}, "start before it ends"),
        ({"given_at": at(SH, 2026, 3, 10, 23, 0)}, "before its window ends"),
        ({"channels": frozenset({"fax"})}, "unknown consent channel"),
        ({"given_at": datetime(2026, 3, 10, 9, 0)}, "timezone-aware"),
    ],
)
def test_a_malformed_consent_is_refused(fields: dict[str, Any], message: str) -> None:
    base: dict[str, Any] = {
        "by": "P1",
        "given_at": at(SH, 2026, 3, 10, 9, 0),
        "starts": at(SH, 2026, 3, 10, 22, 0),
        "ends": at(SH, 2026, 3, 10, 23, 0),
    }
    with pytest.raises(PolicyError, match=message):
        Consent(**{**base, **fields})


# ----------------------------------------------------------------- CBA 2026: two at the door


@pytest.mark.parametrize(
    ("pack", "visitors", "outcome"),
    [
        (CN, (), "deny"),
        (CN, ("ann",), "deny"),
        (CN, ("ann", "ANN "), "deny"),  # the same collector twice is one
        (CN, ("ann", "bob"), "allow"),
        (CN, ("ann", "bob", "carl"), "allow"),
        (DEFAULT, ("ann",), "deny"),
        (DEFAULT, ("ann", "bob"), "allow"),
        (REGF, ("ann",), "allow"),  # no such rule in the US pack
    ],
)
def test_a_door_visit_needs_two_collectors(
    pack: Pack, visitors: tuple[str, ...], outcome: str
) -> None:
    zone = SH if pack is CN else NY
    visit = req(channel="visit", action="visit", timezone=zone.key, visitors=visitors)
    decision = decide(visit, [], at(zone, 2026, 3, 10, 10, 0), pack=pack)
    assert decision.outcome == outcome
    if outcome == "deny":
        assert decision.fired[0].kind == "visitors"
        assert "at least 2 visitors" in decision.fired[0].message
        assert "2026" in decision.fired[0].citation


def test_visitors_matter_only_for_visits() -> None:
    assert decide(_cn(visitors=("ann",)), [], CN_NOON, pack=CN).allowed
