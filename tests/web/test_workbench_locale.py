"""Every string of issue 13's workbench pages reads in Chinese too."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.pofile import read_po
from django.utils.translation.template import templatize

from arrears import errorcodes
from arrears.web import queueview, search

WEB = Path(__file__).resolve().parents[2] / "src" / "arrears" / "web"
PO = WEB.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
TEMPLATES = (
    "search.html",
    "today.html",
    "queue.html",
    "case.html",
    "base.html",
    "explain.html",
    "_contact_form.html",
    "_promise_form.html",
    "_case_activity.html",
    "_case_activity_swap.html",
    "_case_status.html",
)
MODULES = ("search.py", "today.py", "queueview.py")
CODES = (
    "search-too-short",
    "search-too-long",
    "queue-bad-choice",
    "queue-bad-number",
    "queue-bad-range",
    "saved-view-name",
    "saved-view-count",
)


def test_every_new_workbench_string_and_error_has_a_chinese_translation() -> None:
    assert search.MAX_LENGTH and queueview.MAX_DAYS  # the modules define their codes on import
    keywords = dict(DEFAULT_KEYWORDS, gettext_lazy=None)
    sources = [
        templatize((WEB / "templates" / "web" / name).read_text(encoding="utf-8"))
        for name in TEMPLATES
    ] + [(WEB / name).read_text(encoding="utf-8") for name in MODULES]
    with PO.open("rb") as handle:
        catalogue = read_po(handle)
    wanted: list[str] = []
    for source in sources:
        for _line, message, _comments, _context in extract(
            "python", io.BytesIO(source.encode()), keywords=keywords
        ):
            wanted.append(message[0] if isinstance(message, tuple) else message)
    wanted += [str(errorcodes.template_of(code)) for code in CODES]
    assert len(wanted) > 60
    missing = []
    for msgid in wanted:
        entry = catalogue.get(msgid)
        strings = entry.string if entry is not None else ""
        if not (all(strings) if isinstance(strings, tuple) else strings):
            missing.append(msgid)
    assert missing == []
