"""The strict renderer: variables are found exactly, missing ones are named, values are literal."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.notices.render import TemplateError, render, syntax_errors, variables

NAMES = st.from_regex(re.compile(r"[a-z_][a-z0-9_]{0,12}"), fullmatch=True)
LITERAL = st.text(alphabet=st.characters(blacklist_characters="$"), max_size=20)
VALUE = st.text(max_size=20)  # any text, including "$", "${x}" and CJK


def test_variables_are_the_braced_names() -> None:
    text = "【${lender_name}】${borrower_name}您好，应还${amount_due}，$$5 is a dollar"
    assert variables(text) == {"lender_name", "borrower_name", "amount_due"}


def test_render_substitutes_and_unescapes_dollars() -> None:
    out = render("Hi ${name}, pay $$${amount}.", {"name": "Ann", "amount": "12.00"})
    assert out == "Hi Ann, pay $12.00."


def test_missing_variable_is_named() -> None:
    with pytest.raises(TemplateError, match="missing template variable: agency_name") as err:
        render("已委托${agency_name}协助催收，应还${amount_due}", {"amount_due": "¥1.00"})
    assert err.value.variables == ("agency_name",)


def test_all_missing_variables_are_named_sorted() -> None:
    with pytest.raises(TemplateError) as err:
        render("${b} ${a} ${c}", {"c": "x"})
    assert err.value.variables == ("a", "b")
    assert "a, b" in str(err.value)


def test_values_must_be_text_so_money_is_formatted_first() -> None:
    from decimal import Decimal

    with pytest.raises(TemplateError, match=r"amount_due.*must be text"):
        render("${amount_due}", {"amount_due": Decimal("12.30")})  # type: ignore[dict-item]


@pytest.mark.parametrize("text", ["pay $5 now", "${", "${1abc}", "$name", "trailing $"])
def test_bad_placeholders_are_refused(text: str) -> None:
    assert syntax_errors(text)
    with pytest.raises(TemplateError, match="bad placeholder"):
        render(text, {"name": "x"})


def test_extra_context_is_ignored() -> None:
    assert render("${a}", {"a": "1", "unused": "2"}) == "1"


@given(st.lists(st.tuples(LITERAL, NAMES), max_size=6), LITERAL, st.data())
def test_render_is_literal_concatenation(
    parts: list[tuple[str, str]], tail: str, data: st.DataObject
) -> None:
    names = {name for _, name in parts}
    context = {name: data.draw(VALUE, label=name) for name in names}
    text = "".join(lit + "${" + name + "}" for lit, name in parts) + tail
    expected = "".join(lit + context[name] for lit, name in parts) + tail
    assert variables(text) == names
    assert render(text, context) == expected  # values containing ${x} are never expanded


@given(st.lists(st.tuples(LITERAL, NAMES), min_size=1, max_size=6), st.data())
def test_any_missing_variable_fails(parts: list[tuple[str, str]], data: st.DataObject) -> None:
    names = sorted({name for _, name in parts})
    dropped = data.draw(st.sampled_from(names))
    context = {name: "v" for name in names if name != dropped}
    text = "".join(lit + "${" + name + "}" for lit, name in parts)
    with pytest.raises(TemplateError) as err:
        render(text, context)
    assert err.value.variables == (dropped,)
