"""``{% load report_tags %}{% if user|may_see_reports %}`` — the header's Reports link."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def may_see_reports(user: Any) -> bool:
    from arrears.reports.access import may_open

    return may_open(user)
