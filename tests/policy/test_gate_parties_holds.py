"""Who may be contacted, and holds / opt-outs / cease / not-at-work: nothing leaks, in any pack."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.policy import Hold, Pack, decide
from arrears.policy.model import (
    ACTIONS_BY_CHANNEL,
    CHANNELS,
    HOLD_KINDS,
    HOLD_SCOPES,
    PARTIES,
    PURPOSES,
    HoldsParams,
)

from .factories import CN, DEFAULT, NY, PACKS, REGF, at, call, req

NOW = at(NY, 2026, 3, 10, 10, 0)  # a Tuesday morning: inside every pack's hours
PAIRS = [(c, a) for c in sorted(CHANNELS) for a in sorted(ACTIONS_BY_CHANNEL[c])]


# ------------------------------------------------------------------------------------- parties


@pytest.mark.parametrize(
    ("pack", "party", "purpose", "unreachable", "outcome"),
    [
        (CN, "borrower", "collect", False, "allow"),
        (CN, "guarantor", "collect", False, "allow"),
        (CN, "emergency_contact", "locate", True, "allow"),
        (CN, "emergency_contact", "locate", False, "deny"),  # borrower reachable
        (CN, "emergency_contact", "collect", True, "deny"),  # never asked to pay
        (CN, "third_party", "locate", True, "deny"),  # nobody unrelated
        (DEFAULT, "third_party", "locate", True, "deny"),
        (DEFAULT, "emergency_contact", "locate", True, "allow"),
        (REGF, "third_party", "locate", True, "allow"),  # 1006.10 location communications
        (REGF, "third_party", "collect", True, "deny"),
        (REGF, "guarantor", "collect", False, "allow"),
    ],
)
def test_who_may_be_contacted_and_why(
    pack: Pack, party: str, purpose: str, unreachable: bool, outcome: str
) -> None:
    r = req(party=party, purpose=purpose, unreachable=unreachable, person_id="X")
    decision = decide(r, [], NOW, pack=pack)
    assert decision.outcome == outcome
    if outcome == "deny":
        assert decision.fired[0].kind == "parties"
        assert decision.fired[0].citation


def test_a_third_party_is_asked_for_location_only_once_under_reg_f() -> None:
    r = req(party="third_party", purpose="locate", unreachable=True, person_id="N1")
    earlier = [call(at(NY, 2026, 1, 5, 10, 0), person_id="N1")]
    decision = decide(r, earlier, NOW, pack=REGF)
    assert decision.outcome == "deny"  # the next allowed time is years away: beyond the horizon
    assert decision.rule_ids() == ("regf.third-party-once",)
    assert "no allowed time within 31 days" in decision.fired[0].message


def test_a_locate_message_may_not_mention_the_debt() -> None:
    r = req(
        party="emergency_contact",
        purpose="locate",
        unreachable=True,
        person_id="E1",
        channel="sms",
        action="sms",
        text="您好，我们是某某公司，想联系张三，请他回电 95xxx，谢谢。",
    )
    assert decide(r, [], NOW, pack=CN).allowed
    leaky = req(
        party="emergency_contact",
        purpose="locate",
        unreachable=True,
        person_id="E1",
        channel="sms",
        action="sms",
        text="张三的贷款已逾期三个月，请转告他尽快还款。",
    )
    decision = decide(leaky, [], NOW, pack=CN)
    assert decision.outcome == "deny"
    assert "cn.locate-no-debt" in decision.rule_ids()
    assert "逾期" in decision.fired[0].message


# ----------------------------------------------------------------------------- holds matrix


def expected_stop(pack: Pack, hold: Hold, channel: str, action: str, purpose: str) -> bool:
    """What the pack's holds rule promises, restated independently of the gate."""
    rule = next(r for r in pack.rules if r.kind == "holds")
    assert isinstance(rule.params, HoldsParams)
    named = rule.applies.purposes
    if purpose not in (named if named is not None else PURPOSES - {"service"}):
        return False  # a rule covers a service message only when it names the purpose
    stop = rule.params.kinds.get(hold.kind)
    if stop is None:
        return True
    by_pack = (
        stop.channels is None
        or stop.actions is None
        or channel in stop.channels
        or action in stop.actions
    )
    by_hold = channel in hold.channels or action in hold.actions
    return (by_pack or by_hold) and purpose not in stop.exempt_purposes


