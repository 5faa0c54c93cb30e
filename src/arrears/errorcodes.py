"""Stable error codes, each with one message template, shown in the reader's language.

A service refuses with ``raise refuse(CollectionsError, "approval-own-request", user="ann")``:
the error keeps the code, its parameters and the form field it concerns, and its English text
(for logs, the command line and the API) is the template filled with the parameters. A page
shows :func:`describe`, the same template translated into the active language (the zh-Hans
catalogue under ``locale/``). There is one copy of each message; a view never parses
``str(error)`` to find the field or the reason.

Apps declare their codes with :func:`define` (``collections/errors.py`` and friends), next to
the error classes that carry them. Templates use ``%(name)s`` placeholders; parameters that
are :class:`~arrears.kernel.money.Money` or dates are formatted for the reader's locale.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import TypeVar

from django.utils.translation import get_language, gettext

from arrears.kernel.errors import ArrearsError
from arrears.kernel.money import Money

E = TypeVar("E", bound=ArrearsError)

_CATALOGUE: dict[str, str] = {}


class UnknownErrorCode(LookupError):
    """A programming error: a service refused with a code nobody defined."""


def define(messages: Mapping[str, str]) -> None:
    """Add codes to the catalogue; the same code with another template is a programming error."""
    for code, template in messages.items():
        known = _CATALOGUE.get(code)
        if known is not None and known != template:
            raise ValueError(f"error code {code!r} is defined twice with different messages")
        _CATALOGUE[code] = template


def template_of(code: str) -> str | None:
    """The English template of ``code`` (``None`` when it is not defined)."""
    return _CATALOGUE.get(code)


def codes() -> dict[str, str]:
    """Every defined code and its English template (for tests and documentation)."""
    return dict(_CATALOGUE)


def _show(value: object, locale: str) -> object:
    if isinstance(value, Money):
        from arrears.formatting import format_money

        return format_money(value, locale)
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(str(_show(v, locale)) for v in value)
    return value


def _fill(template: str, params: Mapping[str, object], locale: str) -> str:
    return template % {name: _show(value, locale) for name, value in params.items()}


def refuse(cls: type[E], code: str, *, field: str | None = None, **params: object) -> E:
    """An error of ``cls`` with ``code``, its ``params`` and the ``field`` it concerns.

    Returned, not raised, so the caller's ``raise`` stays visible. The English message is the
    template filled in; ``field`` (when given) prefixes it the way the command line shows it.
    """
    template = _CATALOGUE.get(code)
    if template is None:
        raise UnknownErrorCode(f"error code {code!r} is not defined (arrears.errorcodes.define)")
    text = _fill(template, params, "en")
    message = f"{field}: {text}" if field else text
    return cls(message, code=code, params=params, field=field)


def describe(error: ArrearsError) -> str:
    """``error`` in the active language: its code's template translated and filled in.

    An error without a catalogued code (a kernel error, say) falls back to its own text.
    """
    template = _CATALOGUE.get(error.code)
    if template is None:
        return str(error)
    locale = get_language() or "en"
    try:
        return _fill(gettext(template), error.params, locale)
    except (KeyError, TypeError, ValueError):
        return str(error)
