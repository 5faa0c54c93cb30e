"""Frozen value types of a strategy: stages in ladder order, treatments, cadences, variants,
how a stage's cases are allocated to collectors (分案) and the queue's priority weights.

A ``Strategy`` is pure data, built by ``arrears.strategy.loader`` from YAML (which validates it
with line numbers) and read by ``arrears.strategy.evaluate``. The dataclasses re-check the
invariants evaluation relies on, so a strategy built in code cannot break them either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

import polars as pl

from arrears.kernel.contract import PER_BORROWER, Unit
from arrears.kernel.errors import ArrearsError
from arrears.strategy.conditions import compile_condition

CHANNELS: Final[frozenset[str]] = frozenset(
    {"sms", "voice", "email", "letter", "in_app", "call_task", "placement", "visit_request"}
)
"""Every channel a treatment may use; ``visit_request`` asks for a field visit, never books one."""

LADDER: Final[tuple[str, ...]] = (
    "pre_due",
    "reminder",
    "internal",
    "external",
    "legal",
    "field_visit",
)
"""The canonical ladder: stages with these names keep this relative order; others go anywhere."""

REFERENCES: Final[frozenset[str]] = frozenset({"dpd", "stage_day"})
"""What a stage's cadence offsets count: ``dpd`` (days past due, negative before the due date) or
``stage_day`` (days since the case entered the stage, 0 on the day of entry)."""

_LEDGER_TYPES: Final[dict[Unit, type[pl.DataType]]] = {
    Unit.MONEY: pl.Int64,
    Unit.DAYS: pl.Int64,
    Unit.TEXT: pl.String,
}

STATE_COLUMNS: Final[dict[str, type[pl.DataType]]] = {
    # From the ledger state: the loan-state contract's per-borrower figures, under their
    # contract names (``arrears.kernel.contract``: dpd, bucket, total_due, overdue_principal,
    # overdue_interest, penalty_outstanding, compound_outstanding, principal_outstanding,
    # payoff), summed per borrower (dpd: the highest; bucket: the worst loan's). Amounts are
    # int minor units (e.g. fen); never floats.
    **{f.name: _LEDGER_TYPES[f.unit] for f in PER_BORROWER},
    "amount": pl.Int64,  # original principal of the borrower's loans in the case
    # From the case and its contact history.
    "broken_promises": pl.Int64,
    "promises_kept": pl.Int64,
    "days_since_contact": pl.Int64,  # days since the last right-party contact
    "unreachable_days": pl.Int64,  # days the borrower has been unreachable (失联) on every number
    "right_party_contacts": pl.Int64,
    "complaints_open": pl.Int64,
    "on_hold": pl.Boolean,
    "placed": pl.Boolean,  # currently placed with an external agency
    # Added for a collections strategy (documented in default.yaml):
    "days_to_due": pl.Int64,  # days until the next instalment falls due (pre-due reminders)
    "active_promise": pl.Boolean,  # a promise to pay (承诺还款) is pending
    "in_plan": pl.Boolean,  # the case follows an active repayment plan (分期协商)
    "disputes_open": pl.Int64,  # open disputes of the debt itself
    "loans_overdue": pl.Int64,  # number of the borrower's loans with dpd > 0
}
"""The columns an entry condition may name, with the dtype the loader type-checks it against."""


NUMERIC_COLUMNS: Final[frozenset[str]] = frozenset(
    name for name, dtype in STATE_COLUMNS.items() if dtype == pl.Int64
)
"""The state columns a priority weight may name: integer columns only (booleans and the bucket
name have no magnitude to weigh)."""

ALLOCATION_METHODS: Final[frozenset[str]] = frozenset({"round_robin", "capacity", "priority"})
"""How ``arrears.strategy.allocation.allocate`` hands out a team's cases; see that module."""

PLACEMENT_METHODS: Final[frozenset[str]] = frozenset(
    {"round_robin", "capacity", "weighted", "champion_challenger"}
)
"""How ``arrears.agencies.allocation`` chooses the agency a case is placed with (委外分案)."""


class StrategyError(ArrearsError):
    """A strategy document or a call on a strategy is wrong; the message names source and line."""

    code = "strategy-invalid"


@dataclass(frozen=True, slots=True)
class Cadence:
    """When a treatment repeats: on ``first``, then every ``every`` days, up to ``until`` inclusive.

    Offsets count on the stage's reference (see ``REFERENCES``). ``every=None`` means once.
    Example: "day 1, then every 3 days" is ``Cadence(1, 3, None)``, due on 1, 4, 7, ...
    """

    first: int
    every: int | None = None
    until: int | None = None

    def __post_init__(self) -> None:
        if self.every is not None and self.every < 1:
            raise StrategyError(f"cadence: every must be at least 1 day, got {self.every}")
        if self.until is not None and self.until < self.first:
            raise StrategyError(
                f"cadence: until ({self.until}) must not be before first ({self.first})"
            )

    def due_on(self, offset: int) -> bool:
        """True when the treatment is due on day ``offset`` of the stage's reference."""
        if offset < self.first or (self.until is not None and offset > self.until):
            return False
        if self.every is None:
            return offset == self.first
        return (offset - self.first) % self.every == 0


@dataclass(frozen=True, slots=True)
class Treatment:
    """One action of a stage: a channel, the template it uses, and when it is due."""

    channel: str
    template: str
    cadence: Cadence

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise StrategyError(f"treatment: unknown channel {self.channel!r}")


