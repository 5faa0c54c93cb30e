"""Building a context: money formatted per locale, dates as text, typos refused."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.formatting import format_money
from arrears.kernel.money import Money
from arrears.notices import context as ctx

BASE = {
    "lender_name": "演示消费金融",
    "verification_code": "000111",
    "repayment_channels": "官方App",
    "complaint_channel": "投诉热线95000转9",
}


def test_money_and_dates_become_text() -> None:
    built = ctx.build_context(
        "en",
        amount_due=Money(356_780, "CNY"),
        penalty="CN¥0.00",
        as_of=datetime(2026, 2, 16, 9, 5),
        due_date=date(2026, 2, 18),
        plan_instalments=6,
        agency_name=None,
        **BASE,
    )
    assert built["amount_due"] == "CN¥3,567.80"
    assert built["penalty"] == "CN¥0.00"
    assert built["as_of"] == "2026-02-16 09:05"
    assert built["due_date"] == "2026-02-18"
    assert built["plan_instalments"] == "6"
    assert "agency_name" not in built and "borrower_name" not in built
    assert all(isinstance(v, str) for v in built.values())


def test_an_undocumented_variable_is_refused() -> None:
    with pytest.raises(TypeError, match="agency"):
        ctx.build_context("en", amount_due="1", penalty="0", as_of="now", agency="X", **BASE)  # type: ignore[arg-type]


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        ctx.build_context("en", amount_due=12.5, penalty="0", as_of="now", **BASE)  # type: ignore[arg-type]


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(ctx.LOCALES))
def test_amounts_are_exactly_the_formatted_money(minor: int, locale: str) -> None:
    built = ctx.build_context(
        locale, amount_due=Money(minor, "CNY"), penalty=Money(0, "CNY"), as_of="x", **BASE
    )
    assert built["amount_due"] == format_money(Money(minor, "CNY"), locale)


def test_every_variable_has_both_samples_and_descriptions() -> None:
    for variable in ctx.VARIABLES.values():
        assert variable.en and variable.zh and variable.sample_en and variable.sample_zh
    for spec in ctx.SPECS.values():
        assert spec.required <= set(ctx.VARIABLES)
        assert spec.channel in ctx.CHANNELS


def test_gate_facts_use_the_packs_names() -> None:
    facts = ctx.gate_facts({**BASE, "amount_due": "¥1.00", "penalty": "¥0.00"})
    assert facts["repayment_channel"] == "官方App"
    assert set(facts) == {
        "lender_name",
        "amount_due",
        "penalty",
        "repayment_channel",
        "complaint_channel",
        "verification_code",
    }
