"""Template filters that show exact money in the reader's language."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

from arrears.formatting import format_money
from arrears.kernel.money import Money

register = template.Library()


@register.filter
def money(minor: int | None, currency: str = "CNY") -> str:
    """``{{ row.total_due_minor|money:loan.currency }}`` → ``¥1,234.56``."""
    if minor is None:
        return ""
    return format_money(Money(int(minor), currency), get_language() or "zh-hans")
