"""The loan-state contract: every figure a loan's state publishes, declared once.

A loan's state on a date is computed by the kernel (:func:`arrears.kernel.state.state`) and by
the compiled engine, stored per day by the daily run (``daily.LoanState``), read into frames by
the workflow (``collections.frames``) and summed per borrower into the columns a strategy's
entry conditions name (``strategy.model.STATE_COLUMNS``). Each of those *derives* its columns
from :data:`LOAN_STATE` below — names, types, meaning — so a figure has one name everywhere and
adding one is a change here plus its computation. ``tests/kernel/test_contract.py`` fails when
any consumer drifts from it.

Field documentation follows the beancount convention: each field's meaning is written where it
is declared, and the kernel's :class:`~arrears.kernel.state.LoanState` docstring is generated
from it, so there is no second copy to keep in step.

Units: ``money`` is an ``int`` count of minor units (fen, cent) of the loan's currency, never a
float; ``days`` is an ``int`` count of calendar days; ``date`` a calendar date; ``text`` a
string; ``key`` an ``int`` identifier. This module is framework-free (the kernel imports no
Polars or Django); the engine maps the units to Arrow/Polars types in one place
(:mod:`arrears.engine.contract`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Unit(StrEnum):
    MONEY = "money"  # int minor units of the loan's currency
    DAYS = "days"  # int calendar days
    DATE = "date"
    TEXT = "text"
    KEY = "key"  # int identifier


class PerBorrower(StrEnum):
    """How a figure is summed up per borrower for the strategy (a borrower may hold loans)."""

    SUM = "sum"
    MAX = "max"
    WORST = "worst"  # the value of the borrower's loan with the highest dpd (ties: lowest id)


@dataclass(frozen=True, slots=True)
class Field:
    """One published figure of a loan's state.

    ``stored``: kept per loan and day in ``daily.LoanState`` (what lists, queues, reports and
    the workflow read without replaying). ``per_borrower``: offered to strategies as a
    borrower-level column under the same name, aggregated this way (``None``: not offered).
    ``nullable``: may be empty (``settled_on``, ``next_due_on``).
    """

    name: str
    unit: Unit
    doc: str
    stored: bool = False
    per_borrower: PerBorrower | None = None
    nullable: bool = False


#: The identifying columns of a state row (results files and frames carry them first).
KEYS: Final[tuple[Field, ...]] = (
    Field("loan_id", Unit.KEY, "the loan's identifier in the ledger (snapshot ``loan_id``)"),
    Field("ref", Unit.TEXT, "the loan's reference (借据号)"),
    Field("as_of", Unit.DATE, "the state is at the end of this day (business date)"),
)

#: Every figure of a loan's state, in the order results files and frames carry them.
LOAN_STATE: Final[tuple[Field, ...]] = (
    Field(
        "dpd",
        Unit.DAYS,
        "days past due (逾期天数) of the oldest instalment still unpaid above the product's "
        "tolerance; 0 when nothing is past due. Under an active repayment plan, the plan's.",
        stored=True,
        per_borrower=PerBorrower.MAX,
    ),
    Field(
        "bucket",
        Unit.TEXT,
        "delinquency bucket (M0, M1, … M7+) the dpd falls in, by the product's bucket table",
        stored=True,
        per_borrower=PerBorrower.WORST,
    ),
    Field(
        "overdue_principal",
        Unit.MONEY,
        "principal of instalments due before as_of and not yet paid or waived",
        stored=True,
        per_borrower=PerBorrower.SUM,
    ),
    Field(
        "overdue_interest",
        Unit.MONEY,
        "contract interest of instalments due before as_of and not yet paid or waived",
        stored=True,
        per_borrower=PerBorrower.SUM,
    ),
    Field(
        "penalty_outstanding",
        Unit.MONEY,
        "penalty interest (罚息) accrued on overdue principal and not yet paid or waived",
        stored=True,
        per_borrower=PerBorrower.SUM,
    ),
    Field(
        "compound_outstanding",
        Unit.MONEY,
        "compound interest (复利) accrued on overdue interest and not yet paid or waived",
        stored=True,
        per_borrower=PerBorrower.SUM,
    ),
    Field(
        "total_due",
        Unit.MONEY,
        "everything payable now: all components of instalments due on or before as_of, still "
        "outstanding; under an active repayment plan, the plan's arrears instead",
        stored=True,
        per_borrower=PerBorrower.SUM,
    ),
    Field(
        "principal_outstanding",
        Unit.MONEY,
        "principal not yet repaid or waived, due or not",
        stored=True,
        per_borrower=PerBorrower.SUM,
    ),
    Field(
        "accrued_interest",
        Unit.MONEY,
        "contract interest for the days already used of the current period (part of payoff)",
    ),
    Field(
        "payoff",
        Unit.MONEY,
        "what closes the loan today: total due by contract + principal not yet due + accrued "
        "interest − credit, never below 0",
        stored=True,
        per_borrower=PerBorrower.SUM,
    ),
    Field(
        "credit",
        Unit.MONEY,
        "money received and not yet applied (overpayment), held for the next instalment",
        stored=True,
    ),
    Field(
        "penalty_accrued",
        Unit.MONEY,
        "penalty interest accrued since the start, paid or not (before waivers)",
    ),
    Field(
        "compound_accrued",
        Unit.MONEY,
        "compound interest accrued since the start, paid or not (before waivers)",
    ),
    Field("paid_total", Unit.MONEY, "payments received up to as_of, net of reversals"),
    Field(
        "settled_on",
        Unit.DATE,
        "the day the loan was settled early from credit; empty otherwise",
        nullable=True,
    ),
    Field(
        "next_due_on",
        Unit.DATE,
        "the due date of the loan's first instalment due on or after as_of that still owes "
        "anything (its own schedule, not a plan's); empty when none does. The workflow's "
        "pre-due horizon (``days_to_due``) reads it from the stored state",
        stored=True,
        nullable=True,
    ),
)

FIELDS: Final[dict[str, Field]] = {f.name: f for f in (*KEYS, *LOAN_STATE)}
#: The figures ``daily.LoanState`` keeps per loan and day, in order.
STORED: Final[tuple[str, ...]] = tuple(f.name for f in LOAN_STATE if f.stored)
#: The figures strategies may name per borrower, in order.
PER_BORROWER: Final[tuple[Field, ...]] = tuple(f for f in LOAN_STATE if f.per_borrower)


def field(name: str) -> Field:
    """The declared field ``name`` (a ``KeyError`` names a figure nobody declared)."""
    return FIELDS[name]


def attributes_doc(fields: Iterable[Field] = LOAN_STATE) -> str:
    """An ``Attributes:`` docstring section for ``fields``, beancount style."""
    lines = ["Attributes:"]
    for f in fields:
        lines.append(f"  {f.name}: {f.unit.value}. {f.doc}")
    return "\n".join(lines)
