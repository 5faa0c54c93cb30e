"""The monthly pack on a schedule: closing a day writes the month before it, once.

Issue 15 asks for a *scheduled* monthly pack. The one job an operator already schedules is
closing the day (``arrears run-day``, from cron or a timer), so the pack rides on it as a day
step (``collections.dayflow``) instead of needing a second timer somebody forgets: closing any
day D writes the pack of the calendar month before D, in every language of
:data:`reports.pack.LANGUAGES`, to :func:`pack_path` — unless that file is already there.

Why "the month before the day being closed" and "unless it is there":

* a pack is computed as of its month's last day (``params.month_params``) and reads nothing
  recorded after it, so the first day after the month can already write it, and writing it
  again later would give the same bytes (ReportLab's invariant mode) — there is nothing to
  redo, so an existing file is kept;
* a day run missed on the 1st (a holiday, a crash) still gets the pack on the next day it runs;
* re-running a day, or closing it twice, changes nothing (every day step must be idempotent).

The file is written to ``….partial`` and renamed, so a crash mid-write never leaves a file that
looks finished; the next day's close writes it again. A pack that fails (a report's bug, a full
disk) is logged and named in the step's line, and does not fail the day for the ledger, the
workflow and the outbox — it is retried on the next close. ``ARREARS_MONTHLY_PACK=0`` turns the
step off (the tests do, except the ones about it); ``arrears report pack --month`` still writes
any month by hand.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings

from arrears.reports.params import month_params

log = logging.getLogger(__name__)

#: Runs after the outbox (100) and the audit summary (95): the day's messages matter more.
ORDER = 110


def pack_path(month: str, language: str) -> Path:
    """Where the pack of ``month`` (``YYYY-MM``) in ``language`` is kept."""
    return Path(settings.DATA_DIR) / "reports" / f"pack-{month}-{language}.pdf"


def write_pack(
    month: str, language: str, *, out: Path | None = None, now: date | None = None
) -> tuple[Path, int, int]:
    """Write the pack of ``month`` in ``language`` (every registered report) to ``out`` or
    :func:`pack_path`, atomically; returns the path, the number of reports and the bytes.
    ``now`` is the date the month must have ended before (default: today)."""
    # imported here, not at start-up (the app registers :func:`step` then): the reports and
    # the PDF stack are for the day a pack is written
    from arrears.reports.base import in_order, load_all
    from arrears.reports.pack import build_pack

    params = month_params(month, now=now)
    specs = in_order(load_all().values())
    pdf = build_pack(specs, params, language)
    target = out or pack_path(month, language)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(pdf)
    partial.replace(target)
    return target, len(specs), len(pdf)


def month_before(day: date) -> str:
    """``YYYY-MM`` of the calendar month before ``day``'s."""
    return (day.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def step(day: date) -> str:
    """The day step: write the missing packs of the month before ``day``; one summary line."""
    month = month_before(day)
    if not getattr(settings, "ARREARS_MONTHLY_PACK", True):
        return f"{day}: monthly pack off (ARREARS_MONTHLY_PACK=0)"
    from arrears.reports.pack import LANGUAGES

    missing = [language for language in LANGUAGES if not pack_path(month, language).exists()]
    if not missing:
        return f"{day}: the {month} report pack is already written"
    written = []
    for language in missing:
        try:
            path, _reports, _size = write_pack(month, language, now=day)
        except Exception as error:  # the pack never stops the day; the next close retries it
            log.exception("the %s report pack (%s) failed", month, language)
            return (
                f"{day}: the {month} report pack ({language}) failed: "
                f"{type(error).__name__}; the next day's close retries it"
            )
        written.append(path.name)
    return f"{day}: wrote the {month} report pack: {', '.join(written)}"
