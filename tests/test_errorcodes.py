"""Service errors carry a stable code, parameters and a field, and read in both languages."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from django.utils import translation

import arrears
from arrears import errorcodes
from arrears.kernel.errors import ArrearsError
from arrears.kernel.money import Money


class _Refused(ArrearsError):
    code = "test-refused"


errorcodes.define({"test-over-limit": "%(amount)s is above the limit %(limit)s on %(day)s"})


def test_a_refusal_keeps_code_params_and_field_and_reads_in_english():
    error = errorcodes.refuse(
        _Refused,
        "test-over-limit",
        field="amount",
        amount=Money(15000, "CNY"),
        limit=Money(10000, "CNY"),
        day=__import__("datetime").date(2026, 6, 5),
    )
    assert error.code == "test-over-limit"
    assert error.field == "amount"
    assert error.params["amount"] == Money(15000, "CNY")
    assert str(error) == "amount: CN¥150.00 is above the limit CN¥100.00 on 2026-06-05"


def test_describe_formats_money_for_the_active_language():
    error = errorcodes.refuse(
        _Refused, "test-over-limit", amount=Money(15000, "CNY"), limit=Money(10000, "CNY"), day=1
    )
    with translation.override("zh-hans"):
        assert "¥150.00" in errorcodes.describe(error)
        assert "CN¥" not in errorcodes.describe(error)


def test_an_undefined_code_is_a_programming_error_not_a_silent_message():
    with pytest.raises(errorcodes.UnknownErrorCode, match="no-such-code"):
        errorcodes.refuse(_Refused, "no-such-code")


def test_a_code_cannot_be_defined_twice_with_different_words():
    with pytest.raises(ValueError, match="defined twice"):
        errorcodes.define({"test-over-limit": "something else %(amount)s"})


def test_an_error_without_a_catalogued_code_shows_its_own_text():
    assert errorcodes.describe(_Refused("plain words")) == "plain words"


def _import_every_module() -> None:
    for module in pkgutil.walk_packages(arrears.__path__, "arrears."):
        if ".migrations" in module.name or module.name.endswith(".spark"):
            continue
        importlib.import_module(module.name)


def test_every_code_the_services_use_has_a_chinese_translation():
    """Each catalogued message must exist in the zh-Hans catalogue, or a Chinese page would
    show English (the half-translated UI of issue 9)."""
    _import_every_module()
    missing = []
    with translation.override("zh-hans"):
        for code, template in errorcodes.codes().items():
            if code.startswith("test-"):
                continue
            if translation.gettext(template) == template:
                missing.append(f"{code}: {template}")
    assert not missing, "untranslated error messages:\n" + "\n".join(missing)
