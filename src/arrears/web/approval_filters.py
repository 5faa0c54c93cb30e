"""Filters of the approvals page (审批): kind, amount range and how long a request has waited.

They narrow what the page *lists*, nothing else: which items a user may see is still
:mod:`arrears.web.selectors`'s decision, and every approve, reject or reverse is still checked
by the services. A waiver's amount is its ``amount_minor``; a plan's is its concession (what
the lender gives up, ``concession_minor``) — the amount an approval limit is about. The amounts
typed are major units; each loan's currency turns them into its minor units exactly (the lower
bound rounded up, the upper bound rounded down, so a bound never admits an amount outside it).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from arrears import formfields
from arrears.kernel import limits
from arrears.kernel.money import exponent
from arrears.ledger.models import RepaymentPlan, Waiver


class ApprovalFilterForm(forms.Form):
    """The filter bar: every field optional; an invalid value is shown and ignored."""

    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        required=False,
        choices=[
            ("", gettext_lazy("Waivers and plans")),
            ("waiver", gettext_lazy("Waivers")),
            ("plan", gettext_lazy("Repayment plans")),
        ],
    )
    min_amount = formfields.BoundedDecimalField(
        label=gettext_lazy("Amount from"),
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(limits.MAX_AMOUNT_MINOR),
        decimal_places=4,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )
    max_amount = formfields.BoundedDecimalField(
        label=gettext_lazy("Amount up to"),
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(limits.MAX_AMOUNT_MINOR),
        decimal_places=4,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )
    min_days = formfields.BoundedIntegerField(
        label=gettext_lazy("Waiting at least (days)"), required=False, min_value=0, max_value=3650
    )


def _minor(amount: Decimal, currency: str, rounding: str) -> int:
    return int(amount.scaleb(exponent(currency)).to_integral_value(rounding=rounding))


def _amount_q(field: str, low: Decimal | None, high: Decimal | None, currencies: set[str]) -> Q:
    """``field`` (minor units of the loan's currency) between the typed bounds, per currency."""
    if low is None and high is None:
        return Q()
    either = Q(pk__in=[])
    for currency in currencies:
        part = Q(loan__currency=currency)
        if low is not None:
            part &= Q(**{f"{field}__gte": _minor(low, currency, ROUND_CEILING)})
        if high is not None:
            part &= Q(**{f"{field}__lte": _minor(high, currency, ROUND_FLOOR)})
        either |= part
    return either


def apply(
    params: Any, waivers: QuerySet[Waiver], plans: QuerySet[RepaymentPlan]
) -> tuple[QuerySet[Waiver], QuerySet[RepaymentPlan], ApprovalFilterForm]:
    """``waivers`` and ``plans`` narrowed by the filters in ``params`` (the query string), and
    the bound form to show them (unfiltered when the form is invalid: the errors say why)."""
    form = ApprovalFilterForm(params or None)
    if not params or not form.is_valid():
        return waivers, plans, form
    data = form.cleaned_data
    if data["kind"] == "waiver":
        plans = plans.none()
    elif data["kind"] == "plan":
        waivers = waivers.none()
    low, high = data["min_amount"], data["max_amount"]
    if low is not None or high is not None:
        currencies = set(waivers.values_list("loan__currency", flat=True).distinct()) | set(
            plans.values_list("loan__currency", flat=True).distinct()
        )
        waivers = waivers.filter(_amount_q("amount_minor", low, high, currencies))
        plans = plans.filter(_amount_q("concession_minor", low, high, currencies))
    if data["min_days"]:
        cutoff = timezone.now() - timedelta(days=data["min_days"])
        waivers = waivers.filter(created_at__lte=cutoff)
        plans = plans.filter(created_at__lte=cutoff)
    return waivers, plans, form
