"""Choosing the agency: each method is deterministic, integer-only and respects capacity."""

from __future__ import annotations

from arrears.agencies.allocation import Candidate, CaseToPlace, arm_of, choose, performance
from arrears.strategy.model import Placement as Rule


def _pool() -> list[Candidate]:
    return [
        Candidate(1, "alpha", live=5, free=5, score=1),
        Candidate(2, "beta", live=1, free=7, score=1),
    ]


def _cases(count: int, avoid: int | None = None) -> list[CaseToPlace]:
    return [CaseToPlace(n, 100 + n, avoid) for n in range(count)]


def test_round_robin_takes_turns_after_the_last_code_and_skips_full_agencies() -> None:
    pool = [*_pool(), Candidate(3, "gamma", live=0, free=1)]
    picks = choose(_cases(5), pool, Rule(method="round_robin"), last_code="alpha")
    # beta, gamma, alpha, beta, (gamma full) alpha
    assert [p.agency_id for p in picks] == [2, 3, 1, 2, 1]


def test_round_robin_never_returns_a_case_to_the_agency_it_must_avoid() -> None:
    picks = choose(_cases(3, avoid=2), _pool(), Rule(method="round_robin"))
    assert [p.agency_id for p in picks] == [1, 1, 1]


def test_capacity_goes_to_the_most_free_room_ties_to_the_lowest_code() -> None:
    picks = choose(_cases(4), _pool(), Rule(method="capacity"))
    # beta 7 free → 6 → 5 (tie with alpha's 5: alpha) → beta 5 > alpha 4
    assert [p.agency_id for p in picks] == [2, 2, 1, 2]


def test_weighted_follows_score_per_live_placement() -> None:
    pool = [
        Candidate(1, "alpha", live=0, free=100, score=300),
        Candidate(2, "beta", live=0, free=100, score=100),
    ]
    picks = choose(_cases(8), pool, Rule(method="weighted"))
    counts = [sum(1 for p in picks if p.agency_id == a) for a in (1, 2)]
    assert counts == [6, 2]  # 3:1, as the scores


def test_performance_is_100_plus_the_recovery_percent_capped() -> None:
    assert performance(0, 0) == 100
    assert performance(25_000, 100_000) == 125
    assert performance(999, 100_000) == 100  # whole percent, floored
    assert performance(300_000, 100_000) == 200


def test_champion_challenger_split_is_stable_and_by_share() -> None:
    arms = [arm_of(n, "default:placement", 20) for n in range(1, 2001)]
    assert arms == [arm_of(n, "default:placement", 20) for n in range(1, 2001)]
    assert 300 <= arms.count("challenger") <= 500  # ~20% of 2000


def test_champion_challenger_sends_each_arm_to_its_agency_and_swaps_to_avoid() -> None:
    rule = Rule(
        method="champion_challenger", champion="alpha", challenger="beta", challenger_share=50
    )
    cases = [CaseToPlace(n, n) for n in range(1, 41)]
    picks = choose(cases, _pool(), rule, salt="s")
    for pick in picks:
        assert (pick.agency_id == 2) == (pick.arm == "challenger")
    assert len(picks) == 12  # alpha 5 + beta 7 free: the rest wait, the split is not bent
    swapped = choose([CaseToPlace(1, 1, avoid=1), CaseToPlace(2, 2, avoid=2)], _pool(), rule)
    assert all(p.agency_id != c for p, c in zip(swapped, (1, 2), strict=True))
