"""The shipped message templates: one YAML file per (template code, locale).

A file is named ``<code>.<locale>.yaml`` and holds exactly ``code``, ``locale``, ``channel``,
``subject`` (empty for SMS and calls) and ``body``; the file name and the fields must agree, so a
copied file cannot silently shadow another template. Why data files and not Python strings: the
wording belongs to compliance and operations, who review it as text, and the data migration
loads the same files as the active version 1 of every template. No Django.
"""

from __future__ import annotations

from importlib import resources

import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the venv

from arrears.kernel.errors import ArrearsError
from arrears.notices.render import Template
from arrears.yamldoc import LOADER

_FIELDS = frozenset({"code", "locale", "channel", "subject", "body"})


class CatalogueError(ArrearsError):
    code = "notices-catalogue"


def _parse(name: str, text: str) -> Template:
    data = yaml.load(text, Loader=LOADER)  # safe: libyaml's safe loader (arrears.yamldoc)
    if not isinstance(data, dict):
        raise CatalogueError(f"{name}: expected a mapping of {', '.join(sorted(_FIELDS))}")
    keys = set(data)
    if keys != _FIELDS:
        missing, extra = sorted(_FIELDS - keys), sorted(keys - _FIELDS)
        raise CatalogueError(f"{name}: missing fields {missing}, unknown fields {extra}")
    for key in _FIELDS:
        if not isinstance(data[key], str):
            raise CatalogueError(f"{name}: {key} must be text")
    template = Template(
        code=data["code"],
        locale=data["locale"],
        channel=data["channel"],
        subject=data["subject"].strip(),
        body=data["body"].strip(),
    )
    expected = f"{template.code}.{template.locale}.yaml"
    if name != expected:
        raise CatalogueError(f"{name}: its code and locale say the file should be {expected}")
    return template


def load() -> tuple[Template, ...]:
    """Every shipped template, sorted by (code, locale)."""
    folder = resources.files(__name__)
    found = [
        _parse(entry.name, entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    ]
    return tuple(sorted(found, key=lambda t: (t.code, t.locale)))
