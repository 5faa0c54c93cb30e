"""Payment allocation (冲销顺序): the waterfall that splits one payment over what is owed.

Instalments are served oldest first; inside an instalment the product's component order decides
(default penalty → compound → interest → principal, as 民法典 art. 561 puts costs and interest
before principal; principal-first is available). The parts always sum to the payment: whatever
is left over is returned as the remainder, which the caller books as a credit balance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from arrears.kernel.terms import Component


@dataclass(frozen=True, slots=True)
class AllocationLine:
    """``amount`` of the payment went to ``component`` of the instalment numbered ``seq``."""

    seq: int
    component: Component
    amount: int


@dataclass(frozen=True, slots=True)
class Allocation:
    lines: tuple[AllocationLine, ...]
    remainder: int

    @property
    def allocated(self) -> int:
        return sum(line.amount for line in self.lines)


def allocate(
    amount: int,
    outstanding: Sequence[tuple[int, Mapping[Component, int]]],
    order: Sequence[Component],
) -> Allocation:
    """Split ``amount`` over ``outstanding`` — ``(seq, {component: owed})`` oldest first.

    Invariant (property-tested): ``allocated + remainder == amount`` and no line exceeds what
    was owed. Example (also a test): 100 against ``[(1, {penalty: 30, interest: 50,
    principal: 200})]`` penalty-first gives penalty 30, interest 50, principal 20, remainder 0.
    """
    if amount < 0:
        raise ValueError("cannot allocate a negative amount")
    left = amount
    lines: list[AllocationLine] = []
    for seq, owed in outstanding:
        for component in order:
            if left == 0:
                break
            due = owed.get(component, 0)
            if due <= 0:
                continue
            paid = min(due, left)
            lines.append(AllocationLine(seq, component, paid))
            left -= paid
        if left == 0:
            break
    return Allocation(tuple(lines), left)
