"""Which agency each case goes to (委外分案): pure decisions over plain values, no database.

``arrears.agencies.placement`` gathers the cases to place (in queue order) and the agencies that
may take cases today, then calls :func:`choose`. Every method is deterministic — the same inputs
give the same placements — and uses integers only:

* ``round_robin``: agencies in code order, starting after ``last_code`` (the agency of the last
  round-robin placement, persisted as that placement), skipping agencies at capacity;
* ``capacity``: the agency with the most free capacity, ties to the lowest code;
* ``weighted``: the agency with the highest ``score / (live + 1)``, compared by
  cross-multiplication, ties to the lowest code — so over time each agency's share of live
  placements follows its score (weight × performance, see :func:`performance`);
* ``champion_challenger``: a stable hash of the borrower id (SplitMix64, as the strategy's
  variants) sends ``challenger_share`` percent of borrowers to the challenger, the rest to the
  champion; a case that must avoid its arm's agency (re-placement) goes to the other arm, and a
  case whose agency is full or unavailable waits (the split is never bent to fill capacity).

A case's ``avoid`` agency (the one it was last placed with, when the stage asks for
re-placement with another agency) is never chosen; with no other agency free the case waits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from arrears.strategy.evaluate import _splitmix64
from arrears.strategy.model import Placement as PlacementRule

#: Performance without history: a new agency competes on its weight alone.
BASE_PERFORMANCE = 100


@dataclass(frozen=True, slots=True)
class CaseToPlace:
    case_id: int
    borrower_id: int
    avoid: int | None = None  # agency id the case must not go back to


@dataclass(slots=True)
class Candidate:
    """An agency that may take cases today; ``live`` and ``free`` change as cases are dealt."""

    agency_id: int
    code: str
    live: int
    free: int
    score: int = 1


@dataclass(frozen=True, slots=True)
class Pick:
    case_id: int
    agency_id: int
    arm: str = ""


def performance(recovered: int, due: int) -> int:
    """Weighted allocation's factor: 100 + the recovery rate in whole percent (capped at 100),
    from the agency's placements of the last 90 days; 100 with no history."""
    if due <= 0:
        return BASE_PERFORMANCE
    return BASE_PERFORMANCE + min(100, recovered * 100 // due)


def arm_of(borrower_id: int, salt: str, challenger_share: int) -> str:
    """``challenger`` for ``challenger_share`` percent of borrowers, else ``champion``: bucket
    ``SplitMix64(borrower_id XOR sha256(salt)[:8]) % 100`` below the share. Stable across
    library upgrades (fixed constants, no Python ``hash``)."""
    key = np.uint64(int.from_bytes(hashlib.sha256(salt.encode("utf-8")).digest()[:8], "big"))
    raw = np.array([borrower_id], dtype=np.int64).view(np.uint64)
    bucket = int(_splitmix64(raw ^ key)[0] % np.uint64(100))
    return "challenger" if bucket < challenger_share else "champion"


def choose(
    cases: Sequence[CaseToPlace],
    candidates: Sequence[Candidate],
    rule: PlacementRule,
    *,
    last_code: str = "",
    salt: str = "",
) -> list[Pick]:
    """The agency for each case (cases in queue order); a case with no agency is left out."""
    pool = sorted(candidates, key=lambda c: c.code)
    picks: list[Pick] = []
    pointer = next((i for i, c in enumerate(pool) if c.code > last_code), 0)
    for case in cases:
        open_ = [c for c in pool if c.free > 0 and c.agency_id != case.avoid]
        chosen: Candidate | None = None
        arm = ""
        if rule.method == "round_robin":
            for step in range(len(pool)):
                candidate = pool[(pointer + step) % len(pool)]
                if candidate in open_:
                    chosen = candidate
                    pointer = (pool.index(candidate) + 1) % len(pool)
                    break
        elif rule.method == "capacity":
            chosen = min(open_, key=lambda c: (-c.free, c.code), default=None)
        elif rule.method == "weighted":
            for candidate in open_:
                if chosen is None or candidate.score * (chosen.live + 1) > chosen.score * (
                    candidate.live + 1
                ):
                    chosen = candidate
        else:  # champion_challenger
            arm = arm_of(case.borrower_id, salt, rule.challenger_share)
            codes = {"champion": rule.champion, "challenger": rule.challenger}
            by_code = {c.code: c for c in pool}
            target = by_code.get(codes[arm])
            if target is not None and target.agency_id == case.avoid:
                arm = "challenger" if arm == "champion" else "champion"
                target = by_code.get(codes[arm])
            chosen = target if target is not None and target in open_ else None
        if chosen is None:
            continue
        chosen.live += 1
        chosen.free -= 1
        picks.append(Pick(case.case_id, chosen.agency_id, arm))
    return picks
