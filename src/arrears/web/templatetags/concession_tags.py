"""Template filters for the concession labels, for pages whose view hands the template plain
explain data (the loan explain page) rather than rows with labels already made."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def concession_label(value: str | None, kind: str) -> str:
    """``{{ w.component|concession_label:"component" }}`` → ``罚息`` / ``Penalty interest``."""
    # imported here: the system checks import every tag library before any command starts, and
    # the concession views bring the collections services, the workflow and Polars
    from arrears.web import concessions

    return concessions.label(kind, value or "")