@pytest.mark.parametrize("name", sorted(PACKS))
def test_hold_scope_by_channel_by_action_never_leaks(name: str) -> None:
    pack = PACKS[name]
    checked = 0
    for kind, scope, (channel, action), purpose in itertools.product(
        sorted(HOLD_KINDS), sorted(HOLD_SCOPES), PAIRS, sorted(PURPOSES)
    ):
        party = "borrower" if purpose != "locate" else "emergency_contact"
        for held_debt in ("D1", "D2"):
            hold = Hold(kind, scope, held_debt if scope == "loan" else None)
            r = req(
                channel=channel, action=action, purpose=purpose, party=party,
                unreachable=True, holds=(hold,),
            )  # fmt: skip
            decision = decide(r, [], NOW, pack=pack)
            covers = scope == "borrower" or held_debt == "D1"
            fired = any(f.kind == "holds" for f in decision.fired)
            if covers and expected_stop(pack, hold, channel, action, purpose):
                assert decision.outcome == "deny", (kind, scope, channel, action, purpose)
                assert fired
            else:
                assert not fired, (kind, scope, held_debt, channel, action, purpose)
            checked += 1
    assert checked == len(HOLD_KINDS) * len(HOLD_SCOPES) * len(PAIRS) * len(PURPOSES) * 2


def test_collection_is_stopped_on_every_channel_by_complaint_dispute_deceased_legal() -> None:
    for pack, kind, (channel, action) in itertools.product(
        PACKS.values(), ["complaint", "dispute", "deceased", "legal"], PAIRS
    ):
        r = req(channel=channel, action=action, holds=(Hold(kind),))
        assert decide(r, [], NOW, pack=pack).outcome == "deny", (pack.name, kind, channel)


def test_hardship_in_cn_stops_calls_and_visits_but_a_hold_can_stop_more() -> None:
    hardship = Hold("hardship", "loan", "D1")
    assert decide(req(holds=(hardship,)), [], NOW, pack=CN).outcome == "deny"
    visit = req(channel="visit", action="visit", holds=(hardship,))
    assert decide(visit, [], NOW, pack=CN).outcome == "deny"
    text = req(channel="letter", action="letter", holds=(hardship,))
    assert decide(text, [], NOW, pack=CN).allowed
    wider = Hold("hardship", "loan", "D1", channels=frozenset({"letter"}))
    assert decide(
        req(channel="letter", action="letter", holds=(wider,)), [], NOW, pack=CN
    ).outcome == ("deny")


def test_a_complaint_acknowledgement_still_goes_out() -> None:
    ack = req(channel="letter", action="letter", purpose="notice", holds=(Hold("complaint"),))
    for pack in PACKS.values():
        assert decide(ack, [], NOW, pack=pack).allowed


def test_a_loan_hold_does_not_touch_the_borrowers_other_loans() -> None:
    hold = Hold("dispute", "loan", "D2")
    assert decide(req(holds=(hold,)), [], NOW, pack=REGF).allowed
    assert decide(req(debt_id="D2", holds=(hold,)), [], NOW, pack=REGF).outcome == "deny"


# ---------------------------------------------------------------- opt-out, cease, workplace


