"""The gate's contract: a Decision for every valid input, deterministic, batch = sequential."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.policy import (
    ContactRecord,
    ContactRequest,
    Decision,
    Hold,
    PolicyError,
    decide,
    decide_many,
)
from arrears.policy.model import ACTIONS_BY_CHANNEL

from .factories import CN, DEFAULT, NY, PACKS, REGF, SH, at, call, req

NOW = at(NY, 2026, 3, 10, 10, 0)


def test_a_decision_carries_the_pack_the_rules_and_their_citations() -> None:
    decision = decide(req(request_id="r-7"), [], at(NY, 2026, 3, 10, 21, 0), pack=REGF)
    assert (decision.pack_name, decision.pack_version) == ("us-regf", REGF.version)
    assert decision.request_id == "r-7"
    assert decision.decided_at == at(NY, 2026, 3, 10, 21, 0)
    fired = decision.fired[0]
    assert fired.rule_id == "regf.inconvenient-time"
    assert "1006.6(b)(1)(i)" in fired.citation
    assert fired.confidence == "H"
    assert fired.description_en and fired.description_zh
    assert decision.next_allowed is not None
    assert decision.next_allowed.tzinfo is not None
    assert str(decision.next_allowed.tzinfo) == "America/New_York"  # the borrower's zone


def test_deny_wins_over_defer_and_every_reason_is_listed_in_pack_order() -> None:
    r = req(opt_outs=frozenset({"voice"}), holds=(Hold("complaint"),))
    decision = decide(r, [], at(NY, 2026, 3, 10, 22, 0), pack=REGF)
    assert decision.outcome == "deny" and decision.next_allowed is None
    assert decision.rule_ids() == ("regf.inconvenient-time", "regf.opt-out", "regf.holds")
    order = [rule.id for rule in REGF.rules]
    assert list(decision.rule_ids()) == sorted(decision.rule_ids(), key=order.index)


def test_decisions_are_deterministic() -> None:
    history = [call(at(NY, 2026, 3, 9 - i, 10, 0)) for i in range(7)]
    first = decide(req(), history, NOW, pack=REGF)
    assert all(decide(req(), list(reversed(history)), NOW, pack=REGF) == first for _ in range(3))


def test_malformed_input_raises_but_a_forbidden_contact_never_does() -> None:
    with pytest.raises(PolicyError, match="timezone-aware"):
        decide(req(), [], datetime(2026, 3, 10, 10, 0), pack=REGF)
    with pytest.raises(PolicyError, match="unknown channel 'fax'"):
        req(channel="fax")
    with pytest.raises(PolicyError, match="not carried by channel"):
        req(channel="sms", action="call")
    with pytest.raises(PolicyError, match="unknown time zone"):
        req(timezone="Mars/Olympus_Mons")
    with pytest.raises(PolicyError, match="needs the debt_id"):
        Hold("dispute", "loan")
    with pytest.raises(PolicyError, match="timezone-aware"):
        ContactRecord(datetime(2026, 3, 1), "voice", "call", "P1", "D1")
    with pytest.raises(PolicyError, match="pack must be a Pack"):
        decide(req(), [], NOW, pack="us-regf")  # type: ignore[arg-type]


def test_a_batch_counts_each_allowed_contact_against_the_next() -> None:
    texts = [req(channel="sms", action="sms", request_id=f"t{i}") for i in range(3)]
    decisions = decide_many(texts, [], NOW, pack=DEFAULT)
    assert [d.outcome for d in decisions] == ["allow", "defer", "defer"]
    assert decisions[1].next_allowed == at(NY, 2026, 3, 11, 9, 0)
    assert [d.request_id for d in decisions] == ["t0", "t1", "t2"]
    independent = decide_many(texts, [], NOW, pack=DEFAULT, count_allowed=False)
    assert [d.outcome for d in independent] == ["allow"] * 3


def test_cn_batch_stops_at_six_attempts_to_one_number() -> None:
    r = req(timezone="Asia/Shanghai", address="+86 138 0013 8000")
    decisions = decide_many([r] * 8, [], at(SH, 2026, 3, 10, 10, 0), pack=CN)
    assert [d.outcome for d in decisions] == ["allow"] * 6 + ["defer"] * 2


REQUEST = st.builds(
    lambda person, debt, pair, zone: ContactRequest(
        debt_id=debt,
        person_id=person,
        party="borrower",
        channel=pair[0],
        action=pair[1],
        timezone=zone,
        address=f"n-{person}",
    ),
    st.sampled_from(["P1", "P2", "P3"]),
    st.sampled_from(["D1", "D2"]),
    st.sampled_from([(c, a) for c, acts in ACTIONS_BY_CHANNEL.items() for a in sorted(acts)]),
    st.sampled_from(["America/New_York", "Asia/Shanghai", None]),
)


@settings(max_examples=60, deadline=None)
@given(
    pack_name=st.sampled_from(sorted(PACKS)),
    requests=st.lists(REQUEST, max_size=25),
    hour=st.integers(0, 23),
)
def test_decide_many_equals_deciding_in_order_against_a_growing_history(
    pack_name: str, requests: list[ContactRequest], hour: int
) -> None:
    pack = PACKS[pack_name]
    now = at(NY, 2026, 3, 10, hour, 0)
    batch = decide_many(requests, [], now, pack=pack)
    history: list[ContactRecord] = []
    expected: list[Decision] = []
    for r in requests:
        d = decide(r, history, now, pack=pack)
        expected.append(d)
        if d.allowed:
            history.append(
                ContactRecord(
                    now, r.channel, r.action, r.person_id, r.debt_id, r.address, answered=False
                )
            )
    assert batch == expected
