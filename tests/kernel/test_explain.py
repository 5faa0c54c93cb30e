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


def _payoff_sum(parts: dict) -> int:
    return sum(-v["minor"] if k == "credit" else v["minor"] for k, v in parts.items())


@settings(max_examples=60, deadline=None)
@given(loans_and_payments())
def test_the_payoff_parts_add_up_to_the_payoff(case):
    loan, payments, as_of = case
    data = explain(loan, state(loan, payments, as_of))
    totals = data["totals"]
    assert max(0, _payoff_sum(totals["payoff_parts"])) == totals["payoff"]["minor"]
    line = next(x for x in render_text(data).splitlines() if x.startswith("Payoff today"))
    assert ": ," not in line and ", ," not in line


def test_the_payoff_line_names_parts_that_add_up_and_a_prepayment_has_no_stray_comma():
    loan = make_loan()
    paid_ahead = Payment("P01", FIRST_DUE - timedelta(days=20), 50_000)  # nothing due yet
    day = FIRST_DUE + timedelta(days=40)  # the first instalment late, after the credit
    data = explain(loan, state(loan, [paid_ahead], day))
    text = render_text(data)
    [payment_line] = [x for x in text.splitlines() if "P01" in x]
    assert payment_line.endswith(": to credit 500.00")  # was "P01 500.00: , to credit 500.00"
    payoff_line = next(x for x in text.splitlines() if x.startswith("Payoff today"))
    parts = data["totals"]["payoff_parts"]
    assert parts["penalty"]["minor"] > 0 and parts["interest_due"]["minor"] > 0
    assert _payoff_sum(parts) == data["totals"]["payoff"]["minor"]
    for key, words in (("principal_outstanding", "principal outstanding"), ("penalty", "penalty")):
        assert f"{words} {parts[key]['amount']}" in payoff_line
    assert payoff_line.startswith(f"Payoff today: {data['totals']['payoff']['amount']} = ")
