"""Engine names: the compiled engine is called what it is; the old name still works."""

import pytest

from arrears.engine import names


def test_the_old_name_maps_to_compiled_with_a_notice():
    assert names.canonical("polars") == "compiled"
    assert "deprecated" in (names.deprecation("polars") or "")


@pytest.mark.parametrize("name", ["compiled", "reference"])
def test_current_names_are_themselves_and_need_no_notice(name):
    assert names.canonical(name) == name
    assert names.deprecation(name) is None


def test_an_unknown_engine_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="unknown engine 'numpy': expected one of compiled, "):
        names.canonical("numpy")