@pytest.mark.parametrize("name", sorted(PACKS))
def test_opt_out_channel_by_action_never_leaks(name: str) -> None:
    pack = PACKS[name]
    for opted, (channel, action), party, purpose in itertools.product(
        sorted(CHANNELS), PAIRS, sorted(PARTIES), sorted(PURPOSES)
    ):
        r = req(
            channel=channel, action=action, party=party, purpose=purpose,
            unreachable=True, opt_outs=frozenset({opted}), person_id=f"{party}-1",
        )  # fmt: skip
        decision = decide(r, [], NOW, pack=pack)
        fired = any(f.kind == "opt_out" for f in decision.fired)
        if channel == opted and purpose != "service":  # a code the person just asked for
            assert fired and decision.outcome == "deny", (opted, channel, party, purpose)
        else:
            assert not fired


def test_cease_leaves_only_notices_under_reg_f() -> None:
    assert decide(req(cease=True), [], NOW, pack=REGF).outcome == "deny"
    notice = req(cease=True, purpose="notice", channel="letter", action="letter")
    assert decide(notice, [], NOW, pack=REGF).allowed


def test_cn_stops_a_third_party_who_asks_to_stop() -> None:
    contact = req(party="emergency_contact", purpose="locate", unreachable=True, cease=True)
    decision = decide(contact, [], NOW, pack=CN)
    assert decision.outcome == "deny" and "cn.stop-when-asked" in decision.rule_ids()


def test_not_at_work() -> None:
    for pack in PACKS.values():
        at_work = req(not_at_work=True, to_workplace=True)
        assert decide(at_work, [], NOW, pack=pack).outcome == "deny"
        assert decide(req(not_at_work=True), [], NOW, pack=pack).allowed


@settings(max_examples=300, deadline=None)
@given(
    pack_name=st.sampled_from(sorted(PACKS)),
    pair=st.sampled_from(PAIRS),
    purpose=st.sampled_from(sorted(PURPOSES)),
    holds=st.lists(
        st.tuples(
            st.sampled_from(sorted(HOLD_KINDS)),
            st.sampled_from(sorted(HOLD_SCOPES)),
            st.sampled_from(["D1", "D2"]),
            st.frozensets(st.sampled_from(sorted(CHANNELS)), max_size=2),
        ),
        max_size=3,
    ),
    opt_outs=st.frozensets(st.sampled_from(sorted(CHANNELS)), max_size=3),
)
def test_no_request_a_hold_or_opt_out_stops_is_ever_allowed(
    pack_name: str,
    pair: tuple[str, str],
    purpose: str,
    holds: list[tuple[str, str, str, frozenset[str]]],
    opt_outs: frozenset[str],
) -> None:
    pack = PACKS[pack_name]
    channel, action = pair
    built = tuple(
        Hold(kind, scope, debt if scope == "loan" else None, channels=chans)
        for kind, scope, debt, chans in holds
    )
    r = req(channel=channel, action=action, purpose=purpose, holds=built, opt_outs=opt_outs)
    decision = decide(r, [], NOW, pack=pack)
    stopped = any(
        h.covers("D1") and expected_stop(pack, h, channel, action, purpose) for h in built
    )
    if stopped or (channel in opt_outs and purpose != "service"):
        assert decision.outcome == "deny"


@pytest.mark.parametrize("name", sorted(PACKS))
def test_a_service_message_passes_holds_and_hours_unless_a_rule_names_it(name: str) -> None:
    """A sign-in code the person asked for is not a contact: no shipped rule names the
    ``service`` purpose, so neither a hold nor the night stops it; a rule that names it does."""
    import dataclasses

    from arrears.policy.model import Selector

    pack = PACKS[name]
    night = at(NY, 2026, 3, 10, 3, 0)
    r = req(channel="sms", action="sms", purpose="service", holds=(Hold("complaint"),))
    assert decide(r, [], night, pack=pack).outcome == "allow"
    hours = next(rule for rule in pack.rules if rule.kind == "contact_hours")
    named = dataclasses.replace(hours, applies=Selector(purposes=frozenset({"service"})))
    strict = dataclasses.replace(pack, rules=(named,))
    assert decide(r, [], night, pack=strict).outcome != "allow"
