"""`arrears check` validates the configured policy pack (issue 9, item 21)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from arrears.contact.checks import check_policy_pack
from arrears.policy import available_packs

PACKS = Path(__file__).resolve().parents[2] / "src" / "arrears" / "policy" / "packs"


def test_every_shipped_pack_passes_the_check() -> None:
    for name in available_packs():
        with override_settings(ARREARS_POLICY_PACK=name):
            assert check_policy_pack() == []
    out = StringIO()
    call_command("check", stdout=out)
    assert "no issues" in out.getvalue()


def test_a_broken_pack_file_is_a_check_error_naming_the_file_and_the_line(tmp_path: Path) -> None:
    text = (PACKS / "cn.yaml").read_text("utf-8")
    line = text.splitlines().index("      max: 3") + 1
    broken = tmp_path / "house.yaml"
    broken.write_text(text.replace("      max: 3\n", "      max: three\n", 1), "utf-8")
    with override_settings(ARREARS_POLICY_PACK=str(broken)):
        [error] = check_policy_pack()
        assert error.id == "arrears.E001"
        assert f"{broken}:{line}:" in error.msg and "expected an integer" in error.msg
        with pytest.raises(SystemCheckError, match=rf"house\.yaml:{line}:"):
            call_command("check")


def test_a_pack_that_is_neither_shipped_nor_a_file_is_a_check_error(tmp_path: Path) -> None:
    with override_settings(ARREARS_POLICY_PACK=str(tmp_path / "missing.yaml")):
        [error] = check_policy_pack()
    assert "missing.yaml" in error.msg and "not a shipped pack" in error.msg
