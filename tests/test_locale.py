"""The translation catalogue stays one catalogue: branches append to it in parallel (merged by
union, see ``.gitattributes``), so a msgid added twice would make ``msgfmt`` refuse it and the
compiled ``.mo`` silently stale."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

LOCALE = Path(__file__).resolve().parents[1] / "src/arrears/locale/zh_Hans/LC_MESSAGES"


def _keys(text: str) -> Counter[tuple[str, str]]:
    """(context, msgid) of every entry, read as text so duplicates are seen, not merged."""
    keys: Counter[tuple[str, str]] = Counter()
    context = ""
    for line in text.splitlines():
        if line.startswith("msgctxt "):
            context = line[8:]
        elif line.startswith("msgid "):
            keys[(context, line[6:])] += 1
            context = ""
    return keys


def test_no_message_is_defined_twice():
    counts = _keys((LOCALE / "django.po").read_text(encoding="utf-8"))
    twice = sorted(key for key, n in counts.items() if n > 1 and key[1] != '""')
    assert not twice


def test_the_compiled_catalogue_matches_the_source():
    with (LOCALE / "django.po").open("rb") as handle:
        source = read_po(handle)
    with (LOCALE / "django.mo").open("rb") as handle:
        compiled = read_mo(handle)
    missing = [
        m.id
        for m in source
        if m.id and m.string and not m.fuzzy and compiled.get(m.id, m.context) is None
    ]
    assert not missing[:5]
