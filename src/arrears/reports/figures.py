"""What the ledger reports share: one label per figure (the loan-state contract's names), the
roll states' names, exact rates and the month-end points a period is read at."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from arrears.reports.base import Column
from arrears.reports.states import CLOSED, WRITTEN_OFF

#: A column label per loan-state figure, under the contract's own name.
LABELS = {
    "dpd": pgettext_lazy("ledger report", "Days past due"),
    "bucket": _("Bucket"),
    "overdue_principal": _("Overdue principal"),
    "overdue_interest": _("Overdue interest"),
    "penalty_outstanding": pgettext_lazy("ledger report", "Penalty outstanding"),
    "compound_outstanding": pgettext_lazy("ledger report", "Compound interest outstanding"),
    "total_due": _("Total due"),
    "principal_outstanding": pgettext_lazy("ledger report", "Principal outstanding"),
    "payoff": _("Payoff"),
    "credit": pgettext_lazy("ledger report", "Credit"),
    "penalty_accrued": pgettext_lazy("ledger report", "Penalty accrued"),
    "compound_accrued": pgettext_lazy("ledger report", "Compound interest accrued"),
    "paid_total": _("Paid"),
}
STATE_LABELS = {
    CLOSED: pgettext_lazy("ledger report", "Closed (paid off)"),
    WRITTEN_OFF: _("Written off"),
}


def money(name: str) -> Column:
    return Column(name, LABELS[name], "money")


def state_label(name: str) -> str:
    """A roll state as shown: a bucket's own name (M1…), or closed / written off."""
    return str(STATE_LABELS.get(name, name))


def rate(part: int, whole: int) -> Decimal | None:
    """``part / whole`` as an exact fraction (``None`` without a denominator)."""
    return Decimal(part) / Decimal(whole) if whole else None


def month_end(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def points(start: date, end: date) -> list[date]:
    """The dates a period's month-over-month figures are read at: the day before ``start``
    (the opening), every month end in ``[start, end)``, and ``end``."""
    out = [start - timedelta(days=1)]
    day = month_end(start)
    while day < end:
        out.append(day)
        day = month_end(day + timedelta(days=1))
    out.append(end)
    return out
