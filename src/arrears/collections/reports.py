"""Champion/challenger comparison: how each strategy variant's cases fared over a period.

Cases are attributed to the variant recorded on them (a stable hash of the borrower, so a case
never changes arm between versions). Figures are counts and :class:`Money` per currency (a
book in two currencies is never added up into one number); rates are exact fractions rendered
as percentages with one decimal, half-up, for display only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, Sum

from arrears.collections.models import Case, Promise, WorkItem
from arrears.formatting import format_money
from arrears.kernel.money import Money
from arrears.ledger.models import Payment


@dataclass(frozen=True, slots=True)
class VariantFigures:
    variant: str
    cases: int
    resolved: int
    cured: int
    paid_off: int
    promises: int
    kept: int
    broken: int
    collected: tuple[Money, ...]  # one per currency, by currency code
    work_items: int

    @staticmethod
    def rate(part: int, whole: int) -> str:
        if whole == 0:
            return "-"
        value = (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)
        return f"{value}%"

    @property
    def resolution_rate(self) -> str:
        return self.rate(self.resolved, self.cases)

    @property
    def kept_rate(self) -> str:
        return self.rate(self.kept, self.kept + self.broken)

    def collected_text(self, locale: str = "en") -> str:
        """What was collected, with its currency (``CN¥6,602.21``; ``-`` for nothing)."""
        return " + ".join(format_money(m, locale) for m in self.collected) or "-"


def compare_variants(first: date, last: date) -> list[VariantFigures]:
    """One row per variant for cases opened in [first, last]: outcomes up to today."""
    cases = Case.objects.filter(opened_on__gte=first, opened_on__lte=last).exclude(variant="")
    out = []
    for variant in sorted(set(cases.values_list("variant", flat=True))):
        mine = cases.filter(variant=variant)
        counts = mine.aggregate(
            cases=Count("id"),
            resolved=Count("id", filter=Q(status=Case.Status.RESOLVED)),
            cured=Count("id", filter=Q(resolution=Case.Resolution.CURED)),
            paid_off=Count("id", filter=Q(resolution=Case.Resolution.PAID)),
        )
        promises = Promise.objects.filter(case__in=mine).aggregate(
            promises=Count("id"),
            kept=Count("id", filter=Q(status=Promise.Status.KEPT)),
            broken=Count("id", filter=Q(status=Promise.Status.BROKEN)),
        )
        collected: dict[str, int] = {}
        for case in mine.only("borrower_id", "opened_on", "closed_on"):
            payments = Payment.objects.filter(
                loan__borrower_id=case.borrower_id,
                value_date__gte=case.opened_on,
                reversed_on__isnull=True,
            )
            if case.closed_on is not None:
                payments = payments.filter(value_date__lte=case.closed_on)
            for currency, amount in payments.values_list("currency").annotate(
                s=Sum("amount_minor")
            ):
                collected[currency] = collected.get(currency, 0) + int(amount or 0)
        out.append(
            VariantFigures(
                variant=variant,
                collected=tuple(Money(collected[c], c) for c in sorted(collected)),
                work_items=WorkItem.objects.filter(case__in=mine).count(),
                **counts,
                **promises,
            )
        )
    return out