@dataclass(frozen=True, slots=True)
class Allocation:
    """How a stage's cases are handed to the owner team's collectors (分案).

    ``sticky_days`` protects a fresh assignment: a case stays with its collector while
    ``as_of < assigned_on + sticky_days`` (0 = no protection) unless the collector left the team,
    became unavailable or ``reallocate_on_bucket_change`` applies. After the window,
    ``round_robin`` and ``capacity`` keep the case where it is; ``priority`` re-ranks it with
    the unassigned cases (periodic rotation, 轮换分案). Details in ``arrears.strategy.allocation``.
    """

    method: str = "round_robin"
    sticky_days: int = 7
    reallocate_on_bucket_change: bool = True

    def __post_init__(self) -> None:
        if self.method not in ALLOCATION_METHODS:
            allowed = ", ".join(sorted(ALLOCATION_METHODS))
            raise StrategyError(f"allocation: unknown method {self.method!r} ({allowed})")
        if isinstance(self.sticky_days, bool) or self.sticky_days < 0:
            raise StrategyError(f"allocation: sticky_days must be >= 0, got {self.sticky_days}")


@dataclass(frozen=True, slots=True)
class Placement:
    """How a stage's cases are entrusted to external agencies (委外), read by
    ``arrears.agencies.placement``: which cases (``eligible``, a SQL boolean over the state
    columns like ``entry``), how the agency is chosen (``method``), for how long (``term_days``)
    and whether a case coming back at term end must go to a *different* agency.

    ``champion_challenger`` sends ``challenger_share`` percent of borrowers (a stable SplitMix64
    split of the borrower id) to the ``challenger`` agency and the rest to the ``champion``.
    """

    eligible: str = "true"
    method: str = "round_robin"
    term_days: int = 30
    replace_with_other_agency: bool = True
    champion: str = ""
    challenger: str = ""
    challenger_share: int = 0

    def __post_init__(self) -> None:
        if self.method not in PLACEMENT_METHODS:
            allowed = ", ".join(sorted(PLACEMENT_METHODS))
            raise StrategyError(f"placement: unknown method {self.method!r} ({allowed})")
        if isinstance(self.term_days, bool) or not 1 <= self.term_days <= 366:
            raise StrategyError(f"placement: term_days must be 1 to 366, got {self.term_days}")
        if self.method == "champion_challenger":
            if not self.champion or not self.challenger or self.champion == self.challenger:
                raise StrategyError("placement: champion and challenger must be two agency codes")
            if not 1 <= self.challenger_share <= 99:
                raise StrategyError(
                    f"placement: challenger_share must be 1 to 99, got {self.challenger_share}"
                )

    def condition(self) -> pl.Expr:
        """The eligibility condition as a flat Polars expression (``conditions``, never eval)."""
        return compile_condition(self.eligible)


@dataclass(frozen=True, slots=True)
class Stage:
    """A rung of the ladder: its SQL entry condition, the queue or team owning it, treatments,
    and how its cases go to collectors (``None``: not allocated to people, e.g. automated SMS)
    or are placed with agencies (``placement``; ``None``: never placed)."""

    name: str
    entry: str
    owner: str
    treatments: tuple[Treatment, ...] = ()
    reference: str = "dpd"
    allocation: Allocation | None = None
    placement: Placement | None = None

    def __post_init__(self) -> None:
        if self.reference not in REFERENCES:
            raise StrategyError(f"stage {self.name!r}: unknown reference {self.reference!r}")

    def condition(self) -> pl.Expr:
        """The entry condition as a flat Polars expression (``conditions``, never eval)."""
        return compile_condition(self.entry)


@dataclass(frozen=True, slots=True)
class Variant:
    """A champion/challenger arm receiving ``share`` percent of cases by a stable hash."""

    name: str
    share: int


def _no_weights() -> Mapping[str, int]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Strategy:
    """A named, versioned ladder; the stage assigned to a case is the last one whose entry holds.

    ``priority`` holds the queue's integer weights by numeric state column (empty: every case
    scores 0 and the queue falls back to case id order). It is stored read-only and left out of
    the hash (a mapping is not hashable) but not out of equality.
    """

    name: str
    version: int
    stages: tuple[Stage, ...]
    variants: tuple[Variant, ...] = (Variant("champion", 100),)
    priority: Mapping[str, int] = field(default_factory=_no_weights, hash=False)

    def __post_init__(self) -> None:
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise StrategyError(f"strategy {self.name!r}: duplicate stage names in {names}")
        if sum(v.share for v in self.variants) != 100:
            raise StrategyError(f"strategy {self.name!r}: variant shares must sum to 100")
        for column, weight in self.priority.items():
            if column not in NUMERIC_COLUMNS:
                raise StrategyError(
                    f"strategy {self.name!r}: priority: {column!r} is not a numeric state column"
                )
            if isinstance(weight, bool) or not isinstance(weight, int):
                raise StrategyError(
                    f"strategy {self.name!r}: priority: weight of {column!r} must be an integer"
                )
        object.__setattr__(self, "priority", MappingProxyType(dict(self.priority)))

    def stage(self, name: str) -> Stage:
        """The stage called ``name``; a missing one is a caller error."""
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise StrategyError(f"strategy {self.name!r} has no stage {name!r}")
