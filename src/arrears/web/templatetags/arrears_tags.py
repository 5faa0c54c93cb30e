"""Template filters that show exact money, and the system's own words, in the reader's language.

Stored values stay the stable English codes (``overdue``, ``suppressed``, ``half-up``); these
filters are the one place a page turns them into words, so a Chinese page never shows a code
where a word belongs. An unknown value is shown as it is, never hidden.
"""

from __future__ import annotations

from django import template
from django.utils.functional import Promise
from django.utils.translation import get_language, pgettext_lazy

from arrears.formatting import format_money
from arrears.kernel.money import Money

register = template.Library()

#: kind → stored value → words (each with a context, so the same English word can have
#: another translation elsewhere: a "sent" message is 已发送, the "Sent" column 发送时间).
LABELS: dict[str, dict[str, Promise]] = {
    "message_status": {
        "queued": pgettext_lazy("message status", "queued"),
        "sending": pgettext_lazy("message status", "sending"),
        "sent": pgettext_lazy("message status", "sent"),
        "delivered": pgettext_lazy("message status", "delivered"),
        "failed": pgettext_lazy("message status", "failed"),
        "suppressed": pgettext_lazy("message status", "suppressed"),
        "uncertain": pgettext_lazy("message status", "uncertain"),
        "expired": pgettext_lazy("message status", "expired"),
    },
    "gate_outcome": {
        "allow": pgettext_lazy("gate outcome", "allowed"),
        "deny": pgettext_lazy("gate outcome", "denied"),
        "defer": pgettext_lazy("gate outcome", "deferred"),
    },
    "channel": {
        "sms": pgettext_lazy("channel", "SMS"),
        "voice": pgettext_lazy("channel", "robocall"),
        "email": pgettext_lazy("channel", "e-mail"),
        "letter": pgettext_lazy("channel", "letter"),
        "in_app": pgettext_lazy("channel", "in-app"),
    },
    "instalment_status": {
        "not_due": pgettext_lazy("instalment status", "not due"),
        "due": pgettext_lazy("instalment status", "due today"),
        "overdue": pgettext_lazy("instalment status", "overdue"),
        "paid": pgettext_lazy("instalment status", "paid"),
    },
    "rounding": {
        "half-up": pgettext_lazy("rounding", "half up"),
        "half-even": pgettext_lazy("rounding", "half to even"),
        "down": pgettext_lazy("rounding", "down (truncated)"),
        "up": pgettext_lazy("rounding", "up"),
    },
    "accrual_rounding": {
        "daily": pgettext_lazy("rounding", "rounded per day"),
        "period": pgettext_lazy("rounding", "rounded per period"),
        # ``period`` under a cost cap (kernel.accrual.RunningTotalAccrual)
        "running": pgettext_lazy("rounding", "running total rounded once"),
    },
    "payoff_part": {
        "principal_outstanding": pgettext_lazy("payoff", "principal outstanding"),
        "interest_due": pgettext_lazy("payoff", "interest due"),
        "penalty": pgettext_lazy("payoff", "penalty"),
        "compound": pgettext_lazy("payoff", "compound interest"),
        "interest_for_days_used": pgettext_lazy("payoff", "interest for the days used"),
        "credit": pgettext_lazy("payoff", "credit"),
    },
}


@register.filter
def money(minor: int | None, currency: str = "CNY") -> str:
    """``{{ row.total_due_minor|money:loan.currency }}`` → ``¥1,234.56``."""
    if minor is None:
        return ""
    return format_money(Money(int(minor), currency), get_language() or "zh-hans")


@register.filter
def label(value: object, kind: str) -> str:
    """``{{ m.status|label:"message_status" }}`` → ``已抑制`` / ``suppressed``."""
    text = "" if value is None else str(value)
    return str(LABELS.get(kind, {}).get(text, text))
