import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from arrears.ledger import services
from tests import factories


@pytest.fixture
def late_loan(db):
    return factories.loan("LATE", factories.borrower(), factories.product())


def test_explain_prints_each_penalty_period_as_a_formula(late_loan):
    out = StringIO()
    call_command("explain", "LATE", "--as-of", "2026-02-25", stdout=out)
    text = out.getvalue()
    assert "DPD 10, bucket M1" in text
    assert "10 days × 833.33 × 0.075% = 6.20" in text


def test_explain_json_carries_minor_units_and_decimal_strings(late_loan):
    services.record_payment(
        loan=late_loan,
        ref="P1",
        value_date=date(2026, 2, 20),
        amount_minor=10_000,
        currency="CNY",
    )
    out = StringIO()
    call_command("explain", "LATE", "--as-of", "2026-02-25", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["dpd"] == 10
    assert data["payments"][0]["allocated"][0] == {
        "seq": 1,
        "component": "penalty",
        "amount": {"amount": "3.10", "minor": 310},
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["NOPE", "--as-of", "2026-02-25"], "unknown loan 'NOPE'"),
        (["LATE", "--as-of", "2026-13-01"], "--as-of: '2026-13-01' is not a valid date"),
        (["LATE", "--as-of", "2025-01-01"], "before its start"),
    ],
)
def test_explain_rejects_bad_input_with_a_clear_message(late_loan, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("explain", *args)
