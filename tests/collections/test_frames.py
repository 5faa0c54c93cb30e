"""The workflow's loan frame (``collections.frames.loan_frame``): the stored states of a day
with ``days_to_due`` taken from each state's next due date, inside the pre-due horizon only."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from arrears.collections.frames import PRE_DUE_HORIZON, loan_frame
from arrears.daily.services import day_run
from arrears.ledger import models
from tests import factories

#: The first instalment of a loan the factory starts on 15 Jan falls due on 15 Feb.
DUE = date(2026, 2, 15)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("days_before", "expected"),
    [(0, 0), (3, 3), (PRE_DUE_HORIZON, PRE_DUE_HORIZON), (PRE_DUE_HORIZON + 1, None)],
)
def test_days_to_due_counts_to_the_stored_next_due_date_inside_the_horizon_only(
    days_before: int, expected: int | None
) -> None:
    owner = factories.borrower("B0")
    factories.loan("L0", owner, factories.product())
    as_of = DUE - timedelta(days=days_before)
    day_run(as_of=as_of, engine="reference")
    [row] = loan_frame(as_of).to_dicts()
    assert (row["borrower_id"], row["days_to_due"]) == (owner.pk, expected)
    [quiet] = loan_frame(as_of, next_due=False).to_dicts()
    assert quiet["days_to_due"] is None
    assert {k: v for k, v in quiet.items() if k != "days_to_due"} == {
        k: v for k, v in row.items() if k != "days_to_due"
    }


def test_borrowers_given_as_ids_or_as_a_subquery_read_the_same_states() -> None:
    product = factories.product()
    owners = [factories.borrower(f"B{n}") for n in range(3)]
    for n, owner in enumerate(owners):
        factories.loan(f"L{n}", owner, product)
    as_of = DUE - timedelta(days=2)
    day_run(as_of=as_of, engine="reference")
    chosen = [owners[0].pk, owners[2].pk]
    by_ids = loan_frame(as_of, chosen).sort("loan_id")
    by_query = loan_frame(as_of, models.Borrower.objects.filter(pk__in=chosen).values("pk")).sort(
        "loan_id"
    )
    assert by_ids.equals(by_query)
    assert sorted(by_ids["borrower_id"]) == chosen
    assert by_ids["days_to_due"].to_list() == [2, 2]
