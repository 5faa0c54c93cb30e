"""``arrears visit eligibility CASE --as-of DATE [--json]``."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.fieldwork.conftest import Field


def _run(*args: str) -> str:
    out = StringIO()
    call_command("visit", *args, stdout=out)
    return out.getvalue()


def test_json_lists_every_condition_and_the_answer(field: Field) -> None:
    day = field.today.isoformat()
    answer = json.loads(_run("eligibility", str(field.case.pk), "--as-of", day, "--json"))
    assert answer["case"] == field.case.pk and answer["eligible"] is False
    assert answer["failing"] == ["unreachable_or_broken_promises"]
    names = [c["name"] for c in answer["conditions"]]
    assert names[:2] == ["dpd", "total_due"] and "holds_active" in names
    dpd = answer["conditions"][0]
    assert dpd["threshold"] == 90 and dpd["actual"] >= 90 and dpd["met"] is True
    field.break_promises()
    again = json.loads(_run("eligibility", str(field.case.pk), "--as-of", day, "--json"))
    assert again["eligible"] is True


def test_text_output_and_bad_input(field: Field) -> None:
    text = _run("eligibility", str(field.case.pk), "--as-of", field.today.isoformat())
    assert "NOT eligible" in text and "broken_promises: 0 >= 2: NOT met" in text
    with pytest.raises(CommandError, match="--as-of"):
        _run("eligibility", str(field.case.pk), "--as-of", "2026-13-01")
    with pytest.raises(CommandError, match="does not exist"):
        _run("eligibility", "999999", "--as-of", "2026-12-01")
