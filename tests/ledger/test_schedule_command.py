"""``arrears schedule``: a schedule from command-line terms, as a table or JSON, with no database,
and a CommandError naming the option for every bad input."""

from __future__ import annotations

import json
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

BASE = {
    "--principal": "10000.00",
    "--currency": "CNY",
    "--daily-rate": "0.0005",
    "--term": "12",
    "--method": "equal-instalment",
    "--start": "2026-01-15",
}


def argv(**changes: str | None) -> list[str]:
    """Command-line words from BASE, with options changed (``daily_rate="…"``) or dropped
    (``daily_rate=None``)."""
    options: dict[str, str | None] = dict(BASE)
    for name, value in changes.items():
        options["--" + name.replace("_", "-")] = value
    words: list[str] = []
    for option, value in options.items():
        if value is not None:
            words.append(f"{option}={value}")
    return words


def run(*words: str) -> str:
    out = StringIO()
    call_command("schedule", *words, stdout=out)
    return out.getvalue()


def run_json(*words: str) -> dict[str, Any]:
    return json.loads(run(*words, "--json"))


def fen(value: Decimal) -> int:
    return int(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100)


# --- output -----------------------------------------------------------------------------


def test_json_lists_every_instalment_with_exact_amounts_and_totals():
    data = run_json(*argv())

    assert (data["currency"], data["method"]) == ("CNY", "equal-instalment")
    rows = data["instalments"]
    assert len(rows) == 12
    assert rows[0] == {
        "seq": 1,
        "due_date": "2026-02-15",
        "period_start": "2026-01-15",
        "period_end": "2026-02-15",
        "principal": "766.80",
        "principal_minor": 76680,
        "interest": "150.00",
        "interest_minor": 15000,
        "total": "916.80",
        "total_minor": 91680,
    }
    assert all(row["total"] == "916.80" for row in rows[:-1])
    totals = data["totals"]
    assert totals["principal"] == "10000.00"
    assert totals["principal_minor"] == 1_000_000
    assert totals["interest_minor"] == sum(row["interest_minor"] for row in rows)
    assert totals["total_minor"] == sum(row["total_minor"] for row in rows)
    assert Decimal(totals["total"]) * 100 == totals["total_minor"]


def test_table_has_right_aligned_columns_and_a_totals_row():
    lines = run(*argv(method="equal-principal")).splitlines()
    table = lines[1:]
    header, first, last, total = table[0], table[2], table[-3], table[-1]

    assert header.split() == ["seq", "due", "date", "principal", "interest", "total"]
    assert first.split() == ["1", "2026-02-15", "833.33", "150.00", "983.33"]
    assert last.split()[:3] == ["12", "2027-01-15", "833.37"]
    assert total.split()[:2] == ["total", "10000.00"]
    assert len({len(line) for line in table}) == 1  # every line padded to the same width
    assert first.endswith("983.33") and header.endswith("total")


def test_annual_rate_on_30_360_gives_the_daily_rate_schedule():
    daily = run_json(*argv())
    annual = run_json(*argv(daily_rate=None, annual_rate="0.18"))
    assert annual["instalments"] == daily["instalments"]


def test_day_count_and_rounding_options_reach_the_kernel():
    data = run_json(
        *argv(method="interest-first", start="2026-01-01", day_count="actual/365", term="2")
    )
    # Jan 1 → Feb 1 is 31 days: 10000 × 0.05 % × 31 = 155.00; February's 28 days → 140.00.
    assert [row["interest_minor"] for row in data["instalments"]] == [15_500, 14_000]

    half_up = run_json(*argv(principal="0.26", term="4", method="equal-principal"))
    half_even = run_json(
        *argv(principal="0.26", term="4", method="equal-principal", rounding="half-even")
    )
    assert [r["principal_minor"] for r in half_up["instalments"]] == [7, 7, 7, 5]
    assert [r["principal_minor"] for r in half_even["instalments"]] == [6, 6, 6, 8]


def test_bullet_and_zero_decimal_currencies():
    data = run_json(*argv(currency="JPY", principal="1000000", method="bullet"))
    (only,) = data["instalments"]
    assert only["interest"] == "180000"  # 1,000,000 × 1.5 % × 12, no decimals for yen
    assert only["interest_minor"] == 180_000
    assert only["period_end"] == "2027-01-15"


def test_month_end_loans_fall_due_on_month_ends():
    data = run_json(*argv(start="2024-01-31", term="3"))
    assert [row["due_date"] for row in data["instalments"]] == [
        "2024-02-29",
        "2024-03-31",
        "2024-04-30",
    ]


