"""The scheduled monthly pack (issue 15, item 3): closing a day writes the month before it in
both languages, once; a failure never stops the day and is retried on the next close."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from arrears.collections import dayflow
from arrears.reports import base, pack, schedule
from arrears.reports.base import ReportSpec
from arrears.reports.pack import LANGUAGES
from tests.reports.conftest import NAME

pytestmark = pytest.mark.django_db

FIRST = date(2026, 12, 1)


@pytest.fixture
def packs(settings, tmp_path: Path, sample_report: ReportSpec, monkeypatch) -> Path:
    """Packs on, into a fresh data directory, holding only the test report (the library's
    reports have tests of their own)."""
    settings.ARREARS_MONTHLY_PACK = True
    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(base, "load_all", lambda: {NAME: sample_report})
    return tmp_path / "reports"


def _files(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def test_closing_a_day_writes_the_month_before_in_both_languages_once(packs: Path) -> None:
    line = schedule.step(FIRST)
    expected = {f"pack-2026-11-{language}.pdf" for language in LANGUAGES}
    assert set(_files(packs)) == expected and "wrote the 2026-11 report pack" in line
    assert all(body.startswith(b"%PDF") for body, _ in _files(packs).values())
    before = _files(packs)
    # The next day and a re-run of the first: nothing rewritten.
    assert "already written" in schedule.step(date(2026, 12, 2))
    assert "already written" in schedule.step(FIRST)
    assert _files(packs) == before


def test_a_missing_language_alone_is_written_again(packs: Path) -> None:
    schedule.step(FIRST)
    kept = _files(packs)["pack-2026-11-en.pdf"]
    (packs / "pack-2026-11-zh-hans.pdf").unlink()
    assert "pack-2026-11-zh-hans.pdf" in schedule.step(date(2026, 12, 3))
    assert _files(packs)["pack-2026-11-en.pdf"] == kept
    assert set(_files(packs)) == {"pack-2026-11-en.pdf", "pack-2026-11-zh-hans.pdf"}


def test_a_failing_pack_does_not_stop_the_day_and_the_next_close_writes_it(
    packs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> bytes:
        raise OSError("No space left on device")

    monkeypatch.setattr(pack, "build_pack", broken)
    line = schedule.step(FIRST)
    assert "failed: OSError" in line and "retries" in line
    assert not packs.exists() or not any(packs.iterdir())  # no half-written file
    monkeypatch.undo()
    monkeypatch.setattr(base, "load_all", lambda: {})
    assert "wrote the 2026-11 report pack" in schedule.step(date(2026, 12, 2))


def test_the_pack_is_off_when_the_operator_says_so(packs: Path, settings) -> None:
    settings.ARREARS_MONTHLY_PACK = False
    assert "off" in schedule.step(FIRST) and not packs.exists()


def test_the_pack_is_a_day_step_after_the_outbox(packs: Path) -> None:
    names = [registered.name for registered in dayflow.steps()]
    assert names[-1] == "report-pack" and names.index("outbox") < names.index("report-pack")
    lines = dayflow.run(FIRST)
    assert "wrote the 2026-11 report pack" in lines[-1]
    assert (packs / "pack-2026-11-zh-hans.pdf").exists()


def test_the_month_before_crosses_the_year() -> None:
    assert schedule.month_before(date(2027, 1, 1)) == "2026-12"
    assert schedule.month_before(date(2026, 3, 31)) == "2026-02"
