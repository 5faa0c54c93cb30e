"""``arrears report``: any report on the command line, and the monthly PDF pack."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from arrears.reports.base import ReportSpec
from tests.reports.conftest import NAME

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("report", *args, stdout=out)
    return out.getvalue()


def test_list_names_every_registered_report(sample_report: ReportSpec) -> None:
    assert f"{NAME}" in _run("list") and "period" in _run("list")


def test_json_holds_the_result_exactly(sample_report: ReportSpec) -> None:
    data = json.loads(_run(NAME, "--as-of", "2026-11-30", "--format", "json"))
    assert data["params"] == {"as_of": "2026-11-30", "from": "2026-11-01", "to": "2026-11-30"}
    balances = data["tables"][0]
    assert [c["kind"] for c in balances["columns"]] == ["text", "text", "count", "money", "rate"]
    assert balances["rows"][0] == ["M0", "CNY", 10, 1234567, "0.5"]
    assert balances["rows"][2][4] is None


def test_the_table_format_shows_money_with_its_currency(sample_report: ReportSpec) -> None:
    text = _run(NAME, "--as-of", "2026-11-30")
    assert "CN¥12,345.67" in text and "50.00%" in text and "1234567" not in text
    zh = _run(NAME, "--as-of", "2026-11-30", "--language", "zh-hans")
    assert "¥12,345.67" in zh and "CN¥" not in zh


def test_csv_needs_a_table_when_there_are_several(sample_report: ReportSpec) -> None:
    with pytest.raises(CommandError, match="--table: balances, roll"):
        _run(NAME, "--as-of", "2026-11-30", "--format", "csv")
    rows = _run(NAME, "--as-of", "2026-11-30", "--format", "csv", "--table", "roll")
    assert rows.splitlines() == ["From,M0,M1", "M0,8,2", "M1,1,2"]


def test_bad_dates_and_unknown_reports_are_one_line(sample_report: ReportSpec) -> None:
    with pytest.raises(CommandError, match="2026-02-30 is not a date"):
        _run(NAME, "--as-of", "2026-02-30")
    with pytest.raises(CommandError, match="there is no report 'nope'"):
        _run("nope")


def test_the_pack_is_a_pdf_in_either_language_and_the_same_bytes_twice(
    sample_report: ReportSpec, tmp_path: Path
) -> None:
    from pypdf import PdfReader

    zh = tmp_path / "zh.pdf"
    message = _run("pack", "--month", "2026-11", "--out", str(zh))
    assert f"wrote {zh}" in message
    text = "".join(page.extract_text() for page in PdfReader(zh).pages)
    assert "2026-11 月度报表汇编" in text
    assert "¥12,345.67" in text and "50.00%" in text
    assert "start=2026-11-01 end=2026-11-30" in text  # computed over the whole month
    en = tmp_path / "en.pdf"
    _run("pack", "--month", "2026-11", "--language", "en", "--out", str(en))
    english = "".join(page.extract_text() for page in PdfReader(en).pages)
    assert "Monthly report pack 2026-11" in english and "CN¥12,345.67" in english
    again = tmp_path / "again.pdf"
    _run("pack", "--month", "2026-11", "--out", str(again))
    assert again.read_bytes() == zh.read_bytes()
    with pytest.raises(CommandError, match="outside"):
        _run("pack", "--month", "2026-12")  # not over yet (the suite's today is 2026-12-02)


def test_the_pack_goes_to_the_data_directory_by_default(
    sample_report: ReportSpec, settings, tmp_path: Path
) -> None:
    settings.DATA_DIR = tmp_path
    _run("pack", "--month", "2026-10", "--language", "en")
    assert (tmp_path / "reports" / "pack-2026-10-en.pdf").read_bytes().startswith(b"%PDF")


def test_report_variants_prints_the_registered_champion_challenger_report() -> None:
    lines = _run("variants", "--from", "2026-11-01", "--to", "2026-11-29").splitlines()
    assert lines[:2] == ["Champion and challenger", "as of 2026-12-02 (2026-11-01 – 2026-11-29)"]
    assert lines[lines.index("Arms") + 1].split()[:3] == ["Variant", "Cases", "opened"]