def test_options_can_be_given_as_keywords():
    out = StringIO()
    call_command(
        "schedule",
        principal="10000.00",
        currency="cny",
        annual_rate="0.18",
        term=12,
        method="equal-instalment",
        start="2026-01-15",
        json=True,
        stdout=out,
    )
    assert json.loads(out.getvalue())["instalments"][0]["principal_minor"] == 76_680


def test_hand_check_of_the_equal_instalment_payment():
    r, n = Decimal("0.015"), 12
    payment = fen(Decimal(10000) * r * (1 + r) ** n / ((1 + r) ** n - 1))
    rows = run_json(*argv())["instalments"]
    assert rows[0]["total_minor"] == payment == 91_680


# --- calendars --------------------------------------------------------------------------


def test_china_calendar_moves_a_holiday_due_date_to_the_next_working_day():
    calendars = pytest.importorskip("arrears.calendars")
    data = run_json(*argv(calendar="cn", term="1"))
    (only,) = data["instalments"]
    # 2026-02-15 is a Sunday in the Spring Festival break; the default convention is following.
    expected = calendars.by_name("cn", range(2026, 2027)).following(date(2026, 2, 15))
    assert data["convention"] == "following"
    assert only["period_end"] == "2026-02-15"
    assert only["due_date"] == expected.isoformat()
    assert expected > date(2026, 2, 16)  # a holiday week, not just a weekend

    unshifted = run_json(*argv(calendar="cn", term="1", convention="none"))
    assert unshifted["instalments"][0]["due_date"] == "2026-02-15"


def test_us_calendar_knows_an_observed_federal_holiday():
    pytest.importorskip("arrears.calendars")
    # 2026-07-04 is a Saturday, observed Friday 2026-07-03.
    following = run_json(*argv(calendar="us", term="1", start="2026-06-04"))
    preceding = run_json(*argv(calendar="us", term="1", start="2026-06-04", convention="preceding"))
    assert following["instalments"][0]["due_date"] == "2026-07-06"
    assert preceding["instalments"][0]["due_date"] == "2026-07-02"


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"principal": "abc"}, r"--principal: 'abc' is not a number"),
        ({"principal": "-5"}, r"--principal: '-5' must be a positive amount"),
        ({"principal": "0"}, r"--principal: '0' must be a positive amount"),
        ({"principal": "1.005"}, r"--principal: '1.005' has more than 2 decimal places for CNY"),
        ({"currency": "JPY", "principal": "1.5"}, r"--principal: .*0 decimal places for JPY"),
        ({"start": "2026-02-30"}, r"--start: '2026-02-30' is not a valid date \(expected YYYY"),
        ({"start": "15/01/2026"}, r"--start: .*expected YYYY-MM-DD"),
        ({"term": "0"}, r"--term: '0' is not a term \(expected a whole number of months, 1–600"),
        ({"term": "601"}, r"--term: '601'"),
        ({"term": "twelve"}, r"--term: 'twelve'"),
        ({"annual_rate": "0.18"}, r"exactly one of --daily-rate .* or --annual-rate"),
        ({"daily_rate": None}, r"exactly one of --daily-rate .* or --annual-rate"),
        ({"daily_rate": "abc"}, r"--daily-rate: 'abc' is not a rate"),
        ({"daily_rate": "-0.0005"}, r"--daily-rate: '-0.0005' is not a rate .*non-negative"),
        ({"daily_rate": None, "annual_rate": "NaN"}, r"--annual-rate: 'NaN' is not a rate"),
        ({"method": "balloon"}, r"--method: 'balloon' is not a schedule method .*bullet"),
        ({"currency": "XYZ"}, r"--currency: 'XYZ' is not a known currency"),
        ({"day_count": "act/act"}, r"--day-count: 'act/act' is not a day count .*30/360"),
        ({"rounding": "nearest"}, r"--rounding: 'nearest' is not a rounding rule .*half-up"),
        ({"calendar": "uk"}, r"--calendar: 'uk' is not a known calendar .*none, cn, us"),
        ({"convention": "nearest"}, r"--convention: 'nearest' is not a business-day convention"),
        ({"principal": None}, r"--principal is required"),
        ({"start": None}, r"--start is required"),
    ],
)
def test_bad_input_is_a_command_error_naming_the_option(changes, message):
    with pytest.raises(CommandError, match=message):
        run(*argv(**changes))


def test_terms_the_kernel_cannot_amortise_are_a_command_error():
    with pytest.raises(CommandError, match=r"equal-instalment: instalment 1 would repay -"):
        run(*argv(daily_rate=None, annual_rate="0.18", term="360", day_count="actual/365"))


def test_negative_principal_is_refused_when_given_as_a_separate_word():
    with pytest.raises(CommandError, match=r"--principal: '-5'"):
        run("--principal", "-5", *argv(principal=None))
