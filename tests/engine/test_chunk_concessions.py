"""``compute_chunk`` with concession frames gives, for every loan, exactly the kernel's state
with those waivers and plans: the frames → kernel builder (``kernel_terms``) loses nothing."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.engine.chunk import compute_chunk
from arrears.engine.snapshot import empty_frame
from arrears.kernel.state import state
from arrears.kernel.terms import RepaymentPlan, Waiver
from tests.engine.test_frames import frames
from tests.kernel.test_concessions_oracle import concession_histories


def concession_frames(
    concessions: list[tuple[list[Waiver], list[RepaymentPlan]]],
) -> dict[str, pl.DataFrame]:
    """The waivers, plans and plan_instalments frames of a book (loan_id from 1, in order)."""
    waivers, plans, parts = [], [], []
    plan_id = 0
    for loan_id, (loan_waivers, loan_plans) in enumerate(concessions, start=1):
        for w in loan_waivers:
            waivers.append(
                (loan_id, w.ref, w.effective_on, w.component.value, w.amount, w.reversed_on)
            )
        for plan in loan_plans:
            plan_id += 1
            plans.append(
                (
                    loan_id,
                    plan_id,
                    plan.ref,
                    plan.effective_on,
                    plan.grace_days,
                    plan.tolerance,
                    plan.waive_rest,
                )
            )
            for seq, part in enumerate(plan.instalments, start=1):
                parts.append((loan_id, plan_id, seq, part.due_date, part.amount))
    rows = {"waivers": waivers, "plans": plans, "plan_instalments": parts}
    return {
        name: pl.DataFrame(rows[name], schema=empty_frame(name).schema, orient="row")
        for name in rows
    }


FIGURES = ("dpd", "bucket", "penalty_outstanding", "compound_outstanding", "total_due", "payoff")


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(concession_histories(), min_size=1, max_size=3))
def test_a_chunk_with_concessions_equals_the_kernel_for_every_loan(cases) -> None:
    book = [(loan, payments) for loan, payments, _, _, _ in cases]
    concessions = concession_frames([(w, p) for _, _, _, w, p in cases])
    as_ofs: set[date] = {as_of for _, _, dates, _, _ in cases for as_of in dates}
    for as_of in sorted(as_ofs):
        results, errors = compute_chunk(*frames(book), as_of, **concessions)
        assert len(errors) == 0
        rows = {row["loan_id"]: row for row in results.iter_rows(named=True)}
        for loan_id, (loan, payments, _, waivers, plans) in enumerate(cases, start=1):
            if as_of < loan.start:
                assert loan_id not in rows
                continue
            s = state(loan, payments, as_of, waivers=waivers, plans=plans)
            row = rows[loan_id]
            assert {f: row[f] for f in FIGURES} == {f: getattr(s, f) for f in FIGURES}
            assert (row["paid_total"], row["settled_on"]) == (s.paid_total, s.settled_on)
