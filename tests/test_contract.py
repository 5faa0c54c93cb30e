"""The loan-state contract (``arrears.kernel.contract``) and every consumer derived from it.

Each test names one consumer; it fails when that consumer drifts — a figure renamed in one
place, a stored column added without declaring it, an order that no longer matches the
compiled replay's output columns.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from datetime import date
from pathlib import Path

import polars as pl

from arrears.collections import frames
from arrears.daily import engines
from arrears.daily.models import LoanState as StoredState
from arrears.engine import chunk, replay
from arrears.engine.batch import RESULT_COLUMNS
from arrears.engine.contract import POLARS_TYPES, RESULT_SCHEMA, STORED_SCHEMA
from arrears.kernel import contract, state
from arrears.kernel.contract import KEYS, LOAN_STATE, PER_BORROWER, STORED, Unit
from arrears.strategy.model import STATE_COLUMNS

SRC = Path(__file__).resolve().parents[1] / "src" / "arrears"
PYTHON_TYPES = {Unit.MONEY: int, Unit.DAYS: int, Unit.TEXT: str, Unit.DATE: date, Unit.KEY: int}


def test_names_are_unique_and_documented() -> None:
    names = [f.name for f in (*KEYS, *LOAN_STATE)]
    assert len(names) == len(set(names))
    assert all(f.doc.strip() for f in (*KEYS, *LOAN_STATE))
    assert all(f.per_borrower is None or f.stored for f in LOAN_STATE), (
        "a per-borrower figure is read from the stored state, so it must be stored"
    )


def test_the_kernel_state_has_every_figure_with_its_type_and_its_doc() -> None:
    hints = typing.get_type_hints(state.LoanState)
    fields = {f.name for f in dataclasses.fields(state.LoanState)}
    for f in LOAN_STATE:
        assert f.name in fields, f"kernel LoanState lacks {f.name}"
        expected = PYTHON_TYPES[f.unit]
        assert hints[f.name] == (expected | None if f.nullable else expected), f.name
        assert f"{f.name}: {f.unit.value}. {f.doc}" in (state.LoanState.__doc__ or "")


def test_the_engine_results_are_the_contract_in_order() -> None:
    assert list(RESULT_SCHEMA) == [f.name for f in (*KEYS, *LOAN_STATE)]
    assert chunk.RESULT_SCHEMA is RESULT_SCHEMA
    assert all(RESULT_SCHEMA[f.name] == POLARS_TYPES[f.unit] for f in (*KEYS, *LOAN_STATE))


def test_the_compiled_replay_writes_each_figure_in_its_declared_column() -> None:
    declared = {
        "dpd": replay.O_DPD,
        "overdue_principal": replay.O_OVERDUE_PRINCIPAL,
        "overdue_interest": replay.O_OVERDUE_INTEREST,
        "penalty_outstanding": replay.O_PENALTY,
        "compound_outstanding": replay.O_COMPOUND,
        "total_due": replay.O_TOTAL_DUE,
        "principal_outstanding": replay.O_PRINCIPAL_OUT,
        "accrued_interest": replay.O_ACCRUED,
        "payoff": replay.O_PAYOFF,
        "credit": replay.O_CREDIT,
        "penalty_accrued": replay.O_PENALTY_ACCRUED,
        "compound_accrued": replay.O_COMPOUND_ACCRUED,
        "paid_total": replay.O_PAID_TOTAL,
        "settled_on": replay.O_SETTLED_ON,
        "next_due_on": replay.O_NEXT_DUE_ON,
        "status": replay.O_STATUS,
    }
    assert len(RESULT_COLUMNS) == replay.NOUT
    assert {name: RESULT_COLUMNS.index(name) for name in RESULT_COLUMNS} == declared
    assert set(RESULT_COLUMNS) - {"status"} == {f.name for f in LOAN_STATE} - {"bucket"}


def test_the_stored_daily_state_is_the_contracts_stored_figures() -> None:
    columns = [
        f.name
        for f in StoredState._meta.concrete_fields
        # ``revision`` records which ledger rows the figures came from; it is not a figure
        if f.name not in {"id", "loan", "as_of", "revision"}
    ]
    assert columns == list(STORED)
    assert list(STORED_SCHEMA) == ["loan_id", *STORED]


def test_the_daily_runs_state_frame_derives_from_the_contract() -> None:
    assert list(engines.STATE_COLUMNS) == [
        "loan_id",
        *STORED,
        "previous_bucket",
        "previous_dpd",
    ]
    assert all(engines.STATE_COLUMNS[name] == STORED_SCHEMA[name] for name in STORED)


def test_the_strategy_columns_are_the_per_borrower_figures_with_the_engines_types() -> None:
    for f in PER_BORROWER:
        assert (
            pl.DataFrame(schema={f.name: STATE_COLUMNS[f.name]}).schema[f.name]
            == (POLARS_TYPES[f.unit])
        ), f.name


def test_the_workflows_borrower_frame_carries_every_per_borrower_figure() -> None:
    loans = pl.DataFrame(
        {
            "loan_id": [1, 2, 3],
            "borrower_id": [7, 7, 8],
            "currency": ["CNY"] * 3,
            "amount": [100, 200, 300],
            **{
                f.name: ["M1", "M3", "M0"] if f.unit is Unit.TEXT else [10, 70, 0]
                for f in PER_BORROWER
            },
            "days_to_due": [None, None, 3],
        },
        schema_overrides={f.name: STORED_SCHEMA[f.name] for f in PER_BORROWER},
    )
    people = frames.borrower_frame(loans)
    for f in PER_BORROWER:
        assert people.schema[f.name] == STORED_SCHEMA[f.name], f.name
    seven = people.row(0, named=True)
    assert seven["dpd"] == 70 and seven["bucket"] == "M3" and seven["total_due"] == 80
    assert set(STATE_COLUMNS) - set(people.columns) <= {
        name for name in STATE_COLUMNS if contract.FIELDS.get(name) is None
    }, "every ledger column a strategy names comes from the borrower frame"


OLD_NAMES = re.compile(
    r"\b(penalty|compound|total_due|overdue_principal|overdue_interest|"
    r"principal_outstanding|payoff|credit)_minor\b"
)


def test_no_consumer_of_the_daily_state_spells_an_old_name() -> None:
    """``penalty_minor`` and friends were ``daily.LoanState``'s names before the contract;
    the modules that read the stored state must use the contract's names (other models —
    a letter's amounts, a case's total — keep their own fields)."""
    readers = [
        SRC / "daily",
        SRC / "engine",
        SRC / "collections" / "frames.py",
        SRC / "strategy",
        SRC / "web" / "selectors.py",
        SRC / "web" / "templates" / "web" / "loans.html",
    ]
    found = []
    for root in readers:
        for path in [root] if root.is_file() else root.rglob("*"):
            if path.suffix not in {".py", ".html"} or "migrations" in path.parts:
                continue
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                if (
                    OLD_NAMES.search(line)
                    and "loan__principal" not in line
                    and "# Case field" not in line  # a case's own total, not the loan state
                ):
                    found.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)
