from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings

from arrears.kernel.explain import explain, percent, render_text
from arrears.kernel.state import state
from arrears.kernel.terms import Payment
from tests.kernel.factories import make_loan
from tests.kernel.test_state import FIRST_DUE, loans_and_payments


def test_percent_is_exact_and_plain():
    assert percent(Decimal("0.00075")) == "0.075%"
    assert percent(Decimal("0.0005")) == "0.05%"
    assert percent(Decimal("0.24")) == "24%"


def test_penalty_period_reads_as_a_hand_checkable_formula():
    loan = make_loan()
    data = explain(loan, state(loan, [], FIRST_DUE + timedelta(days=10)))
    [period] = data["instalments"][0]["penalty"]["periods"]
    assert period["formula"].startswith("10 days × 833.33 × 0.075% = 6.20")
    assert period["from"] == "2026-02-16" and period["to"] == "2026-02-25"
    text = render_text(data)
    assert "DPD 10, bucket M1" in text
    assert "10 days × 833.33 × 0.075% = 6.20" in text


def test_payments_show_where_every_fen_went():
    loan = make_loan()
    day = FIRST_DUE + timedelta(days=10)
    data = explain(loan, state(loan, [Payment("P1", day, 10_000)], day))
    [payment] = data["payments"]
    assert [(a["component"], a["amount"]["amount"]) for a in payment["allocated"]] == [
        ("penalty", "6.20"),
        ("interest", "93.80"),
    ]


@settings(max_examples=30, deadline=None)
@given(loans_and_payments())
def test_explained_penalty_periods_add_up_to_the_penalty(case):
    loan, payments, as_of = case
    data = explain(loan, state(loan, payments, as_of))
    for inst in data["instalments"]:
        for key in ("penalty", "compound"):
            periods = inst[key]["periods"]
            assert sum(p["amount"]["minor"] for p in periods) == inst[key]["due"]["minor"]
